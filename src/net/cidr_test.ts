import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  CidrList,
  contains,
  covers,
  formatCidr,
  formatIp,
  ipKey,
  normalizeIp,
  parseCidr,
  parseIp,
  tryParseCidr,
  tryParseIp,
} from "./cidr.ts";

Deno.test("IPv4 and IPv6 addresses parse to canonical text", () => {
  const cases: [string, string][] = [
    ["0.0.0.0", "0.0.0.0"],
    ["192.0.2.7", "192.0.2.7"],
    ["255.255.255.255", "255.255.255.255"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // RFC 5952 §4.2.3: first of equal runs
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // §4.2.2: one zero group stays
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // §4.2.3: the longest run
    ["fe80:0:0:0:0:0:0:0", "fe80::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"], // "::" standing for one group parses
    ["::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"], // RFC 6052 NAT64: stays IPv6
    ["::192.0.2.1", "::c000:201"], // IPv4-compatible (deprecated): stays IPv6
    // IPv4-mapped (RFC 4291 §2.5.5.2) is the IPv4 address, in any spelling.
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:192.0.2.1", "192.0.2.1"],
    ["::ffff:c000:201", "192.0.2.1"],
    ["0:0:0:0:0:ffff:192.0.2.1", "192.0.2.1"],
    ["0000:0000:0000:0000:0000:ffff:c000:0201", "192.0.2.1"],
  ];
  for (const [input, expected] of cases) {
    assertEquals(normalizeIp(input), expected, input);
    assertEquals(formatIp(parseIp(input)), expected, input);
    // Canonical text parses to itself.
    assertEquals(normalizeIp(expected), expected, `${expected} again`);
  }
  assertEquals(parseIp("::ffff:192.0.2.1").version, 4);
  assertEquals(parseIp("::192.0.2.1").version, 6);
});

Deno.test("malformed addresses, zone ids and brackets are refused with the reason", () => {
  const cases: [string, string][] = [
    ["", "not an IPv4 or IPv6 address"],
    ["localhost", "not an IPv4 or IPv6 address"],
    ["1.2.3", "four parts"],
    ["1.2.3.4.5", "four parts"],
    ["256.1.1.1", "256 is more than 255"],
    ["01.2.3.4", "leading zeros"],
    ["1.2.3.04", "leading zeros"],
    ["1..2.3", "decimal octet"],
    ["1.2.3.4 ", "not an IPv4 or IPv6 address"],
    [" 1.2.3.4", "not an IPv4 or IPv6 address"],
    ["0x7f.0.0.1", "not an IPv4 or IPv6 address"],
    ["2130706433", "four parts"],
    ["fe80::1%eth0", "zone ids are not accepted"],
    ["fe80::1%25eth0", "zone ids are not accepted"],
    ["[::1]", '"[" is not a group'],
    ["1::2::3", '"::" appears more than once'],
    ["1:2:3:4:5:6:7", "eight groups"],
    ["1:2:3:4:5:6:7:8:9", "eight groups"],
    ["1:2:3:4:5:6:7:8::", "eight groups"],
    ["::1:2:3:4:5:6:7:8", "eight groups"],
    [":1:2:3:4:5:6:7", "empty group"],
    ["1:2:3:4:5:6:7:", "empty group"],
    [":::", "empty group"],
    ["12345::", '"12345" is not a group'],
    ["g::", '"g" is not a group'],
    ["::ffff:1.2.3", "four parts"],
    ["::1.2.3.4:1", '"1.2.3.4" is not a group'],
    ["1.2.3.4::", '"1.2.3.4" is not a group'],
    ["1:2:3:4:5:6:7:1.2.3.4", "eight groups"],
    ["::ffff:256.0.0.1", "256 is more than 255"],
    ["1".repeat(46), "too long"],
  ];
  for (const [input, why] of cases) {
    assertEquals(tryParseIp(input), null, input);
    const error = assertThrows(() => parseIp(input), InvalidInputError, why);
    assert(error.message.startsWith(`Cannot parse IP address ${JSON.stringify(input)}`), input);
  }
});

Deno.test("CIDRs: canonical text, bare addresses, mapped networks, host bits refused", () => {
  const cases: [string, string][] = [
    ["192.0.2.0/24", "192.0.2.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["192.0.2.7/32", "192.0.2.7/32"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:db8:1:2::/64", "2001:db8:1:2::/64"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["::ffff:192.0.2.0/120", "192.0.2.0/24"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["::ffff:192.0.2.7", "192.0.2.7/32"],
    ["::/95", "::/95"], // wider than the mapped range: an IPv6 network
  ];
  for (const [input, expected] of cases) {
    assertEquals(formatCidr(parseCidr(input)), expected, input);
    assertEquals(formatCidr(parseCidr(expected)), expected, `${expected} again`);
  }
  const bad: [string, string][] = [
    ["192.0.2.7/24", "did you mean 192.0.2.0/24?"],
    ["2001:db8::1/64", "did you mean 2001:db8::/64?"],
    ["::ffff:192.0.2.7/120", "did you mean 192.0.2.0/24?"],
    ["192.0.2.0/33", "0 to 32"],
    ["2001:db8::/129", "0 to 128"],
    ["192.0.2.0/", "0 to 32"],
    ["192.0.2.0/024", "0 to 32"],
    ["192.0.2.0/-1", "0 to 32"],
    ["192.0.2.0/2 4", "0 to 32"],
    ["fe80::%eth0/64", "zone ids"],
    ["/24", "not an IPv4 or IPv6 address"],
    ["192.0.2.0/24/24", "not an IPv4 or IPv6 address"],
  ];
  for (const [input, why] of bad) {
    assertEquals(tryParseCidr(input), null, input);
    assertThrows(() => parseCidr(input), InvalidInputError, why);
  }
});

Deno.test("containment, never across IPv4 and IPv6", () => {
  const table: [string, string, boolean][] = [
    ["192.0.2.0/24", "192.0.2.0", true],
    ["192.0.2.0/24", "192.0.2.255", true],
    ["192.0.2.0/24", "192.0.3.0", false],
    ["192.0.2.0/24", "192.0.1.255", false],
    ["192.0.2.0/24", "::ffff:192.0.2.9", true],
    ["::ffff:192.0.2.0/120", "192.0.2.9", true],
    ["0.0.0.0/0", "203.0.113.1", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "192.0.2.1", false],
    ["::/0", "::ffff:192.0.2.1", false],
    ["192.0.2.7", "192.0.2.7", true],
    ["192.0.2.7", "192.0.2.8", false],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "2001:db9::", false],
    ["2001:db8:1:2::/64", "2001:db8:1:2:ffff::1", true],
    ["2001:db8:1:2::/64", "2001:db8:1:3::1", false],
    ["::1", "::1", true],
    ["::1", "::2", false],
    ["2001:db8::/127", "2001:db8::1", true],
    ["2001:db8::/127", "2001:db8::2", false],
  ];
  for (const [cidr, ip, expected] of table) {
    assertEquals(contains(parseCidr(cidr), parseIp(ip)), expected, `${cidr} ∋ ${ip}`);
  }
  assert(covers(parseCidr("2001:db8::/32"), parseCidr("2001:db8:1::/48")));
  assert(!covers(parseCidr("2001:db8:1::/48"), parseCidr("2001:db8::/32")));
  assert(covers(parseCidr("192.0.2.0/24"), parseCidr("192.0.2.7")));
  assert(!covers(parseCidr("::/0"), parseCidr("192.0.2.7")));
});

Deno.test("the client key: an IPv4 address, or an IPv6 /64", () => {
  const key = (text: string) => ipKey(parseIp(text));
  assertEquals(key("192.0.2.7"), "192.0.2.7");
  assertEquals(key("::ffff:192.0.2.7"), "192.0.2.7");
  assertEquals(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  assertEquals(key("2001:db8:1:2::1"), key("2001:DB8:1:2:FFFF:FFFF:FFFF:FFFF"));
  assert(key("2001:db8:1:2::1") !== key("2001:db8:1:3::1"));
  assertEquals(key("::1"), "::/64");
  assertEquals(key("fe80::1"), "fe80::/64");
});

Deno.test("a CIDR list holds what any entry holds; a bad entry is an error", () => {
  const list = new CidrList(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
  assertEquals(list.size, 3);
  assert(list.contains(parseIp("10.1.2.3")));
  assert(list.contains(parseIp("::ffff:10.1.2.3")));
  assert(list.contains(parseIp("2001:db8:abcd::1")));
  assert(list.contains(parseIp("192.0.2.7")));
  assert(!list.contains(parseIp("192.0.2.8")));
  assert(!list.contains(parseIp("11.0.0.1")));
  assert(!new CidrList().contains(parseIp("10.0.0.1")));
  assertThrows(() => new CidrList(["10.0.0.1/8"]), InvalidInputError, "did you mean 10.0.0.0/8?");
});

Deno.test("fuzz: every IPv6 value formats as WHATWG URL does and parses back", () => {
  const group = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
    const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
    const text = formatIp({ version: 6, value });
    const parsed = parseIp(text);
    const mapped = groups.slice(0, 6).join(",") === "0,0,0,0,0,65535";
    if (mapped) {
      assertEquals(parsed, { version: 4, value: value & 0xffffffffn });
    } else {
      assertEquals(parsed, { version: 6, value });
      // The URL parser serialises IPv6 hosts with RFC 5952's compression rules.
      assertEquals(`[${text}]`, new URL(`http://[${text}]/`).hostname);
    }
    // The uncompressed long form parses to the same address.
    assertEquals(parseIp(groups.map((g) => g.toString(16).padStart(4, "0")).join(":")), parsed);
  }));
});

Deno.test("fuzz: parsing never throws anything but InvalidInputError, and agrees with try", () => {
  const chars = fc.constantFrom(..."0123456789abcdefABCDEF:./%[] x".split(""));
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 48 }).map((a) => a.join("")), (text) => {
      const ip = tryParseIp(text);
      const cidr = tryParseCidr(text);
      try {
        assertEquals(parseIp(text), ip);
      } catch (error) {
        assert(error instanceof InvalidInputError && ip === null, `${text}: ${error}`);
      }
      try {
        assertEquals(parseCidr(text), cidr);
      } catch (error) {
        assert(error instanceof InvalidInputError && cidr === null, `${text}: ${error}`);
      }
      if (ip !== null) assertEquals(parseIp(formatIp(ip)), ip);
      if (cidr !== null) assertEquals(parseCidr(formatCidr(cidr)), cidr);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("fuzz: IPv4 addresses and containment agree with arithmetic", () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(fc.property(u32, u32, fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
    const ip = { version: 4 as const, value: BigInt(a) };
    assertEquals(parseIp(formatIp(ip)), ip);
    assertEquals(parseIp(`::ffff:${formatIp(ip)}`), ip);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(b / size) * size;
    const cidr = parseCidr(`${formatIp({ version: 4, value: BigInt(network) })}/${prefix}`);
    assertEquals(contains(cidr, ip), Math.floor(a / size) * size === network);
  }));
});
