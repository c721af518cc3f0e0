/**
 * `fumi install` and `fumi uninstall`, for real, into temporary root directories: the system user
 * is created by useradd (`--prefix` keeps it in the root's /etc/passwd), the master key is
 * encrypted by systemd-creds (with its host key inside the root), files get their modes and
 * owners. The unit is checked by systemd itself (`systemd-analyze verify`, and
 * `systemd-analyze security --offline=true` for its exposure score). The dry run changes nothing,
 * and the script it prints, run by sh, builds the same tree as the install.
 *
 * Not possible here: starting the service (this container has no systemd as PID 1, so
 * `systemctl enable` and `restart` and the sandbox at run time are not exercised).
 *
 * @module
 */

import { runCli } from "../src/cli/main.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { cleanEnv, fakeIo, fumiTaskArgs, REPO_ROOT, withTempDir } from "./cli.ts";

const HOST = "mail.example.org";

async function fumiIn(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const io = fakeIo({ cwd: "/" });
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

async function run(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: REPO_ROOT,
    env: cleanEnv({ NO_COLOR: "1", ...options.env }),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

/**
 * A root with what a Debian host has for these steps: /etc's user databases with root in them,
 * systemd's own units (for `systemd-analyze verify --root`), and a stand-in `fumi` to install:
 * a script running this checkout's main.ts with the fumi task's permissions.
 */
async function newRoot(dir: string): Promise<{ root: string; binary: string }> {
  const root = `${dir}/root`;
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  for (
    const [file, mode] of [["passwd", 0o644], ["group", 0o644], ["shadow", 0o600], [
      "gshadow",
      0o600,
    ]] as const
  ) {
    const line = (await Deno.readTextFile(`/etc/${file}`)).split("\n").find((l) =>
      l.startsWith("root:")
    );
    await Deno.writeTextFile(`${root}/etc/${file}`, `${line}\n`, { mode });
  }
  const binary = `${dir}/fumi`;
  await Deno.writeTextFile(
    binary,
    `#!/bin/sh\nexec ${Deno.execPath()} ${
      fumiTaskArgs().slice(0, -1).join(" ")
    } ${REPO_ROOT}/main.ts "$@"\n`,
    { mode: 0o755 },
  );
  return { root, binary };
}

async function withSystemdUnits(root: string): Promise<void> {
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  const copied = await run(["cp", "-a", "/usr/lib/systemd/system", `${root}/usr/lib/systemd/`]);
  assertEquals(copied.code, 0, copied.err);
}

interface Entry {
  readonly path: string;
  readonly type: "dir" | "file" | "symlink";
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly text: string | null;
}

/** Every entry under `dir`, with mode, owner and (for files) text. */
async function tree(dir: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(`${dir}${relative}`)) {
      const path = `${relative}/${entry.name}`;
      const info = await Deno.lstat(`${dir}${path}`);
      const type = info.isDirectory ? "dir" : info.isSymlink ? "symlink" : "file";
      entries.push({
        path,
        type,
        mode: info.mode! & 0o7777,
        uid: info.uid!,
        gid: info.gid!,
        text: type === "file" ? await Deno.readTextFile(`${dir}${path}`).catch(() => null) : null,
      });
      if (type === "dir") await walk(path);
    }
  };
  await walk("");
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

function entry(entries: Entry[], path: string): Entry {
  const found = entries.find((e) => e.path === path);
  assert(found !== undefined, `${path} is missing: ${entries.map((e) => e.path).join(" ")}`);
  return found;
}

async function idsOf(root: string, name: string): Promise<{ uid: number; gid: number }> {
  const line = (await Deno.readTextFile(`${root}/etc/passwd`)).split("\n").find((l) =>
    l.startsWith(`${name}:`)
  );
  assert(line !== undefined, `no ${name} in ${root}/etc/passwd`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

const installArgs = (root: string, binary: string) => [
  "install",
  "--root",
  root,
  "--binary",
  binary,
  "--hostname",
  HOST,
  "--no-start",
];

Deno.test("the unit passes systemd-analyze verify and scores 2.0 or lower on security", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    const printed = await fumiIn([...installArgs(root, binary), "--print-unit"]);
    assertEquals(printed.code, 0, printed.err.join("\n"));
    const unit = `${printed.out.join("\n")}\n`;
    await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
    await Deno.writeTextFile(`${root}/etc/systemd/system/fumi.service`, unit);
    await Deno.mkdir(`${root}/usr/local/bin`, { recursive: true });
    await Deno.copyFile(binary, `${root}/usr/local/bin/fumi`);
    await withSystemdUnits(root);

    const verify = await run([
      "systemd-analyze",
      "verify",
      `--root=${root}`,
      "/etc/systemd/system/fumi.service",
    ]);
    assertEquals([verify.code, verify.err, verify.out], [0, "", ""]);

    const security = await run([
      "systemd-analyze",
      "security",
      "--offline=true",
      `${root}/etc/systemd/system/fumi.service`,
    ]);
    assertEquals(security.code, 0, security.err);
    const score = /Overall exposure level for fumi\.service: (\d+\.\d+) (\S+)/.exec(security.out);
    assert(score !== null, security.out);
    const exposure = Number(score[1]);
    assert(exposure <= 2.0, `exposure ${exposure} ${score[2]}:\n${security.out}`);
    assertEquals(score[2], "OK");

    for (
      const line of [
        "User=fumi",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/fumi",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "ProcSubset=pid",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "UMask=0077",
        "Restart=on-failure",
        "ExecStart=/usr/local/bin/fumi serve --config /etc/fumi/fumi.toml",
        "LoadCredentialEncrypted=master-key:/etc/credstore.encrypted/fumi.master-key",
      ]
    ) {
      assert(unit.split("\n").includes(line), `the unit lacks ${line}`);
    }
    assert(!unit.includes("MemoryDenyWriteExecute"), "V8 needs W+X memory (next test)");
  });
});

