import { assertEquals } from "../../tests/assert.ts";
import { addressQuery, type DnsList, interpret, parseCodeRange } from "./lists.ts";
import { DNSWL, SPAMHAUS_DBL, SPAMHAUS_ZEN } from "./presets.ts";
import { toList } from "./settings.ts";

const zen = toList(SPAMHAUS_ZEN, "ip");

Deno.test("addressQuery: IPv4 octets reversed (RFC 5782 §2.1)", () => {
  assertEquals(addressQuery("192.0.2.99"), "99.2.0.192");
  assertEquals(addressQuery("127.0.0.2"), "2.0.0.127");
  // An IPv4-mapped IPv6 address is its IPv4 address.
  assertEquals(addressQuery("::ffff:192.0.2.99"), "99.2.0.192");
});

Deno.test("addressQuery: IPv6 as 32 reversed nibbles (RFC 5782 §2.4)", () => {
  // RFC 5782 §2.4's example: 2001:db8:1:2:3:4:567:89ab.
  assertEquals(
    addressQuery("2001:DB8:1:2:3:4:567:89ab"),
    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2",
  );
  assertEquals(addressQuery("::1")?.split(".").length, 32);
  assertEquals(addressQuery("not an address"), null);
});

Deno.test("interpret: documented codes carry their meaning, weight and action", () => {
  const xbl = interpret(zen, ["127.0.0.4"]);
  assertEquals(xbl.kind, "listed");
  if (xbl.kind !== "listed") return;
  assertEquals(xbl.hits[0]?.meaning, "XBL");
  assertEquals(xbl.hits[0]?.action, "reject");
  const pbl = interpret(zen, ["127.0.0.11"]);
  assertEquals(pbl.kind === "listed" ? [pbl.hits[0]?.meaning, pbl.hits[0]?.action] : null, [
    "PBL",
    "score",
  ]);
  // A code the configuration does not know is not a listing.
  assertEquals(interpret(zen, ["127.0.0.200"]).kind, "not-listed");
});

Deno.test("interpret: 127.255.255.x is a refusal, answers outside 127/8 are invalid", () => {
  for (const code of ["127.255.255.252", "127.255.255.254", "127.255.255.255"]) {
    assertEquals(interpret(zen, [code]), { kind: "refused", code });
  }
  const dbl = toList(SPAMHAUS_DBL, "domain");
  assertEquals(interpret(dbl, ["127.255.255.254"]).kind, "refused");
  assertEquals(interpret(zen, ["192.0.2.1"]), { kind: "invalid", codes: ["192.0.2.1"] });
});

Deno.test("interpret: a list without codes takes any 127/8 answer as a listing", () => {
  const plain: DnsList = {
    name: "local",
    zone: "bl.test",
    kind: "ip",
    codes: [],
    weight: 2,
    action: "score",
  };
  const result = interpret(plain, ["127.0.0.2", "127.0.0.3"]);
  assertEquals(result.kind === "listed" ? result.hits.map((h) => h.code) : [], [
    "127.0.0.2",
    "127.0.0.3",
  ]);
});

Deno.test("parseCodeRange: single codes and ranges", () => {
  assertEquals(parseCodeRange("127.0.0.2"), { first: 0x7f000002, last: 0x7f000002 });
  assertEquals(parseCodeRange("127.0.0.4-127.0.0.7"), { first: 0x7f000004, last: 0x7f000007 });
  assertEquals(parseCodeRange("127.0.0.7-127.0.0.4"), null);
  assertEquals(parseCodeRange("x"), null);
});

Deno.test("toList: a DQS zone takes the known list's codes", () => {
  const list = toList({ name: "zen-dqs", zone: "KEY123.zen.dq.spamhaus.net" }, "ip");
  assertEquals(list.zone, "key123.zen.dq.spamhaus.net");
  assertEquals(list.codes.length, SPAMHAUS_ZEN.codes!.length);
  const unknown = toList({ name: "other", zone: "bl.example.net" }, "ip");
  assertEquals([unknown.codes.length, unknown.weight, unknown.action], [0, 1, "score"]);
});

Deno.test("DNSWL preset: trust none weighs 0 and vouches for nothing; low to high accept; .255 refuses", () => {
  const dnswl = toList(DNSWL, "ip");
  const hit = (code: string) => {
    const meaning = interpret(dnswl, [code]);
    return meaning.kind === "listed"
      ? [meaning.hits[0]!.meaning, meaning.hits[0]!.weight, meaning.hits[0]!.action]
      : meaning.kind;
  };
  // 127.0.<category>.<trust>: trust 0 is "none", a known sender that also sends spam.
  assertEquals(hit("127.0.5.0"), ["trust none", 0, "score"]);
  assertEquals(hit("127.0.20.0"), ["trust none", 0, "score"]);
  assertEquals(hit("127.0.5.1"), ["trusted", -2, "accept"]);
  assertEquals(hit("127.0.15.3"), ["trusted", -2, "accept"]);
  assertEquals(hit("127.0.0.255"), "refused");
  // Undocumented codes are not listings.
  assertEquals(hit("127.0.5.4"), "not-listed");
  assertEquals(hit("127.0.0.0"), "not-listed");
});
