/**
 * compile.sh as far as this machine lets it go.
 *
 * `deno compile` writes its payload (the module graph, the embedded files and its metadata)
 * onto a runtime binary, denort, that it downloads from Deno's server. That server is not
 * reachable here (and the test sends its requests to a closed loopback port, so it does not even
 * try) and no denort is installed, so:
 * - without DENORT_BIN the download fails, and compile.sh must say so and what to do;
 * - with DENORT_BIN set to this deno executable as a stand-in base, `deno compile` runs to the
 *   end and writes a real payload. The result does not run as Fumi (deno is not denort), but
 *   its payload is what denort would load: here the listing deno printed and the bytes of the
 *   output are checked for every file of static/ and migrations/, the build stamp, and the
 *   permissions recorded in the metadata.
 * Not tested here: running a compiled binary, and cross-target builds (each needs its denort).
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { cleanEnv, freePort, REPO_ROOT, withTempDir } from "./cli.ts";

/**
 * Runs compile.sh. Its downloads go through a proxy on a closed loopback port: the test never
 * reaches (or resolves) Deno's server, and sees the failure it would see where that is blocked.
 */
async function compileSh(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const closed = freePort();
  const proxy = `http://127.0.0.1:${closed}`;
  const output = await new Deno.Command("bash", {
    args: ["compile.sh", ...args],
    cwd: REPO_ROOT,
    env: cleanEnv({
      NO_COLOR: "1",
      HTTPS_PROXY: proxy,
      https_proxy: proxy,
      HTTP_PROXY: proxy,
      http_proxy: proxy,
      ALL_PROXY: proxy,
      NO_PROXY: "",
      no_proxy: "",
      ...env,
    }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

/** Deno's metadata block: after the marker twice, a little-endian u64 length, then JSON. */
function metadata(binary: Uint8Array): Record<string, unknown> {
  const marker = new TextEncoder().encode("d3n0l4ndd3n0l4nd");
  const at = indexOf(binary, marker);
  assert(at >= 0, "no deno compile metadata in the output");
  const start = at + marker.length;
  const length = Number(
    new DataView(binary.buffer, binary.byteOffset + start, 8).getBigUint64(0, true),
  );
  return JSON.parse(new TextDecoder().decode(binary.subarray(start + 8, start + 8 + length)));
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i !== -1; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

async function filesOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${REPO_ROOT}/${dir}`)) {
    if (entry.isFile) names.push(`${dir}/${entry.name}`);
  }
  return names.sort();
}

Deno.test("compile.sh embeds static/, every migration and the build stamp, with the task's permissions", async () => {
  await withTempDir(async (tmp) => {
    const output = `${tmp}/fumi`;
    const result = await compileSh(["--no-check", "--output", output], {
      DENORT_BIN: Deno.execPath(),
    });
    assertEquals(result.code, 0, result.out);
    assertStringIncludes(result.out, `Built ${output}`);

    // The listing deno compile prints: static/ and migrations/ whole, and the stamp.
    const listing = result.out.slice(result.out.indexOf("Embedded Files"));
    assertMatch(listing, /^[├└]── migrations\/\* \(/m);
    assertMatch(listing, /^[├└]── static\/\* \(/m);
    // dist/build_info.json alone (dist/* when nothing else is in dist/; the lock is, see below)
    assertMatch(listing, /^[├└]── dist\/(\*|build_info\.json) \(/m);

    // Every file's bytes are in the payload (deno itself holds none of them).
    const binary = await Deno.readFile(output);
    const base = await Deno.readFile(Deno.execPath());
    const files = [...await filesOf("migrations"), ...await filesOf("static")];
    assert(files.filter((f) => f.endsWith(".sql")).length >= 13, files.join(" "));
    for (const file of files) {
      const bytes = await Deno.readFile(`${REPO_ROOT}/${file}`);
      assert(indexOf(binary, bytes) >= 0, `${file} is not embedded`);
      assertEquals(indexOf(base, bytes), -1, `${file} was in deno already`);
    }

    // The stamp `fumi version` prints: this commit, built just now; compile.sh removed it after.
    const stampAt = indexOf(binary, new TextEncoder().encode('{"commit":"'));
    assert(stampAt >= 0, "no build stamp in the payload");
    const stampText = new TextDecoder().decode(binary.subarray(stampAt, stampAt + 200));
    const stamp = JSON.parse(stampText.slice(0, stampText.indexOf("}") + 1));
    const head = new TextDecoder().decode(
      (await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd: REPO_ROOT }).output())
        .stdout,
    ).trim();
    assertMatch(stamp.commit, new RegExp(`^${head}(-dirty)?$`));
    assert(Math.abs(Date.parse(stamp.date) - Date.now()) < 10 * 60_000, stamp.date);
    await Deno.stat(`${REPO_ROOT}/dist/build_info.json`).then(
      () => assert(false, "dist/build_info.json was left behind"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );

    // The permissions the binary will run with: those of the fumi task, nothing else.
    const permissions = metadata(binary).permissions as Record<string, unknown>;
    assertEquals(permissions, {
      ...permissions,
      allow_net: [],
      allow_read: [],
      deny_read: [
        "/etc/shadow",
        "/etc/shadow-",
        "/etc/gshadow",
        "/etc/gshadow-",
        "/etc/sudoers",
        "/etc/sudoers.d",
        "/etc/ssh",
        "/root/.ssh",
        "/var/lib/systemd/credential.secret",
      ],
      allow_write: [],
      deny_write: [
        "/etc",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/boot",
        "/root/.ssh",
        "/var/lib/systemd",
      ],
      allow_env: ["FUMI_*", "PG*", "CREDENTIALS_DIRECTORY", "USER", "USERNAME", "CI"],
      allow_sys: ["hostname"],
      allow_run: null,
      allow_ffi: null,
      deny_import: [],
      prompt: false,
    });
  });
});

Deno.test("compile.sh says what failed: no runtime, a bad DENORT_BIN, bad targets", async (t) => {
  await t.step(
    "without DENORT_BIN and without Deno's server: names denort and DENORT_BIN",
    async () => {
      await withTempDir(async (tmp) => {
        const result = await compileSh(["--no-check", "--output", `${tmp}/fumi`]);
        if (result.code === 0) return; // denort was in Deno's cache already: nothing to download
        assertEquals(result.code, 1, result.out);
        assertStringIncludes(
          result.out,
          `compile.sh: deno compile could not download its runtime (denort ${Deno.version.deno} for this machine).`,
        );
        assertStringIncludes(result.out, `Set DENORT_BIN to a denort ${Deno.version.deno} binary`);
      });
    },
  );

  await t.step("every target is tried, and the ones not built are named", async () => {
    const result = await compileSh(["--no-check", "--all-targets"]);
    assertEquals(result.code, 1, result.out);
    for (const target of ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]) {
      assertStringIncludes(result.out, `denort ${Deno.version.deno} for ${target}`);
    }
    assertStringIncludes(
      result.out,
      "compile.sh: not built: x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin",
    );
  });

  await t.step("usage errors exit 2 with one line", async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [
        [],
        { DENORT_BIN: "/nonexistent/denort" },
        "DENORT_BIN=/nonexistent/denort is not an executable file",
      ],
      [
        ["--all-targets"],
        { DENORT_BIN: Deno.execPath() },
        "DENORT_BIN is one runtime for one platform; build one --target at a time",
      ],
      [["--target", "x86_64-pc-windows-msvc"], {}, 'unknown target "x86_64-pc-windows-msvc"'],
      [["--frobnicate"], {}, 'unknown option "--frobnicate"'],
    ];
    for (const [args, env, message] of cases) {
      const result = await compileSh(args, env);
      assertEquals(result.code, 2, result.out);
      assertStringIncludes(result.out, `compile.sh: ${message}`);
    }
  });
});

Deno.test("two compile.sh runs in one checkout take turns: each build embeds its own stamp", async () => {
  await withTempDir(async (tmp) => {
    // A `deno` first on PATH whose `compile` records the stamp it would embed, when it starts
    // and when it ends, in one shared log; run A waits (up to 3 s) for run B to record before it
    // ends, so runs that did not take turns show B inside A and A's stamp gone or replaced.
    const log = `${tmp}/log`;
    await Deno.writeTextFile(
      `${tmp}/deno`,
      [
        "#!/bin/sh",
        'if [ "$1" = compile ]; then',
        "  stamp() { cat dist/build_info.json 2>/dev/null || echo missing; }",
        `  echo "$RUN start $(stamp)" >> '${log}'`,
        '  if [ "$RUN" = A ]; then',
        "    i=0",
        `    while [ $i -lt 30 ] && ! grep -q '^B ' '${log}'; do sleep 0.1; i=$((i + 1)); done`,
        "  fi",
        `  echo "$RUN end $(stamp)" >> '${log}'`,
        "  exit 0",
        "fi",
        `exec '${Deno.execPath()}' "$@"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const start = (run: string) =>
      new Deno.Command("bash", {
        args: ["compile.sh", "--no-check", "--output", `${tmp}/fumi-${run}`],
        cwd: REPO_ROOT,
        env: cleanEnv({ RUN: run, PATH: `${tmp}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` }),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    const a = start("A");
    // B starts once A's deno compile is running.
    const deadline = Date.now() + 60_000;
    while (!(await Deno.readTextFile(log).catch(() => "")).startsWith("A start")) {
      assert(Date.now() < deadline, "run A never reached deno compile");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const b = start("B");
    const [ranA, ranB] = await Promise.all([a, b]);
    const decoder = new TextDecoder();
    assertEquals(ranA.code, 0, decoder.decode(ranA.stderr));
    assertEquals(ranB.code, 0, decoder.decode(ranB.stderr));
    const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
    assertEquals(lines.map((l) => l.split(" ").slice(0, 2).join(" ")), [
      "A start",
      "A end",
      "B start",
      "B end",
    ], lines.join("\n"));
    const stamps = lines.map((l) => l.split(" ").slice(2).join(" "));
    for (const stamp of stamps) assertMatch(stamp, /^\{"commit":"[0-9a-f]{40}(-dirty)?","date":/);
    assertEquals(stamps[0], stamps[1], "A's stamp changed while A was building");
    assertEquals(stamps[2], stamps[3]);
    await Deno.stat(`${REPO_ROOT}/dist/build_info.json`).then(
      () => assert(false, "dist/build_info.json was left behind"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );
  });
});
