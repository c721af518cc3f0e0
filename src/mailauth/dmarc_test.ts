import { assertEquals } from "../../tests/assert.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import {
  aligns,
  discoverPolicy,
  type DmarcInput,
  evaluateDmarc,
  organizationalDomain,
  parseDmarcRecord,
} from "./dmarc.ts";

const encoder = new TextEncoder();
const txt = (name: string, text: string): DnsRecord => ({
  type: "TXT",
  name,
  ttl: 300,
  strings: [encoder.encode(text)],
  text,
});

const WORLD: DnsRecord[] = [
  txt("_dmarc.reject.example", "v=DMARC1; p=reject; sp=quarantine; adkim=s"),
  txt("_dmarc.half.example", "v=DMARC1; p=reject; pct=50"),
  txt("_dmarc.none.example", "v=DMARC1; p=none; rua=mailto:d@none.example"),
  txt("_dmarc.two.example", "v=DMARC1; p=reject"),
  txt("_dmarc.two.example", "v=DMARC1; p=none"),
  txt("_dmarc.other.example", "v=spf1 -all"),
  txt("_dmarc.strict-spf.example", "v=DMARC1; p=reject; aspf=s"),
  txt("_dmarc.example.co.uk", "v=DMARC1; p=quarantine"),
];
const resolver = () => new FakeResolver(WORLD, { failing: ["_dmarc.down.example"] });

Deno.test("DMARC record: tags of RFC 7489 §6.3 with their defaults", () => {
  assertEquals(parseDmarcRecord("v=DMARC1; p=reject"), {
    p: "reject",
    sp: "reject",
    pct: 100,
    adkim: "r",
    aspf: "r",
  });
  assertEquals(parseDmarcRecord("v = DMARC1;P=Quarantine; SP=none; pct=20; adkim=s; aspf=S"), {
    p: "quarantine",
    sp: "none",
    pct: 20,
    adkim: "s",
    aspf: "s",
  });
  // §6.3 pct out of range: the default.
  assertEquals(parseDmarcRecord("v=DMARC1; p=reject; pct=150")?.pct, 100);
  // Not a DMARC record (§6.6.3 step 2): the version first, exactly "DMARC1".
  assertEquals(parseDmarcRecord("p=reject; v=DMARC1"), null);
  assertEquals(parseDmarcRecord("v=DMARC2; p=reject"), null);
  // §6.6.3 step 6: no valid p — ignored, unless a valid rua makes it p=none.
  assertEquals(parseDmarcRecord("v=DMARC1; p=block"), null);
  assertEquals(parseDmarcRecord("v=DMARC1; p=reject; sp=bogus"), null);
  assertEquals(parseDmarcRecord("v=DMARC1; rua=mailto:r@example.org")?.p, "none");
});

Deno.test("Organizational Domain and alignment by the Public Suffix List (RFC 7489 §3.1, §3.2)", () => {
  assertEquals(organizationalDomain("mail.sender.example"), "sender.example");
  assertEquals(organizationalDomain("a.b.example.co.uk"), "example.co.uk");
  // The private section counts: each github.io site is its own organization.
  assertEquals(organizationalDomain("x.y.github.io"), "y.github.io");
  assertEquals(aligns("mail.sender.example", "sender.example", "r"), true);
  assertEquals(aligns("mail.sender.example", "sender.example", "s"), false);
  assertEquals(aligns("Sender.Example.", "sender.example", "s"), true);
  assertEquals(aligns("a.example.co.uk", "b.co.uk", "r"), false);
  assertEquals(aligns("a.github.io", "b.github.io", "r"), false);
});

Deno.test("DMARC discovery: the Author Domain, then its Organizational Domain (§6.6.3)", async () => {
  const r = resolver();
  assertEquals((await discoverPolicy(r, "reject.example")).kind, "found");
  const inherited = await discoverPolicy(r, "news.reject.example");
  assertEquals(inherited.kind === "found" && inherited.inherited, true);
  assertEquals(await discoverPolicy(r, "nothing.example"), {
    kind: "none",
    reason: "no DMARC record",
  });
  assertEquals(await discoverPolicy(r, "two.example"), {
    kind: "none",
    reason: "several DMARC records",
  });
  assertEquals(await discoverPolicy(r, "other.example"), {
    kind: "none",
    reason: "no DMARC record",
  });
  assertEquals(await discoverPolicy(r, "down.example"), {
    kind: "temperror",
    reason: "DNS error for _dmarc.down.example",
  });
  assertEquals(r.asked, [
    "_dmarc.reject.example TXT",
    "_dmarc.news.reject.example TXT",
    "_dmarc.reject.example TXT",
    "_dmarc.nothing.example TXT",
    "_dmarc.two.example TXT",
    "_dmarc.other.example TXT",
    "_dmarc.down.example TXT",
  ]);
});

