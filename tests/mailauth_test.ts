/**
 * Inbound mail authentication end to end: a real Knot server on loopback serves the sender
 * domains' SPF, DKIM and DMARC records; swaks sends through Fumi's MX listener, whose
 * mail-authentication checks ask Knot through our stub resolver; what is stored (INBOX or
 * Junk) and its Authentication-Results field are read back from the store. DKIM signatures
 * come from an independent signer, python3-dkim's `dkimsign`, with keys from its `dknewkey`.
 *
 * @module
 */

import { StubResolver } from "../src/dns/mod.ts";
import { zoneStrings } from "../src/dkim/mod.ts";
import { mailauthChecks } from "../src/mailauth/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type DnsServer, startDnsServer } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { runTool } from "./smtp_clients.ts";
import { storeFor } from "./cli.ts";
import { makeTestPki } from "./tls.ts";
import { SERVER_URL, withSharedDatabase } from "./two_servers.ts";

const HOSTNAME = "mail.example.org";

/** A zone with its SOA and name server, then `records`. */
function zone(origin: string, records: string): string {
  return `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n${records}`;
}

/** Eleven A mechanisms: one more DNS lookup than RFC 7208 §4.6.4 allows. */
const MANY = Array.from({ length: 11 }, (_, i) => `a:h${i}.spf.test`).join(" ");

function zones(keys: { ed: string; rsa: string }): Record<string, string> {
  return {
    "spf.test": zone(
      "spf.test",
      [
        'pass TXT "v=spf1 ip4:127.0.0.1 -all"',
        'fail TXT "v=spf1 ip4:192.0.2.1 -all"',
        'softfail TXT "v=spf1 ~all"',
        // RFC 7208 §4.5: two SPF records are a permanent error ...
        'twice TXT "v=spf1 ip4:127.0.0.1 -all"',
        'twice TXT "v=spf1 -all"',
        // ... and so are more than ten lookups (§4.6.4).
        `many TXT "v=spf1 ${MANY} -all"`,
        ...Array.from({ length: 11 }, (_, i) => `h${i} A 192.0.2.${i + 10}`),
        'client TXT "v=spf1 ip4:127.0.0.1 -all"',
        '_dmarc TXT "v=DMARC1; p=none"',
      ].join("\n"),
    ),
    "signed.test": zone(
      "signed.test",
      [
        '@ TXT "v=spf1 -all"',
        '_dmarc TXT "v=DMARC1; p=none"',
        `ed._domainkey TXT ${zoneStrings(keys.ed)}`,
        `rsa._domainkey TXT ${zoneStrings(keys.rsa)}`,
      ].join("\n"),
    ),
    "reject.test": zone("reject.test", '@ TXT "v=spf1 -all"\n_dmarc TXT "v=DMARC1; p=reject"'),
    "quarantine.test": zone(
      "quarantine.test",
      '@ TXT "v=spf1 -all"\n_dmarc TXT "v=DMARC1; p=quarantine"',
    ),
    "none.test": zone("none.test", '@ TXT "v=spf1 -all"\n_dmarc TXT "v=DMARC1; p=none"'),
    // Mailing list hosts that ARC-seal what they forward (RFC 8617); only the first is trusted.
    "lists.test": zone(
      "lists.test",
      `@ TXT "v=spf1 ip4:127.0.0.1 -all"\nrsa._domainkey TXT ${zoneStrings(keys.rsa)}`,
    ),
    "other.test": zone(
      "other.test",
      `@ TXT "v=spf1 ip4:127.0.0.1 -all"\nrsa._domainkey TXT ${zoneStrings(keys.rsa)}`,
    ),
    // A domain of the attacker's own, with SPF passing for the test client and a DMARC record.
    "evil.test": zone(
      "evil.test",
      '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n_dmarc TXT "v=DMARC1; p=reject"',
    ),
  };
}

