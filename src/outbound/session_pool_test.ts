import { assertEquals } from "../../tests/assert.ts";
import type { SmtpClient } from "../smtp/client/mod.ts";
import { IDLE_MS, MAX_PER_KEY, SessionPool } from "./session_pool.ts";

/** A stand-in session that counts its QUITs. */
function fake(closed = false) {
  const client = { closed, quits: 0, quit: () => (client.quits++, Promise.resolve()) };
  return client;
}

Deno.test("SessionPool: keeps sessions per key, a few at most, and says QUIT to the rest", async () => {
  const pool = new SessionPool();
  const a = fake();
  pool.give("mx a", a as unknown as SmtpClient);
  assertEquals(pool.take("mx b"), null, "another key");
  assertEquals(pool.take("mx a"), a as unknown as SmtpClient);
  assertEquals(pool.take("mx a"), null, "taken once");
  // A session the server closed meanwhile is not handed out.
  pool.give("mx a", fake(true) as unknown as SmtpClient);
  assertEquals(pool.take("mx a"), null);
  const many = Array.from({ length: MAX_PER_KEY + 1 }, () => fake());
  for (const c of many) pool.give("mx a", c as unknown as SmtpClient);
  assertEquals(pool.size, MAX_PER_KEY);
  assertEquals(many.at(-1)!.quits, 1, "beyond the limit: QUIT at once");
  await pool.close();
  assertEquals(pool.size, 0);
  assertEquals(many.slice(0, MAX_PER_KEY).map((c) => c.quits), Array(MAX_PER_KEY).fill(1));
  const late = fake();
  pool.give("mx a", late as unknown as SmtpClient);
  assertEquals([pool.size, late.quits], [0, 1], "a closed pool keeps nothing");
});

Deno.test("SessionPool: a session left unused for IDLE_MS is closed with QUIT", async () => {
  const pool = new SessionPool();
  const idle = fake();
  pool.give("mx a", idle as unknown as SmtpClient);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 200));
  assertEquals([pool.size, idle.quits], [0, 1]);
  assertEquals(pool.take("mx a"), null);
  await pool.close();
});
