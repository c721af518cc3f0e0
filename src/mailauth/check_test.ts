import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/assert.ts";
import { dkimRecordText, signMessage } from "../dkim/mod.ts";
import { testKey } from "../dkim/_test_keys.ts";
import {
  type DnsRecord,
  FakeResolver,
  type Lookup,
  type RecordType,
  type Resolver,
} from "../dns/mod.ts";
import { FilterChain, type FilterContext } from "../filter/mod.ts";
import { parseHeader } from "../mime/mod.ts";
import { type MailAddress, parseAddress } from "../util/address.ts";
import { mailauthChecks } from "./check.ts";

const encoder = new TextEncoder();
const txt = (name: string, text: string): DnsRecord => ({
  type: "TXT",
  name,
  ttl: 300,
  strings: [encoder.encode(text)],
  text,
});

const CLIENT = "192.0.2.1";

async function world(): Promise<DnsRecord[]> {
  const key = await testKey("ed25519-sha256", "sender.example", "ed");
  return [
    txt("sender.example", "v=spf1 ip4:192.0.2.1 -all"),
    txt("ed._domainkey.sender.example", dkimRecordText("ed25519-sha256", key.publicKey)),
    txt("_dmarc.sender.example", "v=DMARC1; p=reject"),
    txt("quarantined.example", "v=spf1 -all"),
    txt("_dmarc.quarantined.example", "v=DMARC1; p=quarantine"),
    txt("open.example", "v=spf1 ~all"),
    txt("_dmarc.open.example", "v=DMARC1; p=none"),
    txt("client.sender.example", "v=spf1 a -all"),
    { type: "A", name: "client.sender.example", ttl: 300, address: CLIENT },
  ];
}

function message(from: string, body = "Hello\r\n"): Uint8Array {
  return encoder.encode(
    `${from}\r\nTo: bob@example.org\r\nSubject: test\r\nDate: Sat, 28 Nov 2026 06:00:00 +0000\r\n` +
      `Message-ID: <1@sender.example>\r\n\r\n${body}`,
  );
}

async function signed(raw: Uint8Array): Promise<Uint8Array> {
  const key = await testKey("ed25519-sha256", "sender.example", "ed");
  return await signMessage(raw, [key.signing], { now: Date.now() });
}

function context(
  raw: Uint8Array,
  more: { sender?: MailAddress | null; role?: "mx" | "submission" } = {},
): FilterContext {
  return {
    stage: "data",
    connection: { ip: CLIENT, port: 25, tls: null, role: more.role ?? "mx" },
    helo: "client.sender.example",
    account: null,
    sender: more.sender === undefined ? parseAddress("a@sender.example") : more.sender,
    declaredSize: null,
    recipients: [],
    recipient: null,
    message: {
      size: raw.length,
      header: raw.subarray(0, parseHeader(raw).bodyStart),
      raw,
    },
  };
}

async function run(resolver: Resolver, ctx: FilterContext, timeoutMs?: number) {
  const checks = mailauthChecks({
    hostname: "mx.example.org",
    resolver,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  return await new FilterChain(checks).run(ctx);
}

Deno.test("mail authentication: a signed message from an SPF-authorised client passes", async () => {
  const raw = await signed(message("From: Alice <alice@sender.example>"));
  const result = await run(new FakeResolver(await world()), context(raw));
  assertEquals(result.verdict, { action: "accept" });
  assertEquals(result.headers.length, 1);
  const [name, value] = result.headers[0]!;
  assertEquals(name, "Authentication-Results");
  assertMatch(value, /^mx\.example\.org; spf=pass smtp\.mailfrom=a@sender\.example; /);
  assertStringIncludes(value, "spf=pass smtp.helo=client.sender.example");
  assertMatch(
    value,
    /dkim=pass header\.d=sender\.example header\.s=ed header\.a=ed25519-sha256 header\.b=("[^"]{8}"|[^\s";]{8});/,
  );
  assertStringIncludes(value, "dmarc=pass (p=reject) header.from=sender.example");
  assertMatch(value, /; arc=none$/);
});

