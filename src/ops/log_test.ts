import { assert, assertEquals } from "../../tests/assert.ts";
import { createLogger } from "./log.ts";

function capture(format: "json" | "text" = "json") {
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    format,
    write: (l) => lines.push(l),
    now: () => new Date("2026-11-27T12:00:00Z"),
  });
  return { log, lines };
}

Deno.test("JSON lines with level filtering and child fields", () => {
  const { log, lines } = capture();
  log.debug("hidden");
  log.child({ conn: "c1" }).info("hello", { n: 2n, data: new Uint8Array(3) });
  assertEquals(lines.length, 1);
  assertEquals(JSON.parse(lines[0]!), {
    time: "2026-11-27T12:00:00.000Z",
    level: "info",
    msg: "hello",
    conn: "c1",
    n: "2",
    data: "[3 bytes]",
  });
});

Deno.test("secrets and message content never reach the log", () => {
  const { log, lines } = capture();
  log.warn("login", {
    password: "hunter2hunter2",
    masterKey: "AAAA",
    token: "t",
    body: "Dear Bob",
    raw: "x",
    user: "alice@example.org",
  });
  const line = lines[0]!;
  for (const secret of ["hunter2hunter2", "AAAA", "Dear Bob"]) assert(!line.includes(secret), line);
  assert(line.includes("alice@example.org"));
});

Deno.test("text format quotes values with spaces", () => {
  const { log, lines } = capture("text");
  log.error("failed", { reason: "no such user", code: 5 });
  assertEquals(lines[0], '2026-11-27T12:00:00.000Z ERROR failed reason="no such user" code=5');
});
