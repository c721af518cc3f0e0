/**
 * Waiting for servers the benchmarks start: a free port to give them, and polling until they
 * are ready.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Polls `ready` every 50 ms; throws after `ms` or if `child` ends first (with its stderr). */
export async function waitFor(
  what: string,
  ms: number,
  child: Deno.ChildProcess | null,
  ready: () => Promise<boolean>,
): Promise<void> {
  let ended = false;
  child?.status.then(() => ended = true);
  const until = performance.now() + ms;
  while (!(await ready())) {
    if (ended) {
      const said = child === null ? "" : (await new Response(child.stderr).text()).trim();
      throw new Error(`${what}: the process ended${said ? `: ${said}` : ""}`);
    }
    if (performance.now() > until) throw new Error(`${what}: not ready after ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether an SMTP server on 127.0.0.1 greets with 220 on the port. */
export async function greets(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return false;
  }
  try {
    const buffer = new Uint8Array(512);
    const n = await conn.read(buffer);
    return n !== null && decoder.decode(buffer.subarray(0, n)).startsWith("220");
  } finally {
    conn.close();
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
