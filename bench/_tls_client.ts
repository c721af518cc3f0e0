/**
 * The client side of `deno task bench tls`:
 * - `starttls PORT CAFILE SECONDS CONCURRENCY`: full STARTTLS handshakes in a loop; prints the count.
 * - `idle PORT CAFILE COUNT`: opens COUNT implicit-TLS connections, prints "ready", holds them
 *   until stdin closes.
 *
 * @module
 */

const [mode, portText, caFile, a, b] = Deno.args;
const port = Number(portText);
const caCerts = [await Deno.readTextFile(caFile!)];
const encoder = new TextEncoder();

async function readSome(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(512);
  if ((await conn.read(buf)) === null) throw new Error("closed");
}

if (mode === "starttls") {
  const until = Date.now() + Number(a) * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: Number(b) }, async () => {
    while (Date.now() < until) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await readSome(conn);
      await conn.write(encoder.encode("STARTTLS\r\n"));
      await readSome(conn);
      const secure = await Deno.startTls(conn, { hostname: "localhost", caCerts });
      await secure.handshake();
      secure.close();
      count++;
    }
  }));
  console.log(count);
} else if (mode === "idle") {
  const held: Deno.TlsConn[] = [];
  for (let i = 0; i < Number(a); i++) {
    const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts });
    await readSome(conn);
    held.push(conn);
  }
  console.log("ready");
  await new Response(Deno.stdin.readable).arrayBuffer();
  for (const conn of held) conn.close();
}
