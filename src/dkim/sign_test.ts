import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { generateDkimKeyPair } from "../crypto/dkim_keys.ts";
import { dkimRecordName, dkimRecordText } from "./record.ts";
import { authorDomain, DkimSignError, signMessage } from "./sign.ts";
import { testKey } from "./_test_keys.ts";
import { dkimpyVerify } from "../../tests/dkimpy.ts";

/** 2026-11-28T04:00:00Z. */
const NOW = Date.UTC(2026, 10, 28, 4, 0, 0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const MESSAGE = [
  "Received: from client (client [192.0.2.7]) by mail.example.org",
  "From: Alice Example <alice@example.org>",
  "To: bob@remote.example,",
  "\tcarol@remote.example",
  "Cc:   dave@else.example   ",
  "Subject: Hello  \t there, a long subject that goes on and on and on for a while",
  "Date: Sat, 28 Nov 2026 04:00:00 +0000",
  "Message-ID: <1234@example.org>",
  "MIME-Version: 1.0",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: 8bit",
  "List-Unsubscribe: <mailto:leave@example.org>",
  "",
  "Grüße,  trailing space here   ",
  "\tand a tab line",
  "",
  "",
].join("\r\n");

async function keys() {
  const rsa = await testKey("rsa-sha256", "example.org", "fumi-rsa-20261128");
  const ed = await testKey("ed25519-sha256", "example.org", "fumi-ed-20261128");
  const records = {
    [dkimRecordName("fumi-rsa-20261128", "example.org")]: dkimRecordText(
      "rsa-sha256",
      rsa.publicKey,
    ),
    [dkimRecordName("fumi-ed-20261128", "example.org")]: dkimRecordText(
      "ed25519-sha256",
      ed.publicKey,
    ),
  };
  return { rsa, ed, records };
}

function headerOf(message: Uint8Array): string {
  const text = decoder.decode(message);
  return text.slice(0, text.indexOf("\r\n\r\n") + 2);
}

Deno.test("RSA and Ed25519 signatures side by side verify with dkimpy", async () => {
  const { rsa, ed, records } = await keys();
  const signed = await signMessage(encoder.encode(MESSAGE), [rsa.signing, ed.signing], {
    now: NOW,
    expiresInSeconds: 7 * 86400,
  });
  assertEquals(await dkimpyVerify(signed, records), [
    { ok: true, algorithm: "rsa-sha256" },
    { ok: true, algorithm: "ed25519-sha256" },
  ]);
  // The original message follows the signatures unchanged.
  assert(decoder.decode(signed).endsWith(MESSAGE));
});

Deno.test("the signature fields: tags, h= with From oversigned, folding at 78 columns", async () => {
  const { rsa, ed } = await keys();
  const signed = await signMessage(encoder.encode(MESSAGE), [rsa.signing, ed.signing], {
    now: NOW,
  });
  const head = headerOf(signed);
  for (const line of head.split("\r\n")) assert(line.length <= 78, `too long: ${line}`);
  const fields = head.split(/\r\n(?![ \t])/).filter((f) => f.startsWith("DKIM-Signature:"));
  assertEquals(fields.length, 2);
  const unfolded = fields.map((f) => f.replace(/\r\n[ \t]/g, " "));
  assertMatch(
    unfolded[0]!,
    /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/,
  );
  assertMatch(unfolded[1]!, / a=ed25519-sha256; /);
  for (const field of unfolded) {
    assertMatch(field, / s=fumi-(rsa|ed)-20261128; t=1795838400; /);
    assert(!field.includes(" x="), "no x= unless asked");
    const h = / h=([^;]*);/.exec(field)![1]!.replace(/\s/g, "");
    assertEquals(
      h,
      "from:from:subject:date:to:cc:message-id:mime-version:content-type:" +
        "content-transfer-encoding:list-unsubscribe",
    );
    assertMatch(field, / bh=[A-Za-z0-9+/]{43}=; b=[A-Za-z0-9+/= ]+$/);
  }
  // Ed25519 signatures are deterministic (RFC 8032 §5.1.6): same input, same field.
  const again = await signMessage(encoder.encode(MESSAGE), [ed.signing], { now: NOW });
  assertEquals(headerOf(again).split(/\r\n(?![ \t])/)[0], fields[1]);
});

Deno.test("a tampered message, a second From or a changed key fails verification", async () => {
  const { rsa, ed, records } = await keys();
  const signed = decoder.decode(
    await signMessage(encoder.encode(MESSAGE), [rsa.signing, ed.signing], { now: NOW }),
  );
  const bad = [
    { ok: false, algorithm: "rsa-sha256" },
    { ok: false, algorithm: "ed25519-sha256" },
  ];
  // A changed body.
  assertEquals(
    await dkimpyVerify(encoder.encode(signed.replace("and a tab line", "and a tab lime")), records),
    bad,
  );
  // A changed signed field.
  assertEquals(
    await dkimpyVerify(encoder.encode(signed.replace("Subject: Hello", "Subject: Hallo")), records),
    bad,
  );
  // A second From added above the first: oversigning makes that fail (RFC 6376 §8.15).
  assertEquals(
    await dkimpyVerify(
      encoder.encode(signed.replace("From: Alice", "From: mallory@evil.example\r\nFrom: Alice")),
      records,
    ),
    bad,
  );
  // Unsigned fields may be added and white space changed (relaxed): still valid.
  const relaxed = signed
    .replace("Received:", "X-Added: by a relay\r\nReceived:")
    .replace("Subject: Hello", "SUBJECT:   Hello")
    .replace("trailing space here   ", "trailing space here");
  assertEquals(await dkimpyVerify(encoder.encode(relaxed), records), [
    { ok: true, algorithm: "rsa-sha256" },
    { ok: true, algorithm: "ed25519-sha256" },
  ]);
  // A record holding another key (as after a botched rotation).
  const other = await generateDkimKeyPair("ed25519-sha256");
  const swapped = {
    ...records,
    [dkimRecordName("fumi-ed-20261128", "example.org")]: dkimRecordText(
      "ed25519-sha256",
      other.publicKey,
    ),
  };
  assertEquals((await dkimpyVerify(encoder.encode(signed), swapped)).map((v) => v.ok), [
    true,
    false,
  ]);
});

Deno.test("messages with bare LF, no body, and 8-bit headers are signed and verify", async () => {
  const { rsa, ed, records } = await keys();
  for (
    const text of [
      MESSAGE.replaceAll("\r\n", "\n"),
      "From: alice@example.org\r\nSubject: no body\r\n",
      "From: alice@example.org\r\nSubject: empty body\r\n\r\n",
      "From: =?utf-8?q?J=C3=B6rg?= <alice@example.org>\r\nSubject: Grüße\r\n\r\nü\r\n",
    ]
  ) {
    const signed = await signMessage(encoder.encode(text), [rsa.signing, ed.signing], {
      now: NOW,
    });
    assertEquals(
      (await dkimpyVerify(signed, records)).map((v) => v.ok),
      [true, true],
      JSON.stringify(text),
    );
  }
});

Deno.test("a message without exactly one From is not signed", async () => {
  const { rsa } = await keys();
  await assertRejects(
    () => signMessage(encoder.encode("Subject: x\r\n\r\nbody\r\n"), [rsa.signing], { now: NOW }),
    DkimSignError,
    "without a From field",
  );
  await assertRejects(
    () =>
      signMessage(
        encoder.encode("From: a@example.org\r\nFrom: b@example.org\r\n\r\nbody\r\n"),
        [rsa.signing],
        { now: NOW },
      ),
    DkimSignError,
    "with 2 From fields",
  );
});

Deno.test("authorDomain: the From address's domain, in ASCII", () => {
  const domain = (from: string) => authorDomain(encoder.encode(`From: ${from}\r\n\r\n`));
  assertEquals(domain("Alice <alice@Example.ORG>"), "example.org");
  assertEquals(domain("alice@bücher.example"), "xn--bcher-kva.example");
  assertEquals(domain('"Doe, J" <j@sub.example.org> (comment)'), "sub.example.org");
  for (const bad of ["a@example.org, b@example.org", "nobody", ""]) {
    let threw = false;
    try {
      domain(bad);
    } catch (error) {
      threw = error instanceof DkimSignError;
    }
    assert(threw, bad);
  }
});