Deno.test("V8 without its JIT has no WebAssembly, so MemoryDenyWriteExecute stays off", async () => {
  // --jitless is the only way V8 runs without writable executable memory; PGlite and Argon2id
  // (hash-wasm) are WebAssembly.
  const password = new URL("../src/crypto/password.ts", import.meta.url).href;
  const code =
    `const m = await import("${password}"); console.log((await m.hashPassword("x")).slice(0, 9));`;
  const jit = await run([Deno.execPath(), "eval", code]);
  assertEquals([jit.code, jit.out.trim()], [0, "$argon2id"], jit.err);
  const jitless = await run([Deno.execPath(), "eval", "--v8-flags=--jitless", code]);
  assertEquals(jitless.code, 1);
  assertStringIncludes(jitless.err, "WebAssembly is not supported");
});

Deno.test("install --dry-run on a new root prints every file and command and changes nothing", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    const before = await tree(root);
    const dry = await fumiIn([...installArgs(root, binary), "--dry-run"]);
    assertEquals(dry.code, 0, dry.err.join("\n"));
    assertEquals(await tree(root), before);
    const script = dry.out.join("\n");
    const expected = [
      `grep -q '^fumi:' ${root}/etc/passwd || useradd --prefix ${root} --system --user-group --home-dir /var/lib/fumi --no-create-home --shell /usr/sbin/nologin --comment 'Fumi mail server' fumi`,
      "# /usr/local/bin/fumi (0755 root:root)",
      `install -D -m 0755 -o "$(uid_of root)" -g "$(gid_of root)" ${binary} ${root}/usr/local/bin/fumi`,
      "# /etc/fumi/ (0750 root:fumi)",
      `install -d -m 0750 -o "$(uid_of root)" -g "$(gid_of fumi)" ${root}/etc/fumi`,
      "# /etc/fumi/fumi.toml (0640 root:fumi), unless it exists",
      `hostname = "${HOST}"`,
      'data_dir = "/var/lib/fumi"',
      "# /var/lib/fumi/ (0700 fumi:fumi)",
      `install -d -m 0700 -o "$(uid_of fumi)" -g "$(gid_of fumi)" ${root}/var/lib/fumi`,
      `install -d -m 0700 -o "$(uid_of root)" -g "$(gid_of root)" ${root}/etc/credstore.encrypted`,
      `SYSTEMD_CREDENTIAL_SECRET=${root}/var/lib/systemd/credential.secret systemd-creds encrypt --name=master-key --with-key=host - ${root}/etc/credstore.encrypted/fumi.master-key`,
      "# /etc/systemd/system/fumi.service (0644 root:root)",
      "ExecStart=/usr/local/bin/fumi serve --config /etc/fumi/fumi.toml",
    ];
    let at = 0;
    for (const text of expected) {
      const found = script.indexOf(text, at);
      assert(found >= 0, `not found in order: ${text}\n${script}`);
      at = found + text.length;
    }
    assert(!script.includes("systemctl"), "--no-start: nothing is started");

    // Without --no-start, a root directory is refused: nothing can be started in it.
    const refused = await fumiIn(installArgs(root, binary).filter((a) => a !== "--no-start"));
    assertEquals(refused.code, 2);
    assertMatch(refused.err.join("\n"), /--root installs into a directory.*add --no-start/);
    // On the real root the dry run ends by enabling and starting the service.
    const live = await fumiIn(["install", "--binary", binary, "--hostname", HOST, "--dry-run"]);
    assertEquals(live.code, 0, live.err.join("\n"));
    assertEquals(live.out.filter((l) => l !== "").slice(-3), [
      "systemctl daemon-reload",
      "systemctl enable fumi.service",
      "systemctl restart fumi.service",
    ]);
    assertEquals(await tree(root), before);
  });
});