Deno.test("mail authentication: DMARC reject refuses, quarantine files to Junk, none delivers", async () => {
  const resolver = new FakeResolver(await world());
  // Not signed, and the client is not in sender.example's SPF record as MAIL FROM says.
  const forged = await run(
    resolver,
    context(message("From: alice@sender.example"), { sender: parseAddress("x@other.example") }),
  );
  assertEquals(forged.verdict, {
    action: "reject",
    code: 550,
    enhanced: "5.7.1",
    text: "Message refused: DMARC policy of sender.example is reject",
  });
  const junk = await run(
    resolver,
    context(message("From: q@quarantined.example"), {
      sender: parseAddress("q@quarantined.example"),
    }),
  );
  assertEquals(junk.verdict, {
    action: "quarantine",
    reason: "DMARC policy of quarantined.example is quarantine",
  });
  assertStringIncludes(junk.headers[0]![1], "spf=fail smtp.mailfrom=q@quarantined.example");
  assertStringIncludes(junk.headers[0]![1], "dmarc=fail (p=quarantine dis=quarantine)");
  const open = await run(
    resolver,
    context(message("From: o@open.example"), { sender: parseAddress("o@open.example") }),
  );
  assertEquals(open.verdict, { action: "accept" });
  assertStringIncludes(open.headers[0]![1], "spf=softfail smtp.mailfrom=o@open.example");
  assertStringIncludes(
    open.headers[0]![1],
    "dmarc=fail (p=none dis=none) header.from=open.example",
  );
});

Deno.test("mail authentication: <> is checked on its HELO identity (RFC 7208 §2.4)", async () => {
  const raw = message("From: MAILER-DAEMON@client.sender.example");
  const result = await run(new FakeResolver(await world()), context(raw, { sender: null }));
  const value = result.headers[0]![1];
  assertStringIncludes(
    value,
    "mx.example.org; spf=pass smtp.helo=client.sender.example; dkim=none",
  );
  // The HELO domain is the SPF-authenticated identifier, aligned with sender.example's policy.
  assertStringIncludes(value, "dmarc=pass (p=reject) header.from=client.sender.example");
  assertEquals(result.verdict, { action: "accept" });
});

Deno.test("mail authentication: a From DMARC cannot evaluate is refused; tricks do not pass", async () => {
  const resolver = new FakeResolver(await world());
  // A valid signature, and a second From field added on the way.
  const good = await signed(message("From: alice@sender.example"));
  const added = new Uint8Array([...encoder.encode("From: x@evil.example\r\n"), ...good]);
  const two = await run(resolver, context(added));
  assertEquals(two.verdict, {
    action: "reject",
    code: 550,
    enhanced: "5.7.1",
    text: "Message refused by DMARC: 2 From fields",
  });
  // Signed by evil.example's own client, but the display name shows sender.example.
  const trick = await run(
    resolver,
    context(message('From: "alice@sender.example" <x@evil.example>'), {
      sender: parseAddress("x@evil.example"),
    }),
  );
  assertEquals(trick.verdict.action, "reject");
  assertStringIncludes(
    trick.headers[0]![1],
    "dmarc=fail (p=reject dis=reject) header.from=sender.example",
  );
});

Deno.test("mail authentication: submission is not checked and asks nothing", async () => {
  const resolver = new FakeResolver(await world());
  const result = await run(
    resolver,
    context(message("From: a@sender.example"), { role: "submission" }),
  );
  assertEquals(result, { verdict: { action: "accept" }, headers: [], quarantine: null });
  assertEquals(resolver.asked, []);
});

Deno.test("mail authentication: DNS failures deliver, with temperror recorded", async () => {
  const resolver = new FakeResolver(await world(), {
    failing: ["sender.example", "_dmarc.sender.example", "client.sender.example"],
  });
  const result = await run(resolver, context(message("From: alice@sender.example")));
  assertEquals(result.verdict, { action: "accept" });
  const value = result.headers[0]![1];
  assertStringIncludes(value, "spf=temperror smtp.mailfrom=a@sender.example");
  assertStringIncludes(value, "dmarc=temperror (DNS error for _dmarc.sender.example)");
});

/** A resolver whose answers never come. */
class Silent implements Resolver {
  lookup<T extends RecordType>(): Promise<Lookup<T>> {
    return new Promise(() => {});
  }
}

Deno.test("mail authentication: a silent name server costs at most the time bound", async () => {
  const started = Date.now();
  const raw = await signed(message("From: alice@sender.example"));
  const result = await run(new Silent(), context(raw), 200);
  assert(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  assertEquals(result.verdict, { action: "accept" });
  const value = result.headers[0]![1];
  assertStringIncludes(value, "spf=temperror smtp.mailfrom=a@sender.example");
  assertMatch(value, /dkim=temperror .*header\.d=sender\.example/);
  assertStringIncludes(value, "dmarc=temperror");
});

Deno.test("mail authentication: a DKIM-Signature field missing its tags is a permerror", async () => {
  const raw = encoder.encode(
    "DKIM-Signature: v=1; a=rsa-sha256; s=x; h=from; bh=abc; b=abc\r\n" +
      new TextDecoder().decode(message("From: o@open.example")),
  );
  const result = await run(new FakeResolver(await world()), context(raw, { sender: null }));
  assertStringIncludes(result.headers[0]![1], "; dkim=permerror (signature not usable); ");
});
