import { assert, assertEquals, assertNotEquals, assertRejects } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { DecryptError } from "../crypto/envelope.ts";
import { createSelfSigned, privateKeyPem } from "../crypto/x509.ts";
import { decodeBase64 } from "../util/base64.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import { Certificates, listenerCertificates, normalizeTarget } from "./certificates.ts";

const HOST = "mail.example.org";

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** Signs a CSR with a throw-away openssl CA (a year) and returns leaf + CA as one chain. */
async function signWithTestCa(csrPem: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-ca-" });
  try {
    await Deno.writeTextFile(`${dir}/req.csr`, csrPem);
    await openssl(
      dir,
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-keyout", "ca.key", "-out", "ca.pem", "-days", "365", "-subj", "/CN=Fumi Test CA"],
    );
    await openssl(
      dir,
      ...["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key"],
      ...["-set_serial", "77", "-days", "90", "-copy_extensions", "copy", "-out", "leaf.pem"],
    );
    return (await Deno.readTextFile(`${dir}/leaf.pem`)) +
      (await Deno.readTextFile(`${dir}/ca.pem`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a fresh install gets one self-signed default certificate, served to every listener", async () => {
  await withStore(async ({ store }) => {
    const first = await store.certificates.ensureSelfSigned("Mail.Example.ORG");
    assertEquals(first.created, true);
    assertEquals(first.certificate.name, HOST);
    assertEquals(first.certificate.source, "self-signed");
    assertEquals(first.certificate.names, [HOST]);
    assertEquals(first.certificate.usedBy, ["default"]);
    const again = await store.certificates.ensureSelfSigned(HOST);
    assertEquals(again.created, false);
    assertEquals(again.certificate.id, first.certificate.id);
    assertEquals((await store.certificates.list()).length, 1);

    const imaps = await store.certificates.resolveForListener("imaps");
    assertEquals(imaps.fallback.name, HOST);
    assertEquals(imaps.fallback.fingerprintSha256, first.certificate.fingerprintSha256);
    assert(imaps.fallback.keyPem.startsWith("-----BEGIN PRIVATE KEY-----"));
    assert(imaps.fallback.certPem.startsWith("-----BEGIN CERTIFICATE-----"));
    assertEquals([...imaps.byName.keys()], [HOST]);
    assertEquals(imaps.version, await store.certificates.version());
  });
});

Deno.test("two nodes running ensureSelfSigned at once create one certificate", async () => {
  await withStore(async ({ store, db }) => {
    const other = new Certificates(db.connectAgain(), store.vault);
    const results = await Promise.all([
      store.certificates.ensureSelfSigned(HOST),
      other.ensureSelfSigned(HOST),
      store.certificates.ensureSelfSigned(HOST),
    ]);
    assertEquals(results.filter((r) => r.created).length, 1);
    assertEquals(new Set(results.map((r) => r.certificate.id)).size, 1);
    const list = await store.certificates.list();
    assertEquals(list.map((c) => [c.name, c.usedBy]), [[HOST, ["default"]]]);
  });
});

Deno.test("ensureSelfSigned keeps to its own name when an administrator took the host name", async () => {
  await withStore(async ({ store }) => {
    await store.certificates.createCsr(HOST, [HOST]);
    const { certificate } = await store.certificates.ensureSelfSigned(HOST);
    assertEquals(certificate.name, `${HOST}-self-signed`);
    assertEquals(certificate.usedBy, ["default"]);
  });
});

Deno.test("the private key column holds ciphertext bound to its row, never the key", async () => {
  await withStore(async ({ store }) => {
    await store.certificates.createSelfSigned("one", ["one.example.org"]);
    await store.certificates.createSelfSigned("two", ["two.example.org"]);
    const snapshot = await store.certificates.snapshot();
    const keyPem = snapshot.byName.get("one.example.org")!.keyPem;
    const der = decodeBase64(keyPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""))!;
    const rows = await store.sql<{ id: number; name: string; key: Uint8Array }[]>`
      select id, name, key from certificates order by name`;
    for (const row of rows) {
      const text = new TextDecoder("latin1").decode(row.key);
      assert(!text.includes("PRIVATE KEY"), "no PEM in the key column");
      assert(!text.includes(new TextDecoder("latin1").decode(der.subarray(-32))), "no DER either");
      assertEquals(row.key[0], 1, "the envelope format");
    }
    // Nor anywhere else in the table.
    const [dump] = await store.sql<{ text: string }[]>`
      select string_agg(c::text, ' ') as text from certificates c`;
    assert(!dump!.text.includes("PRIVATE KEY"));
    // A key copied into another row does not open there.
    await store.sql`update certificates set key = ${rows[0]!.key} where id = ${rows[1]!.id}`;
    await assertRejects(() => store.certificates.snapshot(), DecryptError);
  });
});

Deno.test("importing under an existing name renews: assignments stay, listeners see a new version", async () => {
  await withStore(async ({ store }) => {
    await store.certificates.ensureSelfSigned(HOST);
    const made = await createSelfSigned({ names: [HOST, "imap.example.org"] });
    const { certificate, renewed } = await store.certificates.import(
      "mail",
      made.chainPem,
      privateKeyPem(made.keyPkcs8),
    );
    assertEquals(renewed, false);
    assertEquals(certificate.source, "imported");
    assertEquals(await store.certificates.assign("imaps", "mail"), "imaps");
    assertEquals(
      await store.certificates.assign("IMAP.example.org", "mail"),
      "sni:imap.example.org",
    );
    const before = await store.certificates.snapshot();

    const next = await createSelfSigned({ names: [HOST, "imap.example.org"], validityDays: 180 });
    const renewal = await store.certificates.import(
      "mail",
      next.chainPem,
      privateKeyPem(next.keyPkcs8),
    );
    assertEquals(renewal.renewed, true);
    assertEquals(renewal.certificate.id, certificate.id);
    assertEquals(renewal.certificate.usedBy, ["imaps", "sni:imap.example.org"]);
    assertEquals(renewal.certificate.fingerprintSha256, next.chain[0]!.fingerprintSha256);

    const after = await store.certificates.snapshot();
    assertNotEquals(after.version, before.version);
    assertEquals(after.byTarget.get("imaps")!.fingerprintSha256, next.chain[0]!.fingerprintSha256);
    assertEquals(
      after.byName.get("imap.example.org")!.fingerprintSha256,
      next.chain[0]!.fingerprintSha256,
    );
    // Other listeners still get the default.
    assertEquals(listenerCertificates(after, "smtp").fallback.name, HOST);
    assertEquals(listenerCertificates(after, "imaps").fallback.name, "mail");
    // Without a key, a new certificate must be for the key held already.
    const sameKey = await createSelfSigned({ names: [HOST], validityDays: 30 });
    await assertRejects(
      () => store.certificates.import("mail", sameKey.chainPem),
      InvalidInputError,
      "does not belong to the certificate",
    );
  });
});

Deno.test("remove is refused while a certificate is assigned; default cannot be unassigned", async () => {
  await withStore(async ({ store }) => {
    await store.certificates.ensureSelfSigned(HOST);
    await store.certificates.createSelfSigned("extra", ["extra.example.org"]);
    await store.certificates.assign("smtp", "extra");
    await store.certificates.assign("sni:extra.example.org", "extra");
    await assertRejects(
      () => store.certificates.remove("extra"),
      ConflictError,
      'Certificate "extra" is in use (smtp, sni:extra.example.org)',
    );
    await assertRejects(() => store.certificates.remove(HOST), ConflictError, "(default)");
    await assertRejects(() => store.certificates.unassign("default"), InvalidInputError);
    assertEquals(await store.certificates.unassign("smtp"), "smtp");
    await assertRejects(() => store.certificates.unassign("smtp"), NotFoundError);
    await store.certificates.unassign("extra.example.org");
    await store.certificates.remove("extra");
    assertEquals((await store.certificates.list()).map((c) => c.name), [HOST]);
    await assertRejects(() => store.certificates.remove("extra"), NotFoundError);
    await assertRejects(() => store.certificates.assign("smtp", "nothing"), NotFoundError);
  });
});

Deno.test("a CSR keeps its key until the signed certificate is imported without one", async () => {
  await withStore(async ({ store }) => {
    const csrPem = await store.certificates.createCsr("corp", [HOST, "Example.ORG"]);
    assert(csrPem.startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
    const pending = await store.certificates.get("corp");
    assertEquals(pending.source, "csr-pending");
    assertEquals(pending.names, [HOST, "example.org"]);
    assertEquals(pending.chain, []);
    assertEquals(pending.csrPem, csrPem);
    assertEquals(pending.notAfter, null);
    await assertRejects(
      () => store.certificates.assign("default", "corp"),
      InvalidInputError,
      "waits for its signed certificate",
    );
    await assertRejects(() => store.certificates.createCsr("corp", [HOST]), ConflictError);
    // Pending requests serve nothing.
    assertEquals((await store.certificates.snapshot()).byName.size, 0);

    const chainPem = await signWithTestCa(csrPem);
    // Another key is not the pending one.
    const stranger = await createSelfSigned({ names: [HOST] });
    await assertRejects(
      () => store.certificates.import("corp", chainPem, privateKeyPem(stranger.keyPkcs8)),
      InvalidInputError,
      "does not belong",
    );
    const { certificate, renewed } = await store.certificates.import("corp", chainPem);
    assertEquals(renewed, false);
    assertEquals(certificate.source, "imported");
    const details = await store.certificates.get("corp");
    assertEquals(details.chain.length, 2);
    assertEquals(details.chain[1]!.subject, "CN=Fumi Test CA");
    await store.certificates.assign("default", "corp");
    assertEquals((await store.certificates.resolveForListener("https")).fallback.name, "corp");

    await assertRejects(
      () => store.certificates.import("unknown", chainPem),
      NotFoundError,
      "fumi cert csr unknown",
    );
  });
});

Deno.test("SNI: an assignment wins, then a valid certificate, then one not self-signed", async () => {
  await withStore(async ({ store }) => {
    await store.certificates.createSelfSigned("self", [HOST, "*.example.org"]);
    const ca = await store.certificates.createCsr("real", [HOST]);
    await store.certificates.import("real", await signWithTestCa(ca));
    await store.certificates.createSelfSigned("other", ["other.example.org"]);
    let snapshot = await store.certificates.snapshot();
    assertEquals(snapshot.byName.get(HOST)!.name, "real");
    assertEquals(snapshot.byName.get("*.example.org")!.name, "self");
    assertEquals(snapshot.byName.get("other.example.org")!.name, "other");
    await store.certificates.assign(HOST, "other");
    snapshot = await store.certificates.snapshot();
    assertEquals(snapshot.byName.get(HOST)!.name, "other");
    // No default yet: a listener has nothing to serve.
    let threw = false;
    try {
      listenerCertificates(snapshot, "smtp");
    } catch (error) {
      threw = error instanceof NotFoundError;
    }
    assert(threw);
  });
});

Deno.test("assignment targets are listener names, default or host names", () => {
  assertEquals(normalizeTarget("IMAPS"), "imaps");
  assertEquals(normalizeTarget("default"), "default");
  assertEquals(normalizeTarget("Mail.Example.org"), "sni:mail.example.org");
  assertEquals(normalizeTarget("sni:*.example.org"), "sni:*.example.org");
  for (const bad of ["http", "pop3", "192.0.2.1", "sni:", "a b.example"]) {
    let threw = false;
    try {
      normalizeTarget(bad);
    } catch (error) {
      threw = error instanceof InvalidInputError;
    }
    assert(threw, `"${bad}" is refused`);
  }
});

Deno.test("watch reports committed changes", async () => {
  await withStore(async ({ store, db }) => {
    const versions: string[] = [];
    let wake = () => {};
    // PostgreSQL delivers the notification; the embedded database relies on the poll.
    const watcher = await store.certificates.watch((version) => {
      versions.push(version);
      wake();
    }, { pollMs: db.kind === "postgres" ? 60_000 : 100 });
    /** Resolves once the watcher reported the version the store has now. */
    const reported = async () => {
      const current = await store.certificates.version();
      const deadline = Date.now() + 10_000;
      while (versions.at(-1) !== current) {
        if (Date.now() > deadline) throw new Error(`${current} not reported: ${versions}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };
    try {
      await store.certificates.ensureSelfSigned(HOST);
      await reported();
      assertEquals(versions.length, 1);
      await store.certificates.createSelfSigned("two", ["two.example.org"]);
      await store.certificates.assign("smtp", "two");
      await reported();
      assertEquals(new Set(versions).size, versions.length, "each version once");
      assert(versions.length <= 3);
    } finally {
      await watcher.close();
    }
  });
});