/** python3-dkim's key maker: the private key file and the record text, per algorithm. */
async function makeKeys(dir: string): Promise<{ ed: string; rsa: string }> {
  const records: Record<string, string> = {};
  for (const [name, type] of [["ed", "ed25519"], ["rsa", "rsa"]]) {
    const made = await new Deno.Command("dknewkey", {
      args: ["--ktype", type!, `${dir}/${name}`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!made.success) throw new Error(`dknewkey failed: ${new TextDecoder().decode(made.stderr)}`);
    records[name!] = (await Deno.readTextFile(`${dir}/${name}.dns`)).trim();
  }
  return { ed: records.ed!, rsa: records.rsa! };
}

/** Signs `message` with python3-dkim's `dkimsign`, relaxed/relaxed. */
async function dkimsign(dir: string, selector: string, algorithm: string, message: string) {
  const child = new Deno.Command("dkimsign", {
    args: [
      "--signalg",
      algorithm,
      "--hcanon",
      "relaxed",
      "--bcanon",
      "relaxed",
      selector,
      "signed.test",
      `${dir}/${selector}.key`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(message));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`dkimsign failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * Seals `message` as the list host `domain` would (python3-dkim's `arcsign`, RSA): the host's
 * Authentication-Results for its authserv-id `domain` becomes the ARC-Authentication-Results.
 */
async function arcsign(dir: string, domain: string, message: string): Promise<string> {
  const child = new Deno.Command("arcsign", {
    args: ["rsa", domain, `${dir}/rsa.key`, domain],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(message));
  await writer.close();
  const out = await child.output();
  const sealed = new TextDecoder().decode(out.stdout);
  if (!out.success || !sealed.startsWith("ARC-Seal:")) {
    throw new Error(`arcsign failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return sealed;
}

/** A message with CRLF line ends. */
function message(from: string, subject: string, body = "Hello from the test.", extra = "") {
  return [
    `From: ${from}`,
    "To: bob@example.org",
    `Subject: ${subject}`,
    "Date: Sat, 28 Nov 2026 06:00:00 +0000",
    `Message-ID: <${subject}@test>`,
    ...(extra === "" ? [] : [extra]),
    "",
    body,
    "",
  ].join("\r\n");
}

interface Sent {
  readonly code: number;
  readonly transcript: string;
}

/** swaks through the MX: HELO client.spf.test, MAIL FROM `sender`, the message as given. */
async function send(t: SmtpFixture, dir: string, sender: string, data: string): Promise<Sent> {
  return await swaks(t.ports.mx, t.bob.address, dir, sender, data);
}

async function swaks(
  port: number,
  recipient: string,
  dir: string,
  sender: string,
  data: string,
): Promise<Sent> {
  const file = await Deno.makeTempFile({ dir, suffix: ".eml" });
  // --no-data-fixup sends the file as it is: the end-of-data line is ours to add.
  await Deno.writeTextFile(file, `${data.endsWith("\r\n") ? data : `${data}\r\n`}.\r\n`);
  const result = await runTool("swaks", [
    "--server",
    "127.0.0.1",
    "--port",
    `${port}`,
    "--helo",
    "client.spf.test",
    "--from",
    sender,
    "--to",
    recipient,
    "--timeout",
    "20",
    "--data",
    `@${file}`,
    "--no-data-fixup",
  ]);
  return { code: result.code, transcript: result.stdout + result.stderr };
}

/** The messages of bob's `mailbox`, as text. */
async function stored(t: SmtpFixture, mailbox: "INBOX" | "Junk"): Promise<string[]> {
  const box = await t.store.mailboxes.get(t.bob.id, mailbox);
  const out: string[] = [];
  for (const info of await t.store.messages.list(box.id)) {
    out.push(new TextDecoder().decode(await t.store.messages.read(t.bob.id, info.messageId)));
  }
  return out;
}

/** The one message of `mailbox` whose subject is `subject`. */
async function find(t: SmtpFixture, mailbox: "INBOX" | "Junk", subject: string) {
  const found = (await stored(t, mailbox)).filter((m) => m.includes(`\r\nSubject: ${subject}\r\n`));
  assertEquals(found.length, 1, `one message "${subject}" in ${mailbox}`);
  return found[0]!;
}

/** The Authentication-Results fields of a stored message, unfolded. */
function authResults(text: string): string[] {
  const header = text.slice(0, text.indexOf("\r\n\r\n") + 2);
  return [...header.matchAll(/^Authentication-Results:(.*(?:\r\n[ \t].*)*)\r\n/gim)].map((m) =>
    m[1]!.replace(/\r\n[ \t]/g, " ").replace(/\s+/g, " ").trim()
  );
}

/** Our one Authentication-Results field. */
function ours(text: string): string {
  const fields = authResults(text).filter((f) => f.toLowerCase().startsWith(`${HOSTNAME};`));
  assertEquals(fields.length, 1, `one field of ours in ${JSON.stringify(authResults(text))}`);
  return fields[0]!;
}

async function withWorld(
  fn: (t: SmtpFixture, dir: string) => Promise<void>,
  trustedArcSealers: readonly string[] = [],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-mailauth-" });
  let dns: DnsServer | null = null;
  try {
    dns = await startDnsServer(zones(await makeKeys(dir)));
    const resolver = new StubResolver({
      nameservers: [{ address: dns.address, port: dns.port }],
      timeoutMs: 2_000,
      attempts: 1,
    });
    await withSmtp((t) => fn(t, dir), {
      checks: mailauthChecks({
        hostname: HOSTNAME,
        resolver,
        timeoutMs: 10_000,
        trustedArcSealers,
      }),
    });
  } finally {
    await dns?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SPF on MAIL FROM and HELO: pass, fail, softfail, permerror", async () => {
  await withWorld(async (t, dir) => {
    const cases: [string, string][] = [
      ["pass", "pass"],
      ["fail", "fail"],
      ["softfail", "softfail"],
      ["twice", "permerror"],
      ["many", "permerror"],
    ];
    for (const [sub] of cases) {
      const sender = `x@${sub}.spf.test`;
      const sent = await send(t, dir, sender, message(sender, `spf-${sub}`));
      assertEquals(sent.code, 0, sent.transcript);
    }
    for (const [sub, result] of cases) {
      const field = ours(await find(t, "INBOX", `spf-${sub}`));
      assertStringIncludes(field, `spf=${result} smtp.mailfrom=x@${sub}.spf.test;`);
      assertStringIncludes(field, "spf=pass smtp.helo=client.spf.test;");
    }
  });
});

Deno.test("DKIM: an independent signer's signatures verify; one changed body byte fails them", async () => {
  await withWorld(async (t, dir) => {
    const original = message("Signer <a@signed.test>", "dkim-good", "One body line.");
    const signed = await dkimsign(
      dir,
      "rsa",
      "rsa-sha256",
      await dkimsign(dir, "ed", "ed25519-sha256", original),
    );
    assertEquals((signed.match(/^DKIM-Signature:/gm) ?? []).length, 2);
    const good = await send(t, dir, "a@signed.test", signed);
    assertEquals(good.code, 0, good.transcript);
    const field = ours(await find(t, "INBOX", "dkim-good"));
    assertMatch(field, /dkim=pass header\.d=signed\.test header\.s=ed header\.a=ed25519-sha256 /);
    assertMatch(field, /dkim=pass header\.d=signed\.test header\.s=rsa header\.a=rsa-sha256 /);
    // SPF fails for signed.test; the aligned signatures carry DMARC.
    assertStringIncludes(field, "spf=fail smtp.mailfrom=a@signed.test;");
    assertStringIncludes(field, "dmarc=pass (p=none) header.from=signed.test;");
    // One byte of the body changed on the way, and the subject to tell the copies apart:
    // the subject is signed too, so the header hash fails as well as the body hash.
    const tampered = signed.replace("One body line.", "One body lime.").replace(
      "Subject: dkim-good",
      "Subject: dkim-bad",
    );
    const bad = await send(t, dir, "a@signed.test", tampered);
    assertEquals(bad.code, 0, bad.transcript);
    const badField = ours(await find(t, "INBOX", "dkim-bad"));
    assertMatch(
      badField,
      /dkim=fail .*header\.d=signed\.test header\.s=ed header\.a=ed25519-sha256/,
    );
    assertMatch(badField, /dkim=fail .*header\.d=signed\.test header\.s=rsa header\.a=rsa-sha256/);
    assertStringIncludes(badField, "dmarc=fail (p=none dis=none) header.from=signed.test;");
    // Only the body changed: the body hash alone fails it.
    const bodyOnly = await dkimsign(
      dir,
      "ed",
      "ed25519-sha256",
      message("Signer <a@signed.test>", "dkim-body", "One body line."),
    );
    const sent = await send(t, dir, "a@signed.test", bodyOnly.replace("body line.", "body line!"));
    assertEquals(sent.code, 0, sent.transcript);
    assertMatch(
      ours(await find(t, "INBOX", "dkim-body")),
      /dkim=fail \(body hash did not verify\)/,
    );
  });
});

/**
 * Signs `message` for signed.test with python3-dkim's `dkim.sign`, l= (body length) set and
 * only From signed (so that tests can tell copies apart by their Subject).
 */
async function dkimsignLength(dir: string, message: string): Promise<string> {
  const script = "import dkim, sys\n" +
    "key = open(sys.argv[1], 'rb').read()\n" +
    "msg = sys.stdin.buffer.read()\n" +
    "sig = dkim.sign(msg, b'rsa', b'signed.test', key, canonicalize=(b'relaxed', b'relaxed'), " +
    "include_headers=[b'from'], length=True)\n" +
    "sys.stdout.buffer.write(sig + msg)\n";
  // The interpreter dkimsign runs under: the one with Debian's dkim module.
  const shebang = (await Deno.readTextFile("/usr/bin/dkimsign")).split("\n")[0]!;
  const python = shebang.startsWith("#!") ? shebang.slice(2).trim().split(" ")[0]! : "python3";
  const child = new Deno.Command(python, {
    args: ["-c", script, `${dir}/rsa.key`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(message));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`dkim.sign failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("DKIM: rsa-sha1 (RFC 8301) and content added after l= (RFC 6376 §8.2) are no DMARC pass", async () => {
  await withWorld(async (t, dir) => {
    // rsa-sha1 from an independent signer: it would verify, but is not accepted.
    const sha1 = await dkimsign(
      dir,
      "rsa",
      "rsa-sha1",
      message("Signer <a@signed.test>", "dkim-sha1", "One body line."),
    );
    const weak = await send(t, dir, "a@signed.test", sha1);
    assertEquals(weak.code, 0, weak.transcript);
    const weakField = ours(await find(t, "INBOX", "dkim-sha1"));
    assertMatch(
      weakField,
      /dkim=policy \(weak algorithm\) header\.d=signed\.test header\.s=rsa header\.a=rsa-sha1 /,
    );
    assertStringIncludes(weakField, "dmarc=fail (p=none dis=none) header.from=signed.test;");
    // l= as signed: a pass ...
    const original = message("Signer <a@signed.test>", "dkim-length", "The signed body.");
    const lengthSigned = await dkimsignLength(dir, original);
    assertMatch(lengthSigned, /l=\d+/);
    const asSigned = await send(t, dir, "a@signed.test", lengthSigned);
    assertEquals(asSigned.code, 0, asSigned.transcript);
    const field = ours(await find(t, "INBOX", "dkim-length"));
    assertMatch(field, /dkim=pass header\.d=signed\.test header\.s=rsa header\.a=rsa-sha256 /);
    assertStringIncludes(field, "dmarc=pass (p=none) header.from=signed.test;");
    // ... and with content appended after the signed length (another Subject, unsigned, to
    // tell the copies apart): not a pass, so DMARC fails.
    const appended = lengthSigned.replace("Subject: dkim-length", "Subject: dkim-appended") +
      "Click here: https://evil.example/\r\n";
    const added = await send(t, dir, "a@signed.test", appended);
    assertEquals(added.code, 0, added.transcript);
    const addedField = ours(await find(t, "INBOX", "dkim-appended"));
    assertMatch(
      addedField,
      /dkim=policy \(content after the body length l= signed\) header\.d=signed\.test /,
    );
    assertStringIncludes(addedField, "dmarc=fail (p=none dis=none) header.from=signed.test;");
  });
});

Deno.test("DMARC: reject refuses at the end of DATA, quarantine files to Junk, none delivers", async () => {
  await withWorld(async (t, dir) => {
    const refused = await send(t, dir, "a@reject.test", message("a@reject.test", "dmarc-reject"));
    assert(refused.code !== 0, refused.transcript);
    assertMatch(
      refused.transcript,
      /550 5\.7\.1 Message refused: DMARC policy of reject\.test is reject/,
    );
    // Refused after DATA, not before: the transcript has the message and then the 550.
    assertMatch(refused.transcript, /354[\s\S]*Subject: dmarc-reject[\s\S]*550 5\.7\.1/);
    const junk = await send(
      t,
      dir,
      "q@quarantine.test",
      message("q@quarantine.test", "dmarc-quarantine"),
    );
    assertEquals(junk.code, 0, junk.transcript);
    assertStringIncludes(
      ours(await find(t, "Junk", "dmarc-quarantine")),
      "dmarc=fail (p=quarantine dis=quarantine) header.from=quarantine.test;",
    );
    const none = await send(t, dir, "n@none.test", message("n@none.test", "dmarc-none"));
    assertEquals(none.code, 0, none.transcript);
    assertStringIncludes(
      ours(await find(t, "INBOX", "dmarc-none")),
      "dmarc=fail (p=none dis=none) header.from=none.test;",
    );
    // A domain the name server will not answer for (Knot refuses it): its policy cannot be
    // fetched and may be reject, so 451 and the sender retries (it was delivered before, and
    // so was a forgery whose policy lookup an attacker had made time out).
    const unknown = await send(
      t,
      dir,
      "u@unknown.example",
      message("u@unknown.example", "dmarc-dns"),
    );
    assert(unknown.code !== 0, unknown.transcript);
    assertMatch(
      unknown.transcript,
      /451 4\.7\.1 DMARC for unknown\.example could not be evaluated; try again later/,
    );
    const inbox = await stored(t, "INBOX");
    assertEquals(inbox.some((m) => m.includes("Subject: dmarc-dns")), false);
    assertEquals(inbox.some((m) => m.includes("Subject: dmarc-reject")), false);
    assertEquals(inbox.some((m) => m.includes("Subject: dmarc-quarantine")), false);
    assertEquals((await stored(t, "Junk")).length, 1);
  });
});

Deno.test("DMARC: two From addresses or a display-name trick do not pass for the wrong domain", async () => {
  await withWorld(async (t, dir) => {
    // The attacker's own domain passes DMARC, as a control.
    const own = await send(t, dir, "x@evil.test", message("x@evil.test", "from-own"));
    assertEquals(own.code, 0, own.transcript);
    assertStringIncludes(
      ours(await find(t, "INBOX", "from-own")),
      "dmarc=pass (p=reject) header.from=evil.test;",
    );
    // A second mailbox, or (invalid syntax) an address our parser reads as the mailbox: an
    // Author Domain, and reject.test's policy refuses.
    const refused: [string, string][] = [
      ["from-two", "x@evil.test, ceo@reject.test"],
      ["from-unquoted", "ceo@reject.test <x@evil.test>"],
    ];
    for (const [subject, from] of refused) {
      const sent = await send(t, dir, "x@evil.test", message(from, subject));
      assert(sent.code !== 0, `${subject}: ${sent.transcript}`);
      assertMatch(
        sent.transcript,
        /550 5\.7\.1 Message refused: DMARC policy of reject\.test is reject/,
      );
    }
    // The domain only in the display name, a comment or an encoded word: not the Author Domain
    // (RFC 7489 §3.1: the addr-spec's), so not refused — help desks and web forms write the
    // author's address there in genuine mail — but it does not pass either: it fails DMARC
    // and the message goes to Junk with that recorded. (Before, these were refused with 550.)
    const shown: [string, string][] = [
      ["from-display", '"ceo@reject.test" <x@evil.test>'],
      ["from-encoded", "=?utf-8?B?Y2VvQHJlamVjdC50ZXN0?= <x@evil.test>"],
      ["from-comment", "x@evil.test (ceo@reject.test)"],
      ["from-hidden", '"ceo@reject.test\u202e" <x@evil.test>'],
    ];
    for (const [subject, from] of shown) {
      const sent = await send(t, dir, "x@evil.test", message(from, subject));
      assertEquals(sent.code, 0, `${subject}: ${sent.transcript}`);
      const field = ours(await find(t, "Junk", subject));
      assertStringIncludes(
        field,
        "dmarc=fail (shown in the From display name p=reject dis=quarantine) header.from=reject.test",
      );
      assertStringIncludes(field, "dmarc=pass (p=reject) header.from=evil.test;");
    }
    // Two From fields: refused before DMARC by the header syntax check (RFC 5322 §3.6); DMARC
    // would refuse them too (RFC 7489 §6.6.1, src/mailauth/check_test.ts).
    const twoFields = message("x@evil.test", "from-fields", "Hi", "From: ceo@reject.test");
    const sent = await send(t, dir, "x@evil.test", twoFields);
    assert(sent.code !== 0, sent.transcript);
    assertMatch(sent.transcript, /554 5\.6\.0 .*From/);
    assertEquals((await stored(t, "INBOX")).length, 1);
  });
});

Deno.test("Authentication-Results claiming our authserv-id are removed; ours is the one field", async () => {
  await withWorld(async (t, dir) => {
    const forged = [
      `Authentication-Results: ${HOSTNAME}; dmarc=pass header.from=none.test`,
      `Authentication-Results: MAIL.example.org;\r\n dkim=pass header.d=none.test`,
      "Authentication-Results: other.example; spf=pass smtp.mailfrom=n@none.test",
    ].join("\r\n");
    const sent = await send(t, dir, "n@none.test", message("n@none.test", "forged", "Hi", forged));
    assertEquals(sent.code, 0, sent.transcript);
    const text = await find(t, "INBOX", "forged");
    const fields = authResults(text);
    assertEquals(fields.length, 2, JSON.stringify(fields));
    // Ours, on top with the trace fields, says what we found ...
    assertStringIncludes(ours(text), "dmarc=fail (p=none dis=none) header.from=none.test;");
    assertEquals(ours(text).includes("dmarc=pass"), false);
    // ... and another server's field is left as it came.
    assertEquals(fields[1], "other.example; spf=pass smtp.mailfrom=n@none.test");
  });
});

Deno.test("ARC: a chain sealed by a trusted list host passes and vouches for a DMARC failure", async () => {
  await withWorld(async (t, dir) => {
    // What the list host found when the author's mail reached it, and its seal over it.
    const original = (
      host: string,
      subject: string,
      body = "Posted to the list.",
      found = "dkim=pass header.d=reject.test; dmarc=pass header.from=reject.test",
    ) =>
      message("Author <a@reject.test>", subject, body, `Authentication-Results: ${host}; ${found}`);
    const sealed = await arcsign(dir, "lists.test", original("lists.test", "arc-trusted"));
    const sent = await send(t, dir, "list-bounces@lists.test", sealed);
    assertEquals(sent.code, 0, sent.transcript);
    const field = ours(await find(t, "INBOX", "arc-trusted"));
    assertStringIncludes(field, "arc=pass (sealed by lists.test)");
    // The author's domain still fails DMARC here; the trusted chain changed what was done.
    assertStringIncludes(
      field,
      "dmarc=fail (p=reject dis=none override: ARC sealed by lists.test) header.from=reject.test;",
    );
    // Changed after sealing: the chain fails, and reject.test's policy applies.
    const changed = (await arcsign(dir, "lists.test", original("lists.test", "arc-changed")))
      .replace("Posted to the list.", "Posted to the list!");
    const refused = await send(t, dir, "list-bounces@lists.test", changed);
    assert(refused.code !== 0, refused.transcript);
    assertMatch(refused.transcript, /550 5\.7\.1 Message refused: DMARC policy of reject\.test/);
    // A valid chain from a host nobody trusts vouches for nothing.
    const other = await arcsign(dir, "other.test", original("other.test", "arc-untrusted"));
    const untrusted = await send(t, dir, "list-bounces@other.test", other);
    assert(untrusted.code !== 0, untrusted.transcript);
    assertMatch(untrusted.transcript, /550 5\.7\.1 Message refused: DMARC policy of reject\.test/);
    // The trusted host sealed what it found itself: DMARC failed there too (a forgery it
    // relayed). Its seal vouches for what it saw, not for any message: the policy applies.
    const failedThere = await arcsign(
      dir,
      "lists.test",
      original(
        "lists.test",
        "arc-failed-there",
        "Posted to the list.",
        "spf=fail smtp.mailfrom=a@reject.test; dkim=none; dmarc=fail header.from=reject.test",
      ),
    );
    const laundered = await send(t, dir, "list-bounces@lists.test", failedThere);
    assert(laundered.code !== 0, laundered.transcript);
    assertMatch(laundered.transcript, /550 5\.7\.1 Message refused: DMARC policy of reject\.test/);
    assertEquals((await stored(t, "INBOX")).length, 1);
  }, ["lists.test"]);
});

Deno.test({
  name: "fumi serve: [mailauth] on the MX, asking the resolver of [dns]",
  // Needs PostgreSQL, as every test of a real `fumi serve` with its CLI (tests/two_servers.ts).
  ignore: SERVER_URL === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fumi-mailauth-serve-" });
    const pki = await makeTestPki();
    let dns: DnsServer | null = null;
    try {
      dns = await startDnsServer(zones(await makeKeys(dir)));
      const config = [
        `hostname = "${HOSTNAME}"`,
        "[dns]",
        `nameservers = ["${dns.address}:${dns.port}"]`,
        `timeout = "2s"`,
        "attempts = 1",
        // --dev leaves it off unless asked for.
        "[mailauth]",
        "enabled = true",
        "",
      ].join("\n");
      await withSharedDatabase(dir, pki, "bob@example.org", 90_000, async ({ env, serve }) => {
        const { ports } = await serve("mx", ["smtp"], config);
        const port = ports.smtp!;
        const refused = await swaks(
          port,
          "bob@example.org",
          dir,
          "a@reject.test",
          message("a@reject.test", "serve-reject"),
        );
        assertMatch(
          refused.transcript,
          /550 5\.7\.1 Message refused: DMARC policy of reject\.test is reject/,
        );
        const sent = await swaks(
          port,
          "bob@example.org",
          dir,
          "n@none.test",
          message("n@none.test", "serve-none"),
        );
        assertEquals(sent.code, 0, sent.transcript);
        const store = await storeFor(env);
        try {
          const bob = await store.accounts.get("bob@example.org");
          const inbox = await store.mailboxes.get(bob.id, "INBOX");
          const texts: string[] = [];
          for (const info of await store.messages.list(inbox.id)) {
            texts.push(new TextDecoder().decode(await store.messages.read(bob.id, info.messageId)));
          }
          assertEquals(texts.length, 1);
          const field = ours(texts[0]!);
          assertStringIncludes(field, "spf=fail smtp.mailfrom=n@none.test;");
          assertStringIncludes(field, "spf=pass smtp.helo=client.spf.test;");
          assertStringIncludes(field, "dmarc=fail (p=none dis=none) header.from=none.test;");
        } finally {
          await store.close();
        }
      });
    } finally {
      await dns?.stop();
      await pki.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
