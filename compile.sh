#!/usr/bin/env bash
# Builds the single `fumi` executable.
#
#   bash compile.sh [--target TRIPLE]... [--all-targets] [--output PATH] [--no-check]
#   FUMI_TARGETS="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu" bash compile.sh
#
# Without a target it builds for this machine, to dist/fumi (or PATH). With targets, each goes to
# dist/fumi-TRIPLE. --all-targets: Linux x86_64 and aarch64, macOS x86_64 and aarch64 (Fumi
# needs unix sockets and file modes, so Windows is not a target).
#
# Permissions: exactly those of `deno task fumi`, read from deno.json's "fumi" task, so the
# binary, `deno task fumi` and `deno task start` (which runs the fumi task) cannot drift apart;
# tests/permissions_test.ts checks all three. Why each flag is there: README.md, "Permissions".
# Embedded: static/ and migrations/, and dist/build_info.json (version, commit, build date),
# which `fumi version` prints.
#
# `deno compile` needs Deno's runtime, denort, for each target, and downloads it on first use
# from Deno's own server. Where that server is unreachable, set DENORT_BIN to a denort binary
# of this Deno version for the one target being built.
set -euo pipefail
cd "$(dirname "$0")"

ALL_TARGETS="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"

fail() {
  echo "compile.sh: $1" >&2
  exit "${2:-1}"
}

targets=()
out=""
check=()
read -r -a env_targets <<<"${FUMI_TARGETS:-}"
targets+=("${env_targets[@]}")
while [ "$#" -gt 0 ]; do
  case "$1" in
  --target)
    [ "$#" -ge 2 ] || fail "--target needs a target triple, one of: $ALL_TARGETS" 2
    targets+=("$2")
    shift 2
    ;;
  --target=*)
    targets+=("${1#--target=}")
    shift
    ;;
  --all-targets)
    read -r -a all <<<"$ALL_TARGETS"
    targets+=("${all[@]}")
    shift
    ;;
  --output)
    [ "$#" -ge 2 ] || fail "--output needs a path" 2
    out="$2"
    shift 2
    ;;
  --no-check)
    check=(--no-check)
    shift
    ;;
  -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  -*) fail "unknown option \"$1\"; see bash compile.sh --help" 2 ;;
  *)
    out="$1"
    shift
    ;;
  esac
done

for target in "${targets[@]}"; do
  case " $ALL_TARGETS " in
  *" $target "*) ;;
  *) fail "unknown target \"$target\"; Fumi builds for: $ALL_TARGETS" 2 ;;
  esac
done
if [ "${#targets[@]}" -gt 1 ] && [ -n "$out" ]; then
  fail "--output names one file; with several targets each goes to dist/fumi-TRIPLE" 2
fi

command -v deno >/dev/null 2>&1 || fail "deno is not on PATH" 2
deno_version=$(deno --version | head -n1 | cut -d' ' -f2)

if [ -n "${DENORT_BIN:-}" ]; then
  [ -f "$DENORT_BIN" ] && [ -x "$DENORT_BIN" ] ||
    fail "DENORT_BIN=$DENORT_BIN is not an executable file" 2
  # One denort runs one platform: it cannot serve several targets in one build.
  [ "${#targets[@]}" -le 1 ] ||
    fail "DENORT_BIN is one runtime for one platform; build one --target at a time" 2
fi

# The permission flags: the words of deno.json's "fumi" task between "deno run" and "main.ts".
flags=$(deno eval --quiet 'const t = JSON.parse(Deno.readTextFileSync("deno.json")).tasks.fumi;
  const m = /^deno run (.+) main\.ts$/.exec(t);
  if (!m) { console.error(`unexpected "fumi" task in deno.json: ${t}`); Deno.exit(1); }
  console.log(m[1]);') || fail "cannot read the permission flags from deno.json's \"fumi\" task" 2
read -r -a permission_flags <<<"$flags"

# The build stamp `fumi version` prints: embedded, then removed from the work tree.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
mkdir -p dist
# One build at a time in this checkout: the stamp is one file, and another run would overwrite it,
# or its exit trap remove it, while this run's deno compile is including it. The lock is the open
# file descriptor 9, released when this script exits, however it exits.
command -v flock >/dev/null 2>&1 ||
  fail "flock is not on PATH (util-linux; on macOS: brew install flock)" 2
exec 9>dist/.compile.lock
flock 9 || fail "cannot lock dist/.compile.lock"
stamp=dist/build_info.json
trap 'rm -f "$stamp"' EXIT
printf '{"commit":"%s","date":"%s"}\n' "$commit" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stamp"

build() { # target (may be empty: this machine), output path
  local target=$1 output=$2 log
  local target_flags=()
  [ -n "$target" ] && target_flags=(--target "$target")
  mkdir -p "$(dirname "$output")"
  log=$(mktemp)
  if deno compile "${check[@]}" "${permission_flags[@]}" "${target_flags[@]}" \
    --include static --include migrations --include "$stamp" \
    --output "$output" main.ts 2>&1 | tee "$log"; then
    rm -f "$log"
    echo "Built $output${target:+ for $target}"
    return 0
  fi
  local what="${target:-this machine}"
  if grep -q -e "Setting up base binary" -e "denort" "$log"; then
    if [ -n "${DENORT_BIN:-}" ]; then
      echo "compile.sh: deno compile could not use DENORT_BIN=$DENORT_BIN as the runtime for $what." >&2
    else
      echo "compile.sh: deno compile could not download its runtime (denort $deno_version for $what)." >&2
      echo "  Set DENORT_BIN to a denort $deno_version binary for $what and run again." >&2
    fi
  else
    echo "compile.sh: deno compile failed for $what (see its message above)." >&2
  fi
  rm -f "$log"
  return 1
}

if [ "${#targets[@]}" -eq 0 ]; then
  build "" "${out:-dist/fumi}"
elif [ "${#targets[@]}" -eq 1 ]; then
  build "${targets[0]}" "${out:-dist/fumi-${targets[0]}}"
else
  failed=()
  for target in "${targets[@]}"; do
    build "$target" "dist/fumi-$target" || failed+=("$target")
  done
  [ "${#failed[@]}" -eq 0 ] || fail "not built: ${failed[*]}"
fi
