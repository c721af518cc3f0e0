import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { arcpySign, arcpyVerify } from "../../tests/dkimpy.ts";
import { importDkimPublicKey } from "../crypto/dkim_keys.ts";
import { decodeBase64 } from "../util/base64.ts";
import {
  arcPosition,
  arcSeal,
  ArcSealError,
  type ArcSealOptions,
  type ChainStatus,
  MAX_ARC_INSTANCE,
} from "./arc.ts";
import { relaxedHeader, splitMessage } from "./canon.ts";
import { dkimRecordName, dkimRecordText } from "./record.ts";
import { signMessage } from "./sign.ts";
import { testKey } from "./_test_keys.ts";

/** 2026-11-28T07:00:00Z. */
const NOW = Date.UTC(2026, 10, 28, 7, 0, 0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const AUTHSERV = "mx.forward.example";
const RESULTS =
  `${AUTHSERV}; spf=pass smtp.mailfrom=a@origin.example; dkim=pass header.d=origin.example header.s=sel header.a=rsa-sha256 header.b=AbCdEfGh; dmarc=pass (p=reject) header.from=origin.example; arc=none`;

/** A message as our MX stores it for forwarding: Received and our A-R above what came. */
const MESSAGE = [
  "Received: from client.origin.example (client [192.0.2.7]) by mx.forward.example",
  `Authentication-Results: ${AUTHSERV};`,
  "\tspf=pass smtp.mailfrom=a@origin.example;",
  "\tarc=none",
  "From: Author <a@origin.example>",
  "To: list@forward.example",
  "Subject: Forwarded  \t along",
  "Date: Sat, 28 Nov 2026 06:59:00 +0000",
  "Message-ID: <arc-1@origin.example>",
  "",
  "Body line one.  ",
  "",
  "",
].join("\r\n");

async function world() {
  const forward = await testKey("rsa-sha256", "forward.example", "fumi-rsa-1");
  const list = await testKey("rsa-sha256", "list.example", "arc");
  const origin = await testKey("rsa-sha256", "origin.example", "sel");
  const ed = await testKey("ed25519-sha256", "forward.example", "fumi-ed-1");
  const records = Object.fromEntries(
    [forward, list, origin].map((k) => [
      dkimRecordName(k.signing.selector, k.signing.domain),
      dkimRecordText("rsa-sha256", k.publicKey),
    ]),
  );
  return { forward, list, origin, ed, records };
}

function options(
  key: ArcSealOptions["key"],
  chain: ChainStatus,
  authResults = RESULTS,
): ArcSealOptions {
  return { authResults, chain, key, now: NOW };
}

/** The header fields as written (folded), top to bottom. */
function fields(message: Uint8Array): string[] {
  return splitMessage(message).fields.map((f) => decoder.decode(f.raw));
}

function unfold(field: string): string {
  return field.replace(/\r\n[ \t]/g, " ").replace(/\r\n$/, "");
}

/** Without white space: folding may fall inside a tag's value, where white space is FWS. */
function compact(field: string): string {
  return field.replace(/\s+/g, "");
}

async function sealed(raw: Uint8Array, o: ArcSealOptions): Promise<Uint8Array> {
  const result = await arcSeal(raw, o);
  if (!result.sealed) throw new Error(`not sealed: ${result.reason}`);
  return result.message;
}

Deno.test("the first ARC set: i=1, cv=none, AS-AMS-AAR on top, dkimpy verifies the chain", async () => {
  const { forward, records } = await world();
  const result = await arcSeal(encoder.encode(MESSAGE), options(forward.signing, "none"));
  assert(result.sealed);
  assertEquals([result.instance, result.cv], [1, "none"]);
  const all = fields(result.message);
  assertMatch(all[0]!, /^ARC-Seal: /);
  assertMatch(all[1]!, /^ARC-Message-Signature: /);
  assertMatch(all[2]!, /^ARC-Authentication-Results: /);
  // The message follows unchanged.
  assert(decoder.decode(result.message).endsWith(MESSAGE));
  for (const line of all.slice(0, 3).join("").split("\r\n")) {
    assert(line.length <= 78, `too long: ${line}`);
  }
  const [seal, ams, aar] = all.slice(0, 3).map(unfold);
  // RFC 8617 §4.1.1: i= then our payload, authserv-id first.
  assertEquals(aar, `ARC-Authentication-Results: i=1; ${RESULTS}`);
  // §4.1.3: the seal's tags, no h= or bh=.
  assertMatch(
    seal!,
    /^ARC-Seal: i=1; a=rsa-sha256; cv=none; d=forward\.example; s=fumi-rsa-1; t=1795849200; b=[A-Za-z0-9+/= ]+$/,
  );
  // §4.1.2: i= for v=, relaxed/relaxed, From oversigned; no ARC field, no A-R signed.
  assertMatch(
    compact(ams!),
    /^ARC-Message-Signature:i=1;a=rsa-sha256;c=relaxed\/relaxed;d=forward\.example;s=fumi-rsa-1;t=1795849200;h=from:from:subject:date:to:message-id;bh=[^;]+;b=/,
  );
  const verdict = await arcpyVerify(result.message, records);
  assertEquals(verdict.cv, "pass", verdict.reason);
  assertEquals(verdict.sets.map((s) => [s.instance, s.amsValid, s.asValid, s.cv, s.domain]), [
    [1, true, true, "none", "forward.example"],
  ]);
});

Deno.test("the AMS signs the DKIM-Signatures the message carries", async () => {
  const { forward, origin, records } = await world();
  const signed = await signMessage(encoder.encode(MESSAGE), [origin.signing], { now: NOW });
  const message = await sealed(signed, options(forward.signing, "none"));
  const ams = unfold(fields(message)[1]!);
  assertMatch(compact(ams), /;h=from:from:subject:date:to:message-id:dkim-signature;/);
  assertEquals((await arcpyVerify(message, records)).cv, "pass");
  // A DKIM-Signature changed after this hop breaks the AMS.
  const text = decoder.decode(message);
  const changed = text.replace(
    "DKIM-Signature: v=1; a=rsa-sha256;",
    "DKIM-Signature: v=1; a=rsa-sha256; x=1;",
  );
  assert(changed !== text);
  assertEquals((await arcpyVerify(encoder.encode(changed), records)).cv, "fail");
});

Deno.test("instances follow the highest: ours after dkimpy's i=1 and after our own", async () => {
  const { forward, list, records } = await world();
  // A list host's set made by an independent signer (python3-dkim's arc_sign).
  const listed = await arcpySign(
    encoder.encode(
      MESSAGE.replace(
        "Received:",
        "Authentication-Results: list.example; spf=pass smtp.mailfrom=a@origin.example\r\nReceived:",
      ),
    ),
    { pkcs8: list.pkcs8, domain: "list.example", selector: "arc" },
    "list.example",
  );
  assertEquals(arcPosition(listed), { highest: 1, newestCv: "none", problem: null });
  const second = await arcSeal(listed, options(forward.signing, "pass"));
  assert(second.sealed);
  assertEquals([second.instance, second.cv], [2, "pass"]);
  const two = await arcpyVerify(second.message, records);
  assertEquals(two.cv, "pass", two.reason);
  assertEquals(two.sets.map((s) => [s.instance, s.asValid, s.cv, s.domain]), [
    [2, true, "pass", "forward.example"],
    [1, true, "none", "list.example"],
  ]);
  // And a third of ours over both.
  const third = await sealed(second.message, options(forward.signing, "pass"));
  assertEquals(arcPosition(third), { highest: 3, newestCv: "pass", problem: null });
  const three = await arcpyVerify(third, records);
  assertEquals(three.cv, "pass", three.reason);
  assertEquals(three.sets.map((s) => s.instance), [3, 2, 1]);
  // The chain breaks when an earlier set changes: the seals sign every set in order.
  const broken = decoder.decode(third).replace(/i=1; list\.example;/, "i=1; list.example; x=y;");
  assert(broken !== decoder.decode(third));
  assertEquals((await arcpyVerify(encoder.encode(broken), records)).cv, "fail");
});

Deno.test("a failed chain: sealed with cv=fail over its own set only, then never again", async () => {
  const { forward, list, records } = await world();
  const first = await sealed(encoder.encode(MESSAGE), options(list.signing, "none"));
  // The body changed after the first hop: this hop's check found the chain failing.
  const tampered = encoder.encode(decoder.decode(first).replace("Body line one.", "Body line 1."));
  assertEquals((await arcpyVerify(tampered, records)).cv, "fail");
  const result = await arcSeal(tampered, options(forward.signing, "fail"));
  assert(result.sealed);
  assertEquals([result.instance, result.cv], [2, "fail"]);
  const all = fields(result.message);
  const seal = all[0]!;
  assertMatch(unfold(seal), /^ARC-Seal: i=2; a=rsa-sha256; cv=fail; d=forward\.example;/);
  // RFC 8617 §5.1.2: the seal signs this set only (AAR, AMS, then itself with b= empty).
  const data = [all[2]!, all[1]!].map((f) => relaxedHeader(f));
  const self = relaxedHeader(seal.replace(/b=[A-Za-z0-9+/=\r\n\t ]+$/, "b=\r\n"));
  const signed = new Uint8Array([...data.flatMap((d) => [...d]), ...self.subarray(0, -2)]);
  const signature = decodeBase64(unfold(seal).replace(/^.*b=/, "").replace(/ /g, ""))!;
  const publicKey = await importDkimPublicKey("rsa-sha256", forward.publicKey);
  assert(
    await crypto.subtle.verify(
      "RSASSA-PKCS1-v1_5",
      publicKey,
      signature as Uint8Array<ArrayBuffer>,
      signed as Uint8Array<ArrayBuffer>,
    ),
  );
  // dkimpy reads a cv=fail seal as the end of the chain (its cv None).
  const verdict = await arcpyVerify(result.message, records);
  assertEquals(verdict.cv, null, verdict.reason);
  // §5.1 step 2: after a cv=fail seal no hop adds a set, whatever its check says.
  for (const chain of ["fail", "pass"] as const) {
    const again = await arcSeal(result.message, options(forward.signing, chain));
    assertEquals(again, { sealed: false, reason: "the newest ARC-Seal (i=2) says cv=fail" });
  }
});

Deno.test("at most 50 sets (RFC 8617 §4.2.1): the 50th is added, a 51st is not", async () => {
  const { forward, records } = await world();
  let message: Uint8Array = encoder.encode(MESSAGE);
  for (let i = 1; i <= MAX_ARC_INSTANCE; i++) {
    const result = await arcSeal(message, options(forward.signing, i === 1 ? "none" : "pass"));
    assert(result.sealed, `set ${i}`);
    assertEquals(result.instance, i);
    message = result.message;
  }
  assertEquals(arcPosition(message), { highest: 50, newestCv: "pass", problem: null });
  const verdict = await arcpyVerify(message, records);
  assertEquals(verdict.cv, "pass", verdict.reason);
  assertEquals(verdict.sets.length, 50);
  for (const chain of ["pass", "fail"] as const) {
    assertEquals(await arcSeal(message, options(forward.signing, chain)), {
      sealed: false,
      reason: "the chain already has 50 ARC sets, the most allowed",
    });
  }
});

Deno.test("a status that does not fit the fields adds no set; a first set is always cv=none", async () => {
  const { forward, list } = await world();
  const first = await sealed(encoder.encode(MESSAGE), options(list.signing, "none"));
  // Sets, but no status from this hop's check (a temporary error): nothing to vouch for.
  assertEquals(await arcSeal(first, options(forward.signing, "none")), {
    sealed: false,
    reason: "the message has ARC sets but no chain validation status",
  });
  // A set missing its AMS cannot have passed.
  const text = decoder.decode(first);
  const withoutAms = text.replace(/ARC-Message-Signature:[^]*?\r\n(?=ARC-Authentication)/, "");
  assert(withoutAms !== text);
  assertEquals(arcPosition(encoder.encode(withoutAms)).problem, "ARC set 1 has 0 AMS fields");
  assertEquals(
    (await arcSeal(encoder.encode(withoutAms), options(forward.signing, "pass"))).sealed,
    false,
  );
  // ... but a failing chain of any shape is sealed as failing.
  const failing = await arcSeal(encoder.encode(withoutAms), options(forward.signing, "fail"));
  assert(failing.sealed);
  assertEquals([failing.instance, failing.cv], [2, "fail"]);
  // ARC fields without usable instances: no chain could start over them.
  const junk = encoder.encode(`ARC-Seal: i=0; cv=none; b=x\r\n${MESSAGE}`);
  assertEquals(await arcSeal(junk, options(forward.signing, "fail")), {
    sealed: false,
    reason: "an ARC field has no instance from 1 to 50",
  });
  // No ARC fields at all: i=1 with cv=none, whatever the check said.
  const none = await arcSeal(encoder.encode(MESSAGE), options(forward.signing, "fail"));
  assert(none.sealed);
  assertEquals([none.instance, none.cv], [1, "none"]);
});

Deno.test("the AAR cannot start a field of its own, and bare LF messages are sealed", async () => {
  const { forward, records } = await world();
  const hostile = `${AUTHSERV}; spf=pass\r\nBcc: victim@example.org smtp.mailfrom=x@y.example`;
  const lf = encoder.encode(MESSAGE.replaceAll("\r\n", "\n"));
  const message = await sealed(lf, options(forward.signing, "none", hostile));
  const all = fields(message);
  assertEquals(all.filter((f) => f.startsWith("Bcc:")).length, 0);
  assertEquals(
    unfold(all[2]!),
    `ARC-Authentication-Results: i=1; ${AUTHSERV}; spf=pass Bcc: victim@example.org smtp.mailfrom=x@y.example`,
  );
  assertEquals((await arcpyVerify(message, records)).cv, "pass");
});

Deno.test("sealing is RSA-SHA256 only", async () => {
  const { ed } = await world();
  await assertRejects(
    () => arcSeal(encoder.encode(MESSAGE), options(ed.signing, "none")),
    ArcSealError,
    'Cannot seal with the ed25519-sha256 key "fumi-ed-1": ARC seals are RSA-SHA256',
  );
});