const input = (authorDomain: string, more: Partial<DmarcInput> = {}): DmarcInput => ({
  authorDomain,
  spfDomain: null,
  dkimDomains: [],
  resolver: resolver(),
  ...more,
});

Deno.test("DMARC evaluation: one aligned, authenticated identifier passes", async () => {
  const spf = await evaluateDmarc(input("reject.example", { spfDomain: "bounce.reject.example" }));
  assertEquals([spf.result, spf.policy, spf.aligned.spf], [
    "pass",
    "none",
    "bounce.reject.example",
  ]);
  // adkim=s: a subdomain's signature does not align, the domain's own does.
  const sub = await evaluateDmarc(
    input("reject.example", { dkimDomains: ["mail.reject.example"] }),
  );
  assertEquals([sub.result, sub.policy], ["fail", "reject"]);
  const own = await evaluateDmarc(input("reject.example", { dkimDomains: ["REJECT.example"] }));
  assertEquals([own.result, own.aligned.dkim], ["pass", "reject.example"]);
  // aspf=s.
  const strict = await evaluateDmarc(
    input("strict-spf.example", { spfDomain: "mail.strict-spf.example" }),
  );
  assertEquals(strict.result, "fail");
  // Another organization's identifiers do not help.
  const other = await evaluateDmarc(
    input("reject.example", { spfDomain: "evil.example", dkimDomains: ["evil.example"] }),
  );
  assertEquals([other.result, other.published, other.policy], ["fail", "reject", "reject"]);
});

Deno.test("DMARC evaluation: sp for subdomains, pct sampling, none and temperror", async () => {
  // The record of the Organizational Domain applies to a subdomain with its sp.
  const sub = await evaluateDmarc(input("news.reject.example"));
  assertEquals([sub.result, sub.published, sub.policy], ["fail", "quarantine", "quarantine"]);
  // The PSL decides where the organization starts.
  const uk = await evaluateDmarc(input("shop.example.co.uk"));
  assertEquals([uk.result, uk.policy], ["fail", "quarantine"]);
  // §6.6.4: pct=50 applies the policy to half; the others get the next lower one.
  const sampled = await evaluateDmarc(input("half.example", { random: () => 0.49 }));
  assertEquals([sampled.result, sampled.policy], ["fail", "reject"]);
  const spared = await evaluateDmarc(input("half.example", { random: () => 0.5 }));
  assertEquals([spared.result, spared.published, spared.policy], ["fail", "reject", "quarantine"]);
  const none = await evaluateDmarc(input("none.example"));
  assertEquals([none.result, none.policy], ["fail", "none"]);
  const absent = await evaluateDmarc(input("nothing.example"));
  assertEquals([absent.result, absent.published, absent.policy], ["none", null, "none"]);
  // A DNS failure is no verdict: temperror, and nothing applied.
  const down = await evaluateDmarc(input("down.example"));
  assertEquals([down.result, down.policy], ["temperror", "none"]);
});

Deno.test("DMARC evaluation: an aligned identifier cut short by a DNS error is temperror (§6.6.2)", async () => {
  // The DKIM key of the Author Domain could not be fetched, SPF did not pass: undecided, not
  // failed, with the published policy kept for the caller (451 for reject).
  const dkim = await evaluateDmarc(input("reject.example", { dkimTemperrors: ["reject.example"] }));
  assertEquals(
    [dkim.result, dkim.published, dkim.policy, dkim.reason],
    ["temperror", "reject", "none", "DNS error for the DKIM key of reject.example"],
  );
  const spf = await evaluateDmarc(input("half.example", { spfTemperror: "mail.half.example" }));
  assertEquals([spf.result, spf.published], ["temperror", "reject"]);
  // A pass decides, whatever else could not be checked.
  const passed = await evaluateDmarc(
    input("reject.example", { dkimDomains: ["reject.example"], spfTemperror: "reject.example" }),
  );
  assertEquals(passed.result, "pass");
  // An identifier that could not align (adkim=s: a subdomain's key) leaves the failure.
  const unaligned = await evaluateDmarc(
    input("reject.example", { dkimTemperrors: ["mail.reject.example", "evil.example"] }),
  );
  assertEquals([unaligned.result, unaligned.policy], ["fail", "reject"]);
});
