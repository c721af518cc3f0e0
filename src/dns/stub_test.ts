// The stub resolver against hand-made name servers on loopback: spoofed and mismatched
// datagrams are ignored, silence is a temporary failure, TC moves to TCP, a failing server
// hands over to the next one.

import dgram from "node:dgram";
import net from "node:net";
import { Buffer } from "node:buffer";
import * as packet from "dns-packet";
import { assert, assertEquals } from "../../tests/assert.ts";
import { StubResolver } from "./stub.ts";

type Reply = (query: packet.DecodedPacket) => packet.Packet[];

/** A UDP (and optionally TCP) name server on 127.0.0.1 that answers with `reply`'s packets. */
async function fakeServer(
  udpReply: Reply,
  tcpReply?: Reply,
): Promise<{ port: number; udpQueries: number; tcpQueries: number; close(): Promise<void> }> {
  const udp = dgram.createSocket("udp4");
  const state = { udpQueries: 0, tcpQueries: 0 };
  udp.on("message", (message: Buffer, from: dgram.RemoteInfo) => {
    state.udpQueries++;
    for (const answer of udpReply(packet.decode(message))) {
      udp.send(packet.encode(answer), from.port, from.address);
    }
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const port = udp.address().port;
  let tcp: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  if (tcpReply !== undefined) {
    tcp = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("data", (data: Buffer) => {
        state.tcpQueries++;
        for (const answer of tcpReply(packet.decode(data.subarray(2)))) {
          const body = packet.encode(answer);
          const length = Buffer.alloc(2);
          length.writeUInt16BE(body.length);
          socket.write(Buffer.concat([length, body]));
        }
      });
    });
    await new Promise<void>((resolve) => tcp!.listen(port, "127.0.0.1", resolve));
  }
  return {
    port,
    get udpQueries() {
      return state.udpQueries;
    },
    get tcpQueries() {
      return state.tcpQueries;
    },
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      if (tcp !== null) await new Promise<void>((resolve) => tcp!.close(() => resolve()));
    },
  };
}

/** A response to `query` with the given flags and A records for its name. */
function answer(
  query: packet.DecodedPacket,
  addresses: string[],
  options: { flags?: number; id?: number; name?: string } = {},
): packet.Packet {
  const name = options.name ?? query.questions![0]!.name;
  return {
    type: "response",
    id: options.id ?? query.id!,
    flags: options.flags ?? 0,
    questions: [{ name, type: "A", class: "IN" }],
    answers: addresses.map((address) => ({ type: "A", name, ttl: 60, data: address })),
  };
}

function resolverFor(...ports: number[]): StubResolver {
  return new StubResolver({
    nameservers: ports.map((port) => ({ address: "127.0.0.1", port })),
    timeoutMs: 300,
    attempts: 1,
  });
}

Deno.test("stub: a datagram with another ID or another question is ignored; the true answer counts", async () => {
  const server = await fakeServer((query) => [
    answer(query, ["192.0.2.66"], { id: (query.id! + 1) & 0xffff }),
    answer(query, ["192.0.2.67"], { name: "evil.example" }),
    answer(query, ["192.0.2.1"]),
  ]);
  try {
    const lookup = await resolverFor(server.port).lookup("host.example", "A");
    assertEquals(lookup.status, "ok");
    assertEquals(lookup.records.map((r) => r.address), ["192.0.2.1"]);
  } finally {
    await server.close();
  }
});

