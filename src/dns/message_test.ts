import * as packet from "dns-packet";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  answersQuery,
  decodeResponse,
  encodeQuery,
  MalformedResponseError,
  rcodeName,
} from "./message.ts";

function response(over: Partial<packet.Packet> = {}): Uint8Array {
  return new Uint8Array(packet.encode({
    type: "response",
    id: 4242,
    flags: 0,
    questions: [{ name: "example.test", type: "MX", class: "IN" }],
    ...over,
  }));
}

Deno.test("message: a query is recursive, carries EDNS0, and sets DO only when asked", () => {
  const plain = packet.decode(Buffer.from(encodeQuery(7, { name: "Example.TEST.", type: "TLSA" })));
  assertEquals(plain.id, 7);
  assertEquals([plain.flag_qr, plain.flag_rd, plain.flag_ad], [false, true, false]);
  assertEquals(plain.questions, [{ name: "example.test", type: "TLSA", class: "IN" }]);
  const opt = plain.additionals?.[0] as packet.OptAnswer;
  assertEquals([opt.type, opt.udpPayloadSize, opt.flag_do], ["OPT", 1232, false]);
  const secure = packet.decode(
    Buffer.from(encodeQuery(8, { name: "example.test", type: "A" }, { dnssec: true })),
  );
  assertEquals((secure.additionals?.[0] as packet.OptAnswer).flag_do, true);
  assertEquals(secure.flag_ad, true); // RFC 6840 §5.7
});

Deno.test("message: records of every type are read, names lower case without the dot", () => {
  const read = decodeResponse(response({
    flags: packet.AUTHENTIC_DATA | packet.RECURSION_AVAILABLE,
    answers: [
      {
        type: "MX",
        name: "Example.Test",
        ttl: 300,
        data: { preference: 10, exchange: "MX1.example.test" },
      },
      { type: "MX", name: "example.test", ttl: 300, data: { preference: 0, exchange: "." } },
      { type: "A", name: "a.example.test", ttl: 60, data: "192.0.2.1" },
      { type: "AAAA", name: "a.example.test", ttl: 60, data: "2001:db8::1" },
      { type: "TXT", name: "t.example.test", ttl: 1, data: ["v=spf1 ", "-all"] },
      { type: "PTR", name: "1.2.0.192.in-addr.arpa", ttl: 5, data: "a.example.test." },
      { type: "CNAME", name: "c.example.test", ttl: 5, data: "a.example.test" },
      {
        type: "TLSA",
        name: "_25._tcp.a.example.test",
        ttl: 5,
        data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from([1, 2, 3]) },
      },
      { type: "SRV", name: "ignored.example.test", ttl: 5, data: { port: 1, target: "x" } },
    ],
    authorities: [{
      type: "SOA",
      name: "example.test",
      ttl: 60,
      data: { mname: "ns.example.test", rname: "h.example.test", serial: 9, minimum: 30 },
    }],
  }));
  assertEquals([read.id, read.rcode, read.truncated, read.authenticated], [4242, 0, false, true]);
  assertEquals(read.question, { name: "example.test", type: "MX" });
  assertEquals(read.answers.map((r) => r.type), [
    "MX",
    "MX",
    "A",
    "AAAA",
    "TXT",
    "PTR",
    "CNAME",
    "TLSA",
  ]);
  assertEquals(read.answers[0], {
    type: "MX",
    name: "example.test",
    ttl: 300,
    preference: 10,
    exchange: "mx1.example.test",
  });
  assertEquals(read.answers[1]!.type === "MX" && read.answers[1]!.exchange, ""); // null MX
  const txt = read.answers[4]!;
  assert(txt.type === "TXT");
  assertEquals(txt.text, "v=spf1 -all"); // RFC 7208 §3.3: joined without spaces
  assertEquals(txt.strings.map((s) => s.length), [7, 4]);
  const tlsa = read.answers[7]!;
  assert(tlsa.type === "TLSA");
  assertEquals([...tlsa.data], [1, 2, 3]);
  assertEquals(read.authorities, [{
    type: "SOA",
    name: "example.test",
    ttl: 60,
    mname: "ns.example.test",
    rname: "h.example.test",
    serial: 9,
    minimum: 30,
  }]);
});

Deno.test("message: RCODE and TC are read", () => {
  const nx = decodeResponse(response({ flags: 3 }));
  assertEquals([nx.rcode, rcodeName(nx.rcode)], [3, "NXDOMAIN"]);
  assertEquals(rcodeName(2), "SERVFAIL");
  assertEquals(rcodeName(9), "RCODE9");
  assertEquals(decodeResponse(response({ flags: packet.TRUNCATED_RESPONSE })).truncated, true);
});

Deno.test("message: an answer matches only its query's ID and question", () => {
  const read = decodeResponse(response());
  assert(answersQuery(read, 4242, { name: "EXAMPLE.test.", type: "MX" }));
  assert(!answersQuery(read, 4243, { name: "example.test", type: "MX" }));
  assert(!answersQuery(read, 4242, { name: "example.test", type: "A" }));
  assert(!answersQuery(read, 4242, { name: "other.test", type: "MX" }));
  assert(
    !answersQuery(decodeResponse(response({ questions: [] })), 4242, {
      name: "example.test",
      type: "MX",
    }),
  );
});

Deno.test("message: a query, truncated bytes and garbage are refused as malformed", () => {
  const query = encodeQuery(1, { name: "example.test", type: "A" });
  assertThrows(() => decodeResponse(query), MalformedResponseError, "query");
  const whole = response({
    answers: [{ type: "A", name: "example.test", ttl: 1, data: "192.0.2.1" }],
  });
  for (let cut = 0; cut < whole.length; cut++) {
    try {
      decodeResponse(whole.subarray(0, cut));
    } catch (error) {
      assert(error instanceof MalformedResponseError, `cut at ${cut}: ${error}`);
    }
  }
});

Deno.test("message: random bytes never escape as anything but MalformedResponseError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      try {
        decodeResponse(bytes);
      } catch (error) {
        return error instanceof MalformedResponseError;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
});

Deno.test("message: a valid response with random bytes changed decodes or is malformed, nothing else", () => {
  const valid = response({
    answers: [
      {
        type: "MX",
        name: "example.test",
        ttl: 1,
        data: { preference: 1, exchange: "mx.example.test" },
      },
      { type: "TXT", name: "example.test", ttl: 1, data: ["a", "b"] },
      {
        type: "TLSA",
        name: "example.test",
        ttl: 1,
        data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from([1]) },
      },
    ],
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (changes) => {
        const bytes = valid.slice();
        for (const [at, value] of changes) bytes[at] = value;
        try {
          decodeResponse(bytes);
        } catch (error) {
          return error instanceof MalformedResponseError;
        }
        return true;
      },
    ),
    { numRuns: 3000 },
  );
});