Deno.test("install into a root: user, directories, config, encrypted key, unit; again keeps them", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    const installed = await fumiIn(installArgs(root, binary));
    assertEquals(installed.code, 0, installed.err.join("\n"));
    assertEquals(installed.out[0], "Created the system user fumi.");
    assertEquals(
      installed.out.at(-1),
      "Fumi is installed; start it with: systemctl daemon-reload && systemctl enable --now fumi.service",
    );

    const fumi = await idsOf(root, "fumi");
    assert(fumi.uid > 0 && fumi.uid < 1000, `a system user: uid ${fumi.uid}`);
    const passwd = await Deno.readTextFile(`${root}/etc/passwd`);
    assertStringIncludes(
      passwd,
      `fumi:x:${fumi.uid}:${fumi.gid}:Fumi mail server:/var/lib/fumi:/usr/sbin/nologin`,
    );
    assertEquals(
      await Deno.readTextFile("/etc/passwd").then((t) => t.includes("Fumi mail server")),
      false,
    );

    const entries = await tree(root);
    const expect = (path: string, type: Entry["type"], mode: number, uid: number, gid: number) => {
      const found = entry(entries, path);
      assertEquals([found.type, found.mode.toString(8), found.uid, found.gid], [
        type,
        mode.toString(8),
        uid,
        gid,
      ], path);
      return found;
    };
    expect("/usr/local/bin/fumi", "file", 0o755, 0, 0);
    expect("/etc/fumi", "dir", 0o750, 0, fumi.gid);
    const config = expect("/etc/fumi/fumi.toml", "file", 0o640, 0, fumi.gid);
    assertStringIncludes(config.text!, `hostname = "${HOST}"\ndata_dir = "/var/lib/fumi"\n`);
    expect("/var/lib/fumi", "dir", 0o700, fumi.uid, fumi.gid);
    expect("/etc/credstore.encrypted", "dir", 0o700, 0, 0);
    const key = expect("/etc/credstore.encrypted/fumi.master-key", "file", 0o600, 0, 0);
    const unit = expect("/etc/systemd/system/fumi.service", "file", 0o644, 0, 0);
    assertStringIncludes(
      unit.text!,
      "\nLoadCredentialEncrypted=master-key:/etc/credstore.encrypted/fumi.master-key\n",
    );

    // The key decrypts, under its name, with the host key kept in the root, to a master key.
    const secret = { SYSTEMD_CREDENTIAL_SECRET: `${root}/var/lib/systemd/credential.secret` };
    const path = `${root}/etc/credstore.encrypted/fumi.master-key`;
    const decrypted = await run(
      ["systemd-creds", "decrypt", "--name=master-key", path, "-"],
      { env: secret },
    );
    assertEquals(decrypted.code, 0, decrypted.err);
    assertMatch(decrypted.out, /^[A-Za-z0-9+/]{43}=\n$/);
    const wrongName = await run(["systemd-creds", "decrypt", "--name=other", path, "-"], {
      env: secret,
    });
    assert(wrongName.code !== 0, "a credential is bound to its name");

    // The server reads that key from $CREDENTIALS_DIRECTORY/master-key, as systemd hands it over.
    const credentials = `${tmp}/credentials`;
    await Deno.mkdir(credentials);
    await Deno.writeTextFile(`${credentials}/master-key`, decrypted.out);
    const { findMasterKey } = await import("../src/store/master_key_source.ts");
    const found = await findMasterKey({ CREDENTIALS_DIRECTORY: credentials }, `${tmp}/nodata`);
    assertEquals(found?.kind, "credential");

    // A second install keeps the administrator's config edits, the key and the user.
    await Deno.writeTextFile(`${root}/etc/fumi/fumi.toml`, `${config.text}# edited\n`);
    const again = await fumiIn(installArgs(root, binary));
    assertEquals(again.code, 0, again.err.join("\n"));
    assert(!again.out.includes("Created the system user fumi."), again.out.join("\n"));
    assert(again.out.includes("Kept /etc/fumi/fumi.toml as it is."), again.out.join("\n"));
    const afterAgain = await tree(root);
    assertEquals(entry(afterAgain, "/etc/fumi/fumi.toml").text, `${config.text}# edited\n`);
    assertEquals(entry(afterAgain, "/etc/credstore.encrypted/fumi.master-key").text, key.text);
    assertEquals((await Deno.readTextFile(`${root}/etc/passwd`)).match(/^fumi:/gm)?.length, 1);

    // The installed unit verifies in its root, where its ExecStart exists.
    await withSystemdUnits(root);
    const verify = await run([
      "systemd-analyze",
      "verify",
      `--root=${root}`,
      "/etc/systemd/system/fumi.service",
    ]);
    assertEquals([verify.code, verify.err], [0, ""]);
  });
});

