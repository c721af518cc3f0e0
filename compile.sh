#!/usr/bin/env bash
# Builds the single `fumi` executable with exactly the permissions `deno task start` runs with
# (deno.json's "fumi" task): network; reading (npm packages, config, systemd credentials);
# writing (the data directory — the systemd unit narrows this to it); FUMI_* and libpq PG*
# variables; the host name. No subprocesses, no FFI. static/ and migrations/ are embedded.
#
# `deno compile` needs Deno's runtime, denort, which it downloads on first use from Deno's own
# host. Where that host is unreachable, set DENORT_BIN to a denort binary of the same version.
set -euo pipefail
cd "$(dirname "$0")"

out="${1:-dist/fumi}"
mkdir -p "$(dirname "$out")"

# The flags come from deno.json so that the binary and `deno task start` cannot drift apart.
flags=$(deno eval --quiet 'const t = JSON.parse(Deno.readTextFileSync("deno.json")).tasks.fumi;
  console.log(t.replace(/^deno run /, "").replace(/ main\.ts$/, ""))')

if [ -n "${DENORT_BIN:-}" ] && [ ! -x "$DENORT_BIN" ]; then
  echo "compile.sh: DENORT_BIN=$DENORT_BIN is not an executable file" >&2
  exit 2
fi

# shellcheck disable=SC2086 # $flags is a list of flags
if ! deno compile $flags --include static --include migrations --output "$out" main.ts; then
  if [ -z "${DENORT_BIN:-}" ]; then
    echo "compile.sh: deno compile failed; if it could not download its runtime (denort)," >&2
    echo "  set DENORT_BIN to a denort $(deno --version | head -1 | cut -d' ' -f2) binary and run again." >&2
  fi
  exit 1
fi
echo "Built $out"
