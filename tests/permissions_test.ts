/**
 * One permission list: deno.json's "fumi" task. `deno task start` runs that task, compile.sh
 * reads it; here all three are run and the flags each really hands to deno are compared, and
 * the list itself is compared with README.md's table of flags and their reasons ("Permissions"),
 * so a flag cannot be added without one. Then a server started with exactly those flags on a new
 * data directory takes mail over SMTP, shows it over IMAP and answers /healthz: nothing it does
 * needs more than it is given.
 *
 * @module
 */

import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import {
  cleanEnv,
  freePort,
  fumiProcess,
  fumiTaskArgs,
  get,
  REPO_ROOT,
  spawnFumi,
  withTempDir,
} from "./cli.ts";
import { openTestDatabase, type TestDatabase } from "./db.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** The flags README.md's "Permissions" table gives a reason for, in its order. */
async function documentedFlags(): Promise<string[]> {
  const readme = await Deno.readTextFile(`${REPO_ROOT}/README.md`);
  const section = readme.slice(readme.indexOf("**Permissions.**"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| flag")));
  return [...table.matchAll(/^\| `(--[^`]+)` +\| \S/gm)].map((m) => m[1]!);
}

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    cwd: REPO_ROOT,
    env: cleanEnv({ NO_COLOR: "1", ...env }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

/** The flags of the `deno run` that `deno task` printed as "Task fumi deno run … main.ts …". */
function taskFlags(stderr: string): { flags: string[]; args: string[] } {
  const line = stderr.split("\n").find((l) => l.startsWith("Task fumi deno run "));
  assert(line !== undefined, `deno task printed no "Task fumi" line: ${stderr}`);
  const words = line.slice("Task fumi deno run ".length).split(" ");
  const main = words.indexOf("main.ts");
  assert(main > 0, line);
  return {
    flags: words.slice(0, main),
    args: words.slice(main + 1).map((w) => w.replace(/^'(.*)'$/, "$1")),
  };
}

Deno.test("compile.sh, deno task fumi and deno task start hand deno the same documented flags", async (t) => {
  const documented = await documentedFlags();
  assert(documented.length >= 5, `README.md's permission table: ${documented}`);

  await t.step("deno task fumi", async () => {
    const result = await run([Deno.execPath(), "task", "fumi", "version"]);
    assertEquals(result.code, 0, result.err);
    const { flags, args } = taskFlags(result.err);
    assertEquals(flags, documented);
    assertEquals(args, ["version"]);
    // What the other tests run as "the real executable" (tests/cli.ts) is the same.
    assertEquals(fumiTaskArgs(), ["run", ...documented, "main.ts"]);
  });

  await t.step("deno task start runs the fumi task: serve --dev", async () => {
    // An unknown option makes serve stop at once, after deno task has shown what it ran.
    const result = await run([Deno.execPath(), "task", "start", "--no-such-option"]);
    assertEquals(result.code, 2, result.err);
    assertStringIncludes(result.err, 'fumi: Unknown option "--no-such-option"');
    const { flags, args } = taskFlags(result.err);
    assertEquals(flags, documented);
    assertEquals(args, ["serve", "--dev", "--no-such-option"]);
  });

  await t.step("compile.sh", async () => {
    await withTempDir(async (tmp) => {
      // A `deno` first on PATH that records `deno compile`'s arguments instead of compiling
      // and passes everything else (compile.sh reads deno.json with `deno eval`) to the real one.
      const log = `${tmp}/argv`;
      await Deno.writeTextFile(
        `${tmp}/deno`,
        [
          "#!/bin/sh",
          `if [ "$1" = compile ]; then printf '%s\\n' "$@" > '${log}'; exit 0; fi`,
          `exec '${Deno.execPath()}' "$@"`,
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      const result = await run(["bash", "compile.sh", "--output", `${tmp}/fumi`], {
        PATH: `${tmp}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      });
      assertEquals(result.code, 0, result.err);
      const argv = (await Deno.readTextFile(log)).trimEnd().split("\n");
      assertEquals(argv, [
        "compile",
        ...documented,
        "--include",
        "static",
        "--include",
        "migrations",
        "--include",
        "dist/build_info.json",
        "--output",
        `${tmp}/fumi`,
        "main.ts",
      ]);
    });
  });

  await t.step("no subprocesses, no FFI, nothing unrestricted beyond net, read and write", () => {
    for (const flag of documented) {
      assert(!/^--allow-(run|ffi|all)|^-A$|^--allow-(env|sys)$/.test(flag), flag);
    }
  });

  await t.step(
    "read and write with those flags: the secrets and system files are refused",
    async () => {
      await withTempDir(async (tmp) => {
        // Run as root here, so the operating system itself would allow every one of these.
        const probe = `${tmp}/probe.ts`;
        await Deno.writeTextFile(
          probe,
          `const results: string[] = [];
const attempt = async (what: string, act: () => Promise<unknown>) => {
  try {
    await act();
    results.push(\`\${what}: allowed\`);
  } catch (error) {
    results.push(\`\${what}: \${error instanceof Deno.errors.NotCapable ? "denied" : "allowed"}\`);
  }
};
for (const path of ${
            JSON.stringify([
              "/etc/shadow",
              "/etc/gshadow",
              "/etc/sudoers",
              "/etc/ssh/sshd_config",
              "/root/.ssh/authorized_keys",
              "/var/lib/systemd/credential.secret",
              "/etc/resolv.conf",
              "/etc/hosts",
              "/etc/fumi/fumi.toml",
            ])
          }) {
  await attempt(\`read \${path}\`, () => Deno.readTextFile(path));
}
for (const path of ${
            JSON.stringify([
              "/etc/fumi-probe",
              "/usr/local/bin/fumi-probe",
              "/usr/lib/fumi-probe",
              "/bin/fumi-probe",
              "/boot/fumi-probe",
              "/root/.ssh/fumi-probe",
              "/var/lib/systemd/fumi-probe",
              `${tmp}/data/fumi-probe`,
            ])
          }) {
  await attempt(\`write \${path}\`, async () => {
    await Deno.writeTextFile(path, "x", { createNew: true });
    await Deno.remove(path);
  });
}
console.log(results.join("\\n"));
`,
        );
        await Deno.mkdir(`${tmp}/data`);
        const result = await run([Deno.execPath(), "run", ...documented, probe]);
        assertEquals(result.code, 0, result.err);
        assertEquals(result.out.trimEnd().split("\n"), [
          "read /etc/shadow: denied",
          "read /etc/gshadow: denied",
          "read /etc/sudoers: denied",
          "read /etc/ssh/sshd_config: denied",
          "read /root/.ssh/authorized_keys: denied",
          "read /var/lib/systemd/credential.secret: denied",
          // What the server reads: DNS resolvers, hosts, its config (absent here: not denied).
          "read /etc/resolv.conf: allowed",
          "read /etc/hosts: allowed",
          "read /etc/fumi/fumi.toml: allowed",
          "write /etc/fumi-probe: denied",
          "write /usr/local/bin/fumi-probe: denied",
          "write /usr/lib/fumi-probe: denied",
          "write /bin/fumi-probe: denied",
          "write /boot/fumi-probe: denied",
          "write /root/.ssh/fumi-probe: denied",
          "write /var/lib/systemd/fumi-probe: denied",
          `write ${tmp}/data/fumi-probe: allowed`,
        ]);
      });
    },
  );
});

Deno.test("a server with exactly those permissions: SMTP delivery, IMAP FETCH, /healthz", async () => {
  await withTempDir(async (tmp) => {
    // A new data directory: PGlite is created, the schema migrated and the master key written
    // by the server itself, under the permissions it ships with.
    const dataDir = `${tmp}/data`;
    const ports = {
      smtp: freePort(),
      submission: freePort(),
      submissions: freePort(),
      imap: freePort(),
      imaps: freePort(),
      https: freePort(),
      http: freePort(),
    };
    const config = `${tmp}/fumi.toml`;
    await Deno.writeTextFile(
      config,
      Object.entries(ports)
        .map(([name, port]) => `[listeners.${name}]\naddresses = ["127.0.0.1"]\nport = ${port}\n`)
        .join("\n"),
    );
    // With FUMI_TEST_DATABASE_URL, on a new database of that PostgreSQL (over TCP), else on the
    // embedded one (files, a unix socket).
    let external: TestDatabase | null = null;
    if (Deno.env.get("FUMI_TEST_DATABASE_URL")) external = await openTestDatabase();
    const database: Record<string, string> = external?.url
      ? { FUMI_DATABASE_URL: external.url }
      : {};
    const env = { FUMI_DATA_DIR: dataDir, FUMI_ADMIN_PASSWORD: GOOD_PASSWORD, ...database };
    const server = spawnFumi(["serve", "--dev", "--config", config], { env });
    try {
      await server.waitForOut(/^ {2}health: +http:\/\//, 120_000);
      const where = await server.waitForOut(/^ {2}database: /);
      assertEquals(where.includes("embedded PGlite"), external === null, where);
      assertEquals(await get(`http://127.0.0.1:${ports.http}/healthz`), {
        status: 200,
        body: "ok\n",
      });

      const added = await fumiProcess(["user", "add", "alice@localhost", "--password-stdin"], {
        env: { FUMI_DATA_DIR: dataDir, ...database },
        stdin: `${GOOD_PASSWORD}\n`,
      });
      assertEquals(added.code, 0, added.err.join("\n"));

      const transport = nodemailer.createTransport({
        host: "127.0.0.1",
        port: ports.smtp,
        secure: false,
        name: "client.example",
        // The dev certificate is self-signed; STARTTLS is still taken.
        tls: { rejectUnauthorized: false },
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
      });
      try {
        const sent = await transport.sendMail({
          envelope: { from: "sender@client.example", to: ["alice@localhost"] },
          raw: [
            "From: Sender <sender@client.example>",
            "To: Alice <alice@localhost>",
            "Subject: permissions smoke test",
            "Message-ID: <permissions-smoke@client.example>",
            "Date: Sat, 28 Nov 2026 07:00:00 +0000",
            "",
            "Delivered by a server that has only its own permissions.",
            "",
          ].join("\r\n"),
        });
        assertEquals(sent.accepted, ["alice@localhost"]);
      } finally {
        transport.close();
      }

      const imap = new ImapFlow({
        host: "127.0.0.1",
        port: ports.imaps,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user: "alice@localhost", pass: GOOD_PASSWORD },
        logger: false,
        disableAutoIdle: true,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      });
      await imap.connect();
      try {
        const mailbox = await imap.mailboxOpen("INBOX");
        assertEquals(mailbox.exists, 1);
        const message = await imap.fetchOne("1", { envelope: true, source: true });
        assert(message !== false);
        assertEquals(message.envelope?.subject, "permissions smoke test");
        assertStringIncludes(
          new TextDecoder().decode(message.source),
          "Delivered by a server that has only its own permissions.",
        );
      } finally {
        await imap.logout();
      }
    } finally {
      const status = await server.stop(10_000);
      await external?.close();
      assertEquals(status.code, 0, server.stderr.join("\n"));
    }
    const denied = server.stderr.filter((line) => /NotCapable|Requires \w+ access/.test(line));
    assertEquals(denied, [], "no permission was refused");
  });
});
