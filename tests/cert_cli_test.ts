/**
 * `fumi cert`, in process with a fake terminal (tests/cli.ts): every subcommand, bad input and
 * exit codes. The commands run against the test database of this run: an embedded one owned by
 * a store the test opens (commands join it over its socket), or, with FUMI_TEST_DATABASE_URL,
 * a fresh PostgreSQL database.
 *
 * @module
 */

import { createSelfSigned, privateKeyPem } from "../src/crypto/x509.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../src/cli/main.ts";
import type { Store } from "../src/store/open.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  assertFails,
  assertOk,
  type CliResult,
  type FakeIoOptions,
  fumi,
  withCommandDatabase,
} from "./cli.ts";

type Env = Record<string, string>;

/** Runs `fumi cert ARGV…` in process, through the CLI's own dispatch and error mapping. */
function fumiCert(argv: readonly string[], options: FakeIoOptions): Promise<CliResult> {
  return fumi(["cert", ...argv], options);
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** A test CA in `dir` (ca.pem, ca.key) that signs `dir/NAME.csr` into `dir/NAME.pem`. */
async function makeCa(dir: string): Promise<(name: string) => Promise<void>> {
  await openssl(
    dir,
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/CN=Fumi CLI Test CA"],
  );
  let serial = 100;
  return async (name) => {
    await openssl(
      dir,
      ...["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"],
      ...["-set_serial", String(++serial), "-days", "90", "-copy_extensions", "copy"],
      ...["-out", `${name}.pem`],
    );
  };
}

/** A database and store for the commands (tests/cli.ts), with the temporary folder. */
function withCertEnv(fn: (env: Env, tmp: string, store: Store) => Promise<void>): Promise<void> {
  return withCommandDatabase("fumi-cert-", (env, store, tmp) => fn(env, tmp, store));
}

Deno.test("fumi cert: usage errors exit 2 with one line, before the database is opened", async () => {
  // No data directory exists: a command that opened the store would fail differently.
  const env = { FUMI_DATA_DIR: "/nonexistent/fumi-cert-usage" };
  const cases: [string[], string][] = [
    [[], "Missing subcommand; usage: fumi cert list|show|import|csr|self-signed|assign"],
    [["frobnicate"], 'Unknown command "fumi cert frobnicate"'],
    [["list", "extra"], 'Unexpected argument "extra"; usage: fumi cert list'],
    [["list", "--bogus"], 'Unknown option "--bogus"'],
    [["show"], "Missing NAME; usage: fumi cert show NAME [--pem]"],
    [["import", "web"], "Missing --cert FILE"],
    [["import", "--cert", "a.pem"], "Missing NAME"],
    [["import", "web", "--cert", "-", "--key", "-"], "Only one of --cert and --key"],
    [["import", "web", "--cert"], "Option --cert needs a value"],
    [["csr", "corp"], "Missing DNSNAME; usage: fumi cert csr NAME DNSNAME… [--rsa]"],
    [["self-signed", "x", "x.example.org", "--days", "0"], 'Invalid --days "0"'],
    [["self-signed", "x", "x.example.org", "--days", "ten"], 'Invalid --days "ten"'],
    [["assign", "imaps"], "Missing NAME; usage: fumi cert assign TARGET NAME"],
    [["assign", "http", "web"], 'The listener "http" serves no TLS'],
    [["assign", "pop3", "web"], 'Unknown target "pop3": use default, smtp, submission'],
    [["assign", "192.0.2.1", "web"], 'Cannot assign by IP address "192.0.2.1"'],
    [["assign", "bad name.example", "web"], 'Cannot parse domain "bad name.example"'],
    [["unassign"], "Missing TARGET"],
    [["unassign", "ftp"], 'Unknown target "ftp"'],
    [["remove", "a", "b"], 'Unexpected argument "b"'],
  ];
  for (const [argv, message] of cases) {
    const result = await fumiCert(argv, { env });
    assertFails(result, EXIT_USAGE, message);
    assertEquals(result.stdinRead, false, argv.join(" "));
  }
  const help = assertOk(await fumiCert(["help"], { env }));
  assertEquals(help[0], "Usage:");
  for (const sub of ["list", "show", "import", "csr", "self-signed", "assign", "unassign"]) {
    assert(help.some((line) => line.startsWith(`  fumi cert ${sub}`)), `help names ${sub}`);
  }
});

Deno.test("fumi cert: every subcommand against a database", async (t) => {
  await withCertEnv(async (env, tmp, store) => {
    const run = (argv: string[], stdin?: string) =>
      fumiCert(argv, { env, cwd: tmp, ...(stdin === undefined ? {} : { stdin }) });
    const everything: string[] = [];
    const ok = async (argv: string[], stdin?: string) => {
      const out = assertOk(await run(argv, stdin));
      everything.push(...out);
      return out;
    };
    const sign = await makeCa(tmp);

    await t.step("list without certificates", async () => {
      assertEquals(await ok(["list"]), [
        "No certificates; a self-signed one is made when fumi serve first starts.",
      ]);
    });

    await t.step("self-signed, assign default, list and show", async () => {
      const made = await ok(["self-signed", "Mail", "mail.example.org", "127.0.0.1"]);
      assertEquals(made.length, 1);
      assertMatch(
        made[0]!,
        /^Created self-signed mail: mail\.example\.org, 127\.0\.0\.1, valid until \d{4}-\d\d-\d\d\.$/,
      );
      assertEquals(await ok(["assign", "default", "mail"]), [
        "Assigned mail to default; listeners reload it now.",
      ]);
      const table = (await ok(["list"])).map((line) => line.split(/ {2,}/));
      assertEquals(table[0], ["NAME", "NAMES", "NOT AFTER", "DAYS LEFT", "SOURCE", "USED BY"]);
      assertEquals(table.length, 2);
      const [name, names, notAfter, days, source, usedBy] = table[1]!;
      assertEquals([name, names, source, usedBy], [
        "mail",
        "mail.example.org,127.0.0.1",
        "self-signed",
        "default",
      ]);
      assertMatch(notAfter!, /^\d{4}-\d\d-\d\d$/);
      assertMatch(days!, /^(89|90)$/);

      const show = await ok(["show", "mail"]);
      assertEquals(show[0], "Name:         mail");
      assertStringIncludes(show.join("\n"), "Subject:      CN=mail.example.org");
      assertStringIncludes(
        show.join("\n"),
        "Chain:        1 certificate\n  1. CN=mail.example.org (self-signed)",
      );
      assertStringIncludes(show.join("\n"), "Used by:      default");
      assertMatch(show.join("\n"), /Fingerprint: {2}SHA256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      assertMatch(show.join("\n"), /Not after: {4}\S+ \((89|90) days left\)/);
      const pem = await ok(["show", "mail", "--pem"]);
      assertEquals(pem.filter((l) => l === "-----BEGIN CERTIFICATE-----").length, 1);
      await ok(["self-signed", "legacy", "legacy.example.org", "--rsa", "--days", "365"]);
      assertStringIncludes((await ok(["show", "legacy"])).join("\n"), "Key:          RSA 2048");
    });

    await t.step("csr prints the request; import without a key completes it", async () => {
      const result = await run(["csr", "Corp", "www.example.org", "example.org"]);
      assertEquals(result.code, 0, JSON.stringify(result));
      assertEquals(result.out[0], "-----BEGIN CERTIFICATE REQUEST-----");
      assertEquals(result.out.at(-1), "-----END CERTIFICATE REQUEST-----");
      assertEquals(result.err, [
        "Send this request to your CA, then run: fumi cert import corp --cert SIGNED.pem",
      ]);
      assert(!result.out.join("\n").includes("PRIVATE"));
      const pending = (await ok(["list"])).find((l) => l.startsWith("corp "))!.split(/ {2,}/);
      assertEquals(pending, ["corp", "www.example.org,example.org", "-", "-", "csr-pending", "-"]);
      assertStringIncludes(
        (await ok(["show", "corp"])).join("\n"),
        "Status:       waiting for the signed certificate: fumi cert import corp --cert FILE",
      );
      assertFails(await run(["assign", "default", "corp"]), EXIT_FAILURE, "waits for its signed");
      assertFails(await run(["csr", "corp", "x.example.org"]), EXIT_FAILURE, "exists already");

      await Deno.writeTextFile(`${tmp}/corp.csr`, result.out.join("\n") + "\n");
      await sign("corp");
      // The server's certificate alone: the CA's certificate is missing.
      assertFails(
        await run(["import", "corp", "--cert", "corp.pem"]),
        EXIT_FAILURE,
        'Missing intermediate certificate: the file holds only the server\'s certificate, issued by "CN=Fumi CLI Test CA"',
      );
      const chain = (await Deno.readTextFile(`${tmp}/corp.pem`)) +
        (await Deno.readTextFile(`${tmp}/ca.pem`));
      await Deno.writeTextFile(`${tmp}/corp-chain.pem`, chain);
      const imported = await ok(["import", "corp", "--cert", "corp-chain.pem"]);
      assertMatch(
        imported[0]!,
        /^Imported corp: www\.example\.org, example\.org, valid until \d{4}-\d\d-\d\d\.$/,
      );
      assertEquals(imported[1], "Not in use yet; assign it with: fumi cert assign TARGET corp");
      const show = (await ok(["show", "corp"])).join("\n");
      assertStringIncludes(show, "Issuer:       CN=Fumi CLI Test CA");
      assertStringIncludes(show, "Chain:        2 certificates");
    });

    await t.step(
      "import with a key, from files and standard input; renewal keeps assignments",
      async () => {
        const first = await createSelfSigned({ names: ["imap.example.org"] });
        await Deno.writeTextFile(`${tmp}/web.pem`, first.chainPem);
        await Deno.writeTextFile(`${tmp}/web.key`, privateKeyPem(first.keyPkcs8));
        await ok(["import", "web", "--cert", "web.pem", "--key", `${tmp}/web.key`]);
        await ok(["assign", "imaps", "web"]);
        const next = await createSelfSigned({ names: ["imap.example.org"], validityDays: 60 });
        await Deno.writeTextFile(`${tmp}/web2.key`, privateKeyPem(next.keyPkcs8));
        const result = await run(
          ["import", "web", "--cert", "-", "--key", "web2.key"],
          next.chainPem,
        );
        assertEquals(result.stdinRead, true);
        const out = assertOk(result);
        assertMatch(out[0]!, /^Renewed web: imap\.example\.org, valid until/);
        assertEquals(out[1], "In use by imaps; listeners reload it now.");
        // The key from standard input works too.
        const third = await createSelfSigned({ names: ["imap.example.org"], validityDays: 30 });
        await Deno.writeTextFile(`${tmp}/web3.pem`, third.chainPem);
        await ok(
          ["import", "web", "--cert", "web3.pem", "--key", "-"],
          privateKeyPem(third.keyPkcs8),
        );
        const served = await store.certificates.resolveForListener("imaps");
        assertEquals(served.fallback.fingerprintSha256, third.chain[0]!.fingerprintSha256);
      },
    );

    await t.step("import refuses what cannot be served, with exit code 1", async () => {
      const expired = await createSelfSigned({
        names: ["old.example.org"],
        now: new Date(Date.now() - 200 * 24 * 3600 * 1000),
      });
      await Deno.writeTextFile(`${tmp}/old.pem`, expired.chainPem);
      await Deno.writeTextFile(`${tmp}/old.key`, privateKeyPem(expired.keyPkcs8));
      const cases: [string[], string][] = [
        [["import", "old", "--cert", "old.pem", "--key", "old.key"], "expired on"],
        [
          ["import", "old", "--cert", "web3.pem", "--key", "old.key"],
          "does not belong to the certificate",
        ],
        [
          ["import", "old", "--cert", "nope.pem", "--key", "old.key"],
          'Cannot read the certificate file "nope.pem": no such file',
        ],
        [
          ["import", "old", "--cert", "old.pem", "--key", "nope.key"],
          'Cannot read the key file "nope.key"',
        ],
        [
          ["import", "old", "--cert", "old.key", "--key", "old.key"],
          "holds a private key but no certificate",
        ],
        [["import", "old", "--cert", "old.pem"], 'No key for "old"'],
        [
          ["import", "Bad/Name", "--cert", "old.pem", "--key", "old.key"],
          'Invalid certificate name "Bad/Name"',
        ],
      ];
      for (const [argv, message] of cases) assertFails(await run(argv), EXIT_FAILURE, message);
      assertEquals((await store.certificates.list()).some((c) => c.name === "old"), false);
    });

    await t.step("assign to SNI names warns when the certificate does not name them", async () => {
      assertEquals(await ok(["assign", "WWW.example.org", "corp"]), [
        "Assigned corp to sni:www.example.org; listeners reload it now.",
      ]);
      assertEquals(await ok(["assign", "sni:other.example.org", "corp"]), [
        "Assigned corp to sni:other.example.org; listeners reload it now.",
        "Warning: corp is not valid for other.example.org (it names www.example.org, example.org); clients will refuse it.",
      ]);
      assertFails(
        await run(["assign", "smtp", "nothing"]),
        EXIT_FAILURE,
        'No certificate "nothing"',
      );
      const snapshot = await store.certificates.snapshot();
      assertEquals(snapshot.byName.get("www.example.org")!.name, "corp");
      assertEquals(snapshot.byName.get("imap.example.org")!.name, "web");
      const corp = (await ok(["list"])).find((l) => l.startsWith("corp "))!.split(/ {2,}/);
      assertEquals(corp.at(-1), "sni:other.example.org,sni:www.example.org");
    });

    await t.step("unassign and remove", async () => {
      assertFails(
        await run(["remove", "web"]),
        EXIT_FAILURE,
        'Certificate "web" is in use (imaps)',
      );
      assertFails(await run(["unassign", "default"]), EXIT_FAILURE, "cannot be unassigned");
      assertEquals(await ok(["unassign", "imaps"]), [
        "Unassigned imaps; it serves the default certificate now.",
      ]);
      assertFails(
        await run(["unassign", "imaps"]),
        EXIT_FAILURE,
        "No certificate is assigned to imaps",
      );
      assertEquals(await ok(["remove", "web"]), ["Removed certificate web and its key."]);
      assertFails(await run(["remove", "web"]), EXIT_FAILURE, 'No certificate "web"');
      assertFails(await run(["show", "web"]), EXIT_FAILURE, 'No certificate "web"');
      await ok(["unassign", "www.example.org"]);
      assertEquals(await ok(["unassign", "other.example.org"]), [
        "Unassigned sni:other.example.org; clients asking for it get the certificate naming it, or the listener's.",
      ]);
      await ok(["remove", "corp"]);
      assertEquals((await store.certificates.list()).map((c) => c.name), ["legacy", "mail"]);
    });

    await t.step("no command printed a private key", () => {
      assert(everything.length > 20);
      assert(!everything.join("\n").includes("PRIVATE KEY"));
    });
  });
});
