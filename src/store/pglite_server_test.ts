import { assert, assertEquals } from "../../tests/assert.ts";
import { openPglite } from "../../tests/db.ts";
import { lastReadyStatus } from "./pglite_server.ts";

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
