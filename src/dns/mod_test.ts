import dgram from "node:dgram";
import type { Buffer } from "node:buffer";
import * as packet from "dns-packet";
import { assertEquals } from "../../tests/assert.ts";
import { openResolver } from "./mod.ts";

/** A UDP server on loopback that answers every A query with 192.0.2.1 and counts queries. */
async function answering(): Promise<
  { port: number; queries: () => number; close(): Promise<void> }
> {
  const socket = dgram.createSocket("udp4");
  let queries = 0;
  socket.on("message", (message: Buffer, from: dgram.RemoteInfo) => {
    queries++;
    const query = packet.decode(message);
    const name = query.questions![0]!.name;
    socket.send(
      packet.encode({
        type: "response",
        id: query.id!,
        questions: query.questions!,
        answers: [{ type: "A", name, ttl: 60, data: "192.0.2.1" }],
      }),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    queries: () => queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

Deno.test("openResolver: the configured name servers, behind one cache", async () => {
  const server = await answering();
  try {
    const resolver = await openResolver({
      nameservers: [{ address: "127.0.0.1", port: server.port }],
      timeout: 1000,
      attempts: 1,
    });
    assertEquals((await resolver.lookup("host.example", "A")).records[0]?.address, "192.0.2.1");
    await resolver.lookup("host.example", "A");
    assertEquals(server.queries(), 1);
  } finally {
    await server.close();
  }
});

Deno.test("openResolver: without name servers, those of the resolv.conf given", async () => {
  // Port 53 is not ours to bind, so the file names a loopback address where nothing listens:
  // the lookup goes there and nowhere else, and fails for now. (Should a name server on
  // 0.0.0.0:53 answer instead, the lookup still went to loopback, which is all this checks.)
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "nameserver 127.0.0.254\n");
    const resolver = await openResolver(
      { nameservers: null, timeout: 200, attempts: 1 },
      { resolvConf: file },
    );
    const lookup = await resolver.lookup("host.example", "A");
    if (lookup.status === "temperror") {
      assertEquals(lookup.error, "No answer from 127.0.0.254:53 within 200 ms");
    }
  } finally {
    await Deno.remove(file);
  }
});
