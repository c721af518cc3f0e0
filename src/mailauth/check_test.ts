import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/assert.ts";
import { arcSeal, dkimRecordText, signMessage } from "../dkim/mod.ts";
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
  // The display name shows sender.example: it does not pass, and the message goes to Junk.
  // Not refused: the Author Domain is the mailbox's (RFC 7489 §3.1), and help desks and web
  // forms write the author's address in the name of genuine mail.
  const trick = await run(
    resolver,
    context(message('From: "alice@sender.example" <x@evil.example>'), {
      sender: parseAddress("x@evil.example"),
    }),
  );
  assertEquals(trick.verdict, {
    action: "quarantine",
    reason: "From display name shows sender.example, which fails DMARC",
  });
  assertStringIncludes(
    trick.headers[0]![1],
    "dmarc=fail (shown in the From display name p=reject dis=quarantine) header.from=sender.example",
  );
  assertEquals(trick.headers[0]![1].includes("dmarc=pass (p=reject) header.from=sender"), false);
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

Deno.test("mail authentication: DNS failures: 451 when the policy may refuse, else delivered", async () => {
  // The policy cannot be fetched: it may be reject, so the sender is asked to retry (before,
  // this was delivered, and a forgery with it).
  const resolver = new FakeResolver(await world(), {
    failing: ["sender.example", "_dmarc.sender.example", "client.sender.example"],
  });
  const result = await run(resolver, context(message("From: alice@sender.example")));
  assertEquals(result.verdict, {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "DMARC for sender.example could not be evaluated; try again later",
  });
  const value = result.headers[0]![1];
  assertStringIncludes(value, "spf=temperror smtp.mailfrom=a@sender.example");
  assertStringIncludes(value, "dmarc=temperror (DNS error for _dmarc.sender.example)");
  // p=none: nothing to refuse; the SPF temperror is recorded and the message delivered.
  const open = await run(
    new FakeResolver(await world(), { failing: ["open.example"] }),
    context(message("From: o@open.example"), { sender: parseAddress("o@open.example") }),
  );
  assertEquals(open.verdict, { action: "accept" });
  assertStringIncludes(open.headers[0]![1], "spf=temperror smtp.mailfrom=o@open.example");
  assertStringIncludes(
    open.headers[0]![1],
    "dmarc=temperror (p=none DNS error for the SPF record of open.example) header.from=open.example",
  );
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
  // Nothing could be decided: 451, the sender retries (before, this was accepted unchecked).
  assertEquals(result.verdict.action, "tempfail");
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

/** FakeResolver, except that lookups of `silent` names never answer (a hostile name server). */
class Slow implements Resolver {
  readonly #inner: FakeResolver;
  readonly #silent: ReadonlySet<string>;
  constructor(records: DnsRecord[], silent: readonly string[]) {
    this.#inner = new FakeResolver(records);
    this.#silent = new Set(silent);
  }
  lookup<T extends RecordType>(name: string, type: T): Promise<Lookup<T>> {
    if (this.#silent.has(name.toLowerCase().replace(/\.$/, ""))) return new Promise(() => {});
    return this.#inner.lookup(name, type);
  }
}

Deno.test("mail authentication: a slow SPF include of the attacker's cannot get a p=reject forgery delivered", async () => {
  const records = [
    ...await world(),
    txt("evil.example", "v=spf1 include:slow.evil.example -all"),
    txt("_dmarc.evil.example", "v=DMARC1; p=none"),
  ];
  // MAIL FROM on the attacker's domain, whose SPF include never answers; the From is
  // sender.example's (p=reject), unsigned. The policy lookup runs from the start, so the time
  // spent on SPF does not leave it unanswered.
  const forged = await run(
    new Slow(records, ["slow.evil.example"]),
    context(message("From: ceo@sender.example"), { sender: parseAddress("x@evil.example") }),
    300,
  );
  assertEquals(forged.verdict, {
    action: "reject",
    code: 550,
    enhanced: "5.7.1",
    text: "Message refused: DMARC policy of sender.example is reject",
  });
  assertStringIncludes(forged.headers[0]![1], "spf=temperror smtp.mailfrom=x@evil.example");
  // Several mailboxes, the slow ones first: looked up together, the real one still refuses.
  const group = await run(
    new Slow(records, ["_dmarc.slow1.example", "_dmarc.slow2.example"]),
    context(message("From: a@slow1.example, b@slow2.example, ceo@sender.example"), {
      sender: parseAddress("x@other.example"),
    }),
    300,
  );
  assertEquals(group.verdict.action, "reject");
  // The policy itself does not answer in time: it may be reject, so 451, never delivered.
  const silent = await run(
    new Slow(records, ["_dmarc.sender.example"]),
    context(message("From: ceo@sender.example"), { sender: parseAddress("x@evil.example") }),
    300,
  );
  assertEquals(silent.verdict, {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "DMARC for sender.example could not be evaluated; try again later",
  });
});

Deno.test("mail authentication: a DNS error on an aligned DKIM key or SPF record is 451, not 550", async () => {
  // Genuine mail through a forwarder: SPF does not pass for sender.example, the signature
  // would; its key lookup fails (SERVFAIL). RFC 7489 §6.6.2: temporary, not a failure.
  const raw = await signed(message("From: alice@sender.example"));
  const forwarded = await run(
    new FakeResolver(await world(), { failing: ["ed._domainkey.sender.example"] }),
    context(raw, { sender: parseAddress("list@forwarder.example") }),
  );
  assertEquals(forwarded.verdict, {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "DMARC for sender.example could not be evaluated; try again later",
  });
  const value = forwarded.headers[0]![1];
  assertMatch(value, /dkim=temperror .*header\.d=sender\.example/);
  assertStringIncludes(
    value,
    "dmarc=temperror (p=reject DNS error for the DKIM key of sender.example) header.from=sender.example",
  );
  // The same for an aligned SPF check that could not be done, without a signature.
  const spf = await run(
    new FakeResolver(await world(), { failing: ["sender.example"] }),
    context(message("From: alice@sender.example")),
  );
  assertEquals(spf.verdict.action, "tempfail");
  // A temperror on an identifier that could not align changes nothing: a forgery is refused.
  const unaligned = await run(
    new FakeResolver(await world(), { failing: ["other.example"] }),
    context(message("From: alice@sender.example"), { sender: parseAddress("x@other.example") }),
  );
  assertEquals(unaligned.verdict.action, "reject");
});

Deno.test("mail authentication: HELO's SPF pass does not stand in for a MAIL FROM that is not <>", async () => {
  // HELO client.sender.example passes SPF and aligns with sender.example; MAIL FROM is
  // another domain, so the SPF-authenticated identifier is that one (RFC 7489 §3.1.2).
  const result = await run(
    new FakeResolver(await world()),
    context(message("From: alice@sender.example"), { sender: parseAddress("x@other.example") }),
  );
  assertStringIncludes(result.headers[0]![1], "spf=pass smtp.helo=client.sender.example");
  assertEquals(result.verdict.action, "reject");
});

Deno.test("mail authentication: a help desk writing the author's address in the name is filed, not refused", async () => {
  const records = [...await world(), txt("helpdesk.example", "v=spf1 ip4:192.0.2.1 -all")];
  const result = await run(
    new FakeResolver(records),
    context(message('From: "alice@sender.example via Help" <tickets@helpdesk.example>'), {
      sender: parseAddress("bounce@helpdesk.example"),
    }),
  );
  assertEquals(result.verdict.action, "quarantine");
  // The mailbox's domain is the Author Domain: no policy record, no DMARC processing.
  assertStringIncludes(
    result.headers[0]![1],
    "dmarc=none (no DMARC record) header.from=helpdesk.example",
  );
});

Deno.test("mail authentication: DKIM work is bounded: ten signatures verified, the rest one policy result", async () => {
  // 400 signatures with bogus body hashes and distinct l= values (a hasher each), over a
  // 2 MiB body, and a forged p=reject From.
  const body = "x".repeat(998) + "\r\n";
  const big = body.repeat(2 * 1024 * 1024 / body.length);
  const signatures = Array.from(
    { length: 400 },
    (_, i) =>
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=evil${i}.example; s=s; h=from;` +
      ` l=${1000 + i}; bh=AAAA${i}; b=AAAA\r\n`,
  ).join("");
  const raw = encoder.encode(
    signatures + new TextDecoder().decode(message("From: ceo@sender.example", big)),
  );
  const started = Date.now();
  const result = await run(
    new FakeResolver(await world()),
    context(raw, { sender: parseAddress("x@other.example") }),
  );
  const ms = Date.now() - started;
  assertEquals(result.verdict.action, "reject");
  const value = result.headers[0]![1];
  assertStringIncludes(value, "dkim=policy (390 signatures after the first 10 not verified)");
  assertEquals((value.match(/dkim=/g) ?? []).length, 11);
  assert(ms < 5_000, `took ${ms} ms`);
  // The policy check fails closed: a timeout or a failure of its own is a 451, not an accept.
  const [, policy] = mailauthChecks({ hostname: "mx.example.org", resolver: new FakeResolver([]) });
  assertEquals(policy!.onError, "closed");
});

Deno.test("mail authentication: a signature whose key is missing is a permerror (RFC 6376 §6.1.2)", async () => {
  const raw = await signed(message("From: alice@sender.example"));
  const records = (await world()).filter((r) => r.name !== "ed._domainkey.sender.example");
  const result = await run(new FakeResolver(records), context(raw));
  assertMatch(result.headers[0]![1], /dkim=permerror \(no key\) header\.d=sender\.example/);
});

Deno.test("mail authentication: a trusted ARC sealer vouches only for what its own results show passed", async () => {
  const key = await testKey("rsa-sha256", "lists.example", "arc");
  const records = [
    ...await world(),
    txt("arc._domainkey.lists.example", dkimRecordText("rsa-sha256", key.publicKey)),
    txt("lists.example", "v=spf1 ip4:192.0.2.1 -all"),
  ];
  const sealed = async (authResults: string, subject: string) => {
    const raw = message("From: alice@sender.example", `${subject}\r\n`);
    const result = await arcSeal(raw, {
      authResults,
      chain: "none",
      key: key.signing,
      now: Date.now(),
    });
    assert(result.sealed);
    return result.message;
  };
  const verdict = async (authResults: string) => {
    const checks = mailauthChecks({
      hostname: "mx.example.org",
      resolver: new FakeResolver(records),
      trustedArcSealers: ["lists.example"],
    });
    const raw = await sealed(authResults, "list");
    const ctx = context(raw, { sender: parseAddress("bounces@lists.example") });
    return await new FilterChain(checks).run(ctx);
  };
  // The list host saw sender.example pass DMARC: its seal vouches for it.
  const passed = await verdict("mx.lists.example; dmarc=pass header.from=sender.example");
  assertEquals(passed.verdict, { action: "accept" });
  assertStringIncludes(passed.headers[0]![1], "arc=pass (sealed by lists.example)");
  assertStringIncludes(passed.headers[0]![1], "dis=none override: ARC sealed by lists.example");
  // It relayed a forgery that failed there too: the seal launders nothing.
  const failed = await verdict("mx.lists.example; dmarc=fail header.from=sender.example");
  assertEquals(failed.verdict.action, "reject");
  // Results under another ADMD's authserv-id are not the sealer's to vouch with.
  const foreign = await verdict("mx.other.example; dmarc=pass header.from=sender.example");
  assertEquals(foreign.verdict.action, "reject");
  // A pass for another domain vouches nothing for sender.example.
  const other = await verdict("mx.lists.example; dmarc=pass header.from=evil.example");
  assertEquals(other.verdict.action, "reject");
  // An aligned DKIM pass the list host saw is as good as its DMARC pass.
  const dkim = await verdict("lists.example; dkim=pass header.d=sender.example; dmarc=none");
  assertEquals(dkim.verdict, { action: "accept" });
});

Deno.test("mail authentication: a tempfailed message's results are not recorded (it comes again)", async () => {
  const recorded: string[] = [];
  const checks = (resolver: Resolver) =>
    mailauthChecks({
      hostname: "mx.example.org",
      resolver,
      onResults: ({ results }) => {
        recorded.push(results.disposition.action);
        return Promise.resolve();
      },
    });
  const forged = context(message("From: alice@sender.example"), {
    sender: parseAddress("x@other.example"),
  });
  const undecided = new FakeResolver(await world(), { failing: ["_dmarc.sender.example"] });
  assertEquals((await new FilterChain(checks(undecided)).run(forged)).verdict.action, "tempfail");
  assertEquals(recorded, []);
  const decided = new FakeResolver(await world());
  assertEquals((await new FilterChain(checks(decided)).run(forged)).verdict.action, "reject");
  assertEquals(recorded, ["reject"]);
});
