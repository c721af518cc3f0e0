import { assert, assertEquals, within } from "../../tests/assert.ts";
import { openPglite } from "../../tests/db.ts";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../ops/log.ts";
import { connect } from "./db.ts";
import { lastReadyStatus, type PgliteServerOptions, servePglite } from "./pglite_server.ts";

Deno.test("concurrent extended-protocol queries from several connections never cross", async () => {
  const db = await openPglite();
  try {
    const pools = [db.sql, db.connectAgain(), db.connectAgain()];
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const pool = pools[i % pools.length]!;
        const [row] = await pool<
          { v: number; t: string }[]
        >`select ${i}::int + 0 as v, ${`tag${i}`}::text as t`;
        return row!.v === i && row!.t === `tag${i}`;
      }),
    );
    assertEquals(results.filter((ok) => !ok).length, 0);
  } finally {
    await db.close();
  }
});

Deno.test("a transaction owns the backend until it ends; others see only committed data", async () => {
  const db = await openPglite();
  try {
    const other = db.connectAgain();
    await db.sql`create table t (id int)`;
    let otherSaw: number | null = null;
    let otherRan: Promise<void> = Promise.resolve();
    await db.sql.begin(async (tx) => {
      await tx`insert into t values (1)`;
      // Another connection asks while the transaction is open: it must wait, not see row 1
      // uncommitted, and not slip its statements into our transaction.
      otherRan = (async () => {
        const [row] = await other<{ n: number }[]>`select count(*)::int as n from t`;
        otherSaw = row!.n;
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertEquals(otherSaw, null, "the other connection waited");
      await tx`insert into t values (2)`;
    });
    await otherRan;
    assertEquals(otherSaw, 2);
  } finally {
    await db.close();
  }
});

Deno.test("a client that disconnects inside a transaction is rolled back and blocks no one", async () => {
  const db = await openPglite();
  try {
    await db.sql`create table t (id int)`;
    const doomed = db.connectAgain();
    const reserved = await doomed.reserve();
    await reserved`begin`;
    await reserved`insert into t values (1)`;
    await doomed.end({ timeout: 0 }); // the connection drops mid-transaction
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from t`;
    assertEquals(row!.n, 0);
  } finally {
    await db.close();
  }
});

Deno.test("ReadyForQuery status is read from the last message of a response", () => {
  const message = (
    type: string,
    body: number[],
  ) => [type.charCodeAt(0), 0, 0, 0, body.length + 4, ...body];
  const idle = new Uint8Array([...message("C", [0x53, 0]), ...message("Z", [0x49])]);
  const inTx = new Uint8Array([
    ...message("Z", [0x49]),
    ...message("C", [0]),
    ...message("Z", [0x54]),
  ]);
  assertEquals(lastReadyStatus(idle), 0x49);
  assertEquals(lastReadyStatus(inTx), 0x54);
  assertEquals(lastReadyStatus(new Uint8Array(message("1", []))), null);
  assert(lastReadyStatus(new Uint8Array([0x5a, 0, 0])) === null);
});

/** A PGlite served on a socket of its own, with `options`, for `fn`. */
async function withServer(
  options: PgliteServerOptions,
  fn: (socketDir: string, path: string) => Promise<void>,
  wrap: (listener: Deno.UnixListener) => Deno.UnixListener = (l) => l,
): Promise<void> {
  const db = await PGlite.create();
  const socketDir = await Deno.makeTempDir({ prefix: "fumi-test-pg-" });
  const path = `${socketDir}/.s.PGSQL.5432`;
  const server = servePglite(db, wrap(Deno.listen({ transport: "unix", path })), options);
  try {
    await fn(socketDir, path);
  } finally {
    await server.close();
    await db.close();
    await Deno.remove(socketDir, { recursive: true });
  }
}

/** Frames a protocol message: type byte, int32 length, body. */
function frame(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, body.length + 4);
  out.set(body, 5);
  return out;
}

const cstring = (text: string) => new TextEncoder().encode(text + "\0");

/** A raw client that has done the startup handshake. */
async function rawClient(path: string): Promise<Deno.UnixConn> {
  const conn = await Deno.connect({ transport: "unix", path });
  const params = new Uint8Array([...cstring("user"), ...cstring("postgres"), 0]);
  const startup = new Uint8Array(8 + params.length);
  new DataView(startup.buffer).setInt32(0, startup.length);
  new DataView(startup.buffer).setInt32(4, 196608);
  startup.set(params, 8);
  await conn.write(startup);
  // Read up to the first ReadyForQuery.
  let seen = new Uint8Array(0);
  while (lastReadyStatus(seen) === null) {
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk);
    if (n === null) throw new Error("closed during startup");
    seen = new Uint8Array([...seen, ...chunk.subarray(0, n)]);
  }
  return conn;
}

Deno.test("a client that leaves an extended query unfinished does not confuse the next", async () => {
  await withServer({}, async (socketDir, path) => {
    const conn = await rawClient(path);
    // Parse of bad SQL: the backend errs and would skip everything up to a Sync; then Bind, and
    // the client leaves without sending Sync.
    const parse = new Uint8Array([...cstring(""), ...cstring("selec bogus"), 0, 0]);
    const bind = new Uint8Array([...cstring(""), ...cstring(""), 0, 0, 0, 0, 0, 0]);
    await conn.write(new Uint8Array([...frame("P", parse), ...frame("B", bind)]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    conn.close();
    const sql = connect({ socketDir, max: 1 });
    try {
      const [row] = await within(
        5000,
        sql<{ v: number }[]>`select ${7}::int as v`,
        "the next client's query got no answer",
      );
      assertEquals(row!.v, 7);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

Deno.test("a client that stops reading its answer is cut after the idle limit", async () => {
  await withServer({ idleInTransactionMs: 300 }, async (socketDir, path) => {
    const conn = await rawClient(path);
    // A simple query whose answer (~20 MB) is far larger than the socket buffer; never read.
    await conn.write(frame("Q", cstring("select repeat('x', 20000000)")));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sql = connect({ socketDir, max: 1 });
    try {
      const [row] = await within(
        10_000,
        sql<{ v: number }[]>`select ${8}::int as v`,
        "the backend stayed with the client that does not read",
      );
      assertEquals(row!.v, 8);
    } finally {
      await sql.end({ timeout: 1 });
      try {
        conn.close();
      } catch {
        // cut by the server already
      }
    }
  });
});

Deno.test("an accept error is logged and the listener goes on serving", async () => {
  const warnings: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message) => warnings.push(message),
    error: () => {},
    child: () => log,
  };
  let failures = 2;
  const flaky = (listener: Deno.UnixListener): Deno.UnixListener =>
    new Proxy(listener, {
      get(target, property) {
        if (property === "accept") {
          return () => {
            if (failures-- > 0) {
              return Promise.reject(new Error("Too many open files (os error 24)"));
            }
            return target.accept();
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  await withServer({ log }, async (socketDir) => {
    const sql = connect({ socketDir, max: 1 });
    try {
      const [row] = await within(10_000, sql<{ v: number }[]>`select ${9}::int as v`, "hung");
      assertEquals(row!.v, 9);
    } finally {
      await sql.end({ timeout: 1 });
    }
    assertEquals(warnings.length, 2);
  }, flaky);
});