Deno.test("the dry run's script, run by sh, builds the same tree as install", async () => {
  await withTempDir(async (tmp) => {
    const a = await newRoot(`${tmp}/a`);
    const b = await newRoot(`${tmp}/b`);
    const installed = await fumiIn(installArgs(a.root, a.binary));
    assertEquals(installed.code, 0, installed.err.join("\n"));
    const dry = await fumiIn([...installArgs(b.root, a.binary), "--dry-run"]);
    assertEquals(dry.code, 0, dry.err.join("\n"));
    const sh = await run(["sh"], { stdin: `${dry.out.join("\n")}\n` });
    assertEquals(sh.code, 0, sh.err);

    // The same paths, types, modes, owners and texts; the keys differ, as new keys do.
    const differ = new Set([
      "/etc/credstore.encrypted/fumi.master-key",
      "/var/lib/systemd/credential.secret",
      "/etc/passwd-",
      "/etc/group-",
      "/etc/shadow",
      "/etc/shadow-",
      "/etc/gshadow-",
    ]);
    const strip = (entries: Entry[]) =>
      entries.map((e) => differ.has(e.path) ? { ...e, text: null } : e);
    assertEquals(strip(await tree(b.root)), strip(await tree(a.root)));
    const decrypted = await run(
      [
        "systemd-creds",
        "decrypt",
        "--name=master-key",
        `${b.root}/etc/credstore.encrypted/fumi.master-key`,
        "-",
      ],
      { env: { SYSTEMD_CREDENTIAL_SECRET: `${b.root}/var/lib/systemd/credential.secret` } },
    );
    assertMatch(decrypted.out, /^[A-Za-z0-9+/]{43}=\n$/, decrypted.err);
  });
});