Deno.test("stub: an answer from another port is ignored", async () => {
  const spoofer = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => spoofer.bind(0, "127.0.0.1", resolve));
  // The true server lets a spoofer answer first, from another port, with a perfect-looking
  // answer, then answers itself.
  const server = dgram.createSocket("udp4");
  server.on("message", (message: Buffer, from: dgram.RemoteInfo) => {
    const query = packet.decode(message);
    spoofer.send(packet.encode(answer(query, ["192.0.2.66"])), from.port, from.address, () => {
      server.send(packet.encode(answer(query, ["192.0.2.1"])), from.port, from.address);
    });
  });
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  try {
    const lookup = await resolverFor(server.address().port).lookup("host.example", "A");
    assertEquals(lookup.records.map((r) => r.address), ["192.0.2.1"]);
  } finally {
    await new Promise<void>((resolve) => spoofer.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

Deno.test("stub: a silent server is a temporary failure after the timeout, per attempt", async () => {
  const server = await fakeServer(() => []);
  try {
    const resolver = new StubResolver({
      nameservers: [{ address: "127.0.0.1", port: server.port }],
      timeoutMs: 150,
      attempts: 2,
    });
    const started = Date.now();
    const lookup = await resolver.lookup("host.example", "A");
    const elapsed = Date.now() - started;
    assertEquals(lookup.status, "temperror");
    assertEquals(lookup.rcode, null);
    assert(lookup.error?.includes("No answer"), lookup.error);
    assertEquals(server.udpQueries, 2);
    assert(elapsed >= 280 && elapsed < 2000, `took ${elapsed} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("stub: a truncated UDP answer is asked again over TCP", async () => {
  const server = await fakeServer(
    (query) => [answer(query, [], { flags: packet.TRUNCATED_RESPONSE })],
    (query) => [answer(query, ["192.0.2.1", "192.0.2.2"])],
  );
  try {
    const lookup = await resolverFor(server.port).lookup("big.example", "A");
    assertEquals(lookup.status, "ok");
    assertEquals(lookup.records.map((r) => r.address), ["192.0.2.1", "192.0.2.2"]);
    assertEquals([server.udpQueries, server.tcpQueries], [1, 1]);
  } finally {
    await server.close();
  }
});

Deno.test("stub: SERVFAIL from the first server hands over to the second", async () => {
  const failing = await fakeServer((query) => [answer(query, [], { flags: 2 })]); // RCODE 2
  const working = await fakeServer((query) => [answer(query, ["192.0.2.1"])]);
  try {
    const lookup = await resolverFor(failing.port, working.port).lookup("host.example", "A");
    assertEquals(lookup.status, "ok");
    assertEquals([failing.udpQueries, working.udpQueries], [1, 1]);
    const alone = await resolverFor(failing.port).lookup("host.example", "A");
    assertEquals([alone.status, alone.rcode], ["temperror", "SERVFAIL"]);
  } finally {
    await failing.close();
    await working.close();
  }
});

Deno.test("stub: the DO bit is sent when DNSSEC is asked for, and AD comes back as authenticated", async () => {
  const seen: boolean[] = [];
  const server = await fakeServer((query) => {
    const opt = query.additionals?.find((a) => a.type === "OPT") as packet.OptAnswer | undefined;
    seen.push(opt?.flag_do ?? false);
    return [answer(query, ["192.0.2.1"], { flags: opt?.flag_do ? packet.AUTHENTIC_DATA : 0 })];
  });
  try {
    const resolver = resolverFor(server.port);
    const plain = await resolver.lookup("host.example", "A");
    const secure = await resolver.lookup("host.example", "A", { dnssec: true });
    assertEquals(seen, [false, true]);
    assertEquals([plain.authenticated, secure.authenticated], [false, true]);
  } finally {
    await server.close();
  }
});

Deno.test("stub: a TCP answer arriving byte by byte is put together", async () => {
  const udp = await fakeServer((
    query,
  ) => [answer(query, [], { flags: packet.TRUNCATED_RESPONSE })]);
  // A TCP server on the same port that dribbles its answer one byte per write.
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (data: Buffer) => {
      const body = packet.encode(answer(packet.decode(data.subarray(2)), ["192.0.2.9"]));
      const framed = Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
      let i = 0;
      const next = () => {
        if (i < framed.length) socket.write(framed.subarray(i, ++i), next);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => tcp.listen(udp.port, "127.0.0.1", resolve));
  try {
    const lookup = await resolverFor(udp.port).lookup("host.example", "A");
    assertEquals(lookup.records.map((r) => r.address), ["192.0.2.9"]);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await udp.close();
  }
});

Deno.test("stub: a TCP answer to another question is a failure, not an answer", async () => {
  const server = await fakeServer(
    (query) => [answer(query, [], { flags: packet.TRUNCATED_RESPONSE })],
    (query) => [answer(query, ["192.0.2.66"], { name: "evil.example" })],
  );
  try {
    const lookup = await resolverFor(server.port).lookup("host.example", "A");
    assertEquals(lookup.status, "temperror");
    assertEquals(lookup.error?.includes("not to our question"), true);
  } finally {
    await server.close();
  }
});

Deno.test("stub: a name server on IPv6 loopback ([::1])", async () => {
  const server = dgram.createSocket("udp6");
  server.on("message", (message: Buffer, from: dgram.RemoteInfo) => {
    const query = packet.decode(message);
    server.send(packet.encode(answer(query, ["192.0.2.6"])), from.port, from.address);
  });
  await new Promise<void>((resolve) => server.bind(0, "::1", resolve));
  try {
    const resolver = new StubResolver({
      nameservers: [{ address: "::1", port: server.address().port }],
      timeoutMs: 1000,
      attempts: 1,
    });
    const lookup = await resolver.lookup("host.example", "A");
    assertEquals(lookup.records.map((r) => r.address), ["192.0.2.6"]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