Deno.test("uninstall keeps data, config and key; --purge removes them and the user", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    assertEquals((await fumiIn(installArgs(root, binary))).code, 0);
    await Deno.writeTextFile(`${root}/var/lib/fumi/mail`, "data");
    const installed = await tree(root);

    const dry = await fumiIn(["uninstall", "--root", root, "--purge", "--dry-run"]);
    assertEquals(dry.code, 0, dry.err.join("\n"));
    assertEquals(await tree(root), installed, "a dry run changes nothing");
    assertStringIncludes(dry.out.join("\n"), `then rm -rf ${root}/var/lib/fumi;`);
    assertStringIncludes(dry.out.join("\n"), `userdel --prefix ${root} fumi`);

    const kept = await fumiIn(["uninstall", "--root", root]);
    assertEquals(kept.code, 0, kept.err.join("\n"));
    const after = (await tree(root)).map((e) => e.path);
    assert(!after.includes("/etc/systemd/system/fumi.service"));
    assert(!after.includes("/usr/local/bin/fumi"));
    for (
      const path of [
        "/var/lib/fumi/mail",
        "/etc/fumi/fumi.toml",
        "/etc/credstore.encrypted/fumi.master-key",
      ]
    ) {
      assert(after.includes(path), `${path} was removed`);
    }
    assertStringIncludes(await Deno.readTextFile(`${root}/etc/passwd`), "\nfumi:");

    const purged = await fumiIn(["uninstall", "--root", root, "--purge"]);
    assertEquals(purged.code, 0, purged.err.join("\n"));
    const left = (await tree(root)).map((e) => e.path);
    for (const path of ["/var/lib/fumi", "/etc/fumi", "/etc/credstore.encrypted/fumi.master-key"]) {
      assert(!left.includes(path), `${path} is still there`);
    }
    assert(!(await Deno.readTextFile(`${root}/etc/passwd`)).includes("fumi:"));
  });
});

Deno.test("the fumi with the server's permissions refuses to install and says what to run instead", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    const before = await tree(root);
    // Exactly as `deno task fumi` and the compiled binary run: without --allow-run.
    const result = await run([Deno.execPath(), ...fumiTaskArgs(), ...installArgs(root, binary)]);
    assertEquals(result.code, 1, result.err);
    assertEquals(result.err.trim().split("\n"), [
      "fumi: fumi install must run systemd-creds and useradd, but this fumi may not start programs (it has the server's permissions, without --allow-run); print the steps as a script and run that as root: fumi install --dry-run | sudo sh",
    ]);
    assertEquals(await tree(root), before);
    // Its dry run works, and is the way to install it.
    const dry = await run([
      Deno.execPath(),
      ...fumiTaskArgs(),
      ...installArgs(root, binary),
      "--dry-run",
    ]);
    assertEquals(dry.code, 0, dry.err);
    assertStringIncludes(dry.out, "systemd-creds encrypt --name=master-key");
  });
});

Deno.test("contrib/systemd/fumi.service is the unit install writes with its defaults", async () => {
  await withTempDir(async (tmp) => {
    const { root, binary } = await newRoot(tmp);
    const printed = await fumiIn([...installArgs(root, binary), "--print-unit"]);
    assertEquals(printed.code, 0, printed.err.join("\n"));
    assertEquals(
      `${printed.out.join("\n")}\n`,
      await Deno.readTextFile(`${REPO_ROOT}/contrib/systemd/fumi.service`),
    );
  });
});
