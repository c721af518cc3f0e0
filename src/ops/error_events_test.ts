import { assert, assertEquals } from "../../tests/assert.ts";
import { ErrorRecorder, flushErrors, MAX_PENDING, type RecordedError } from "./error_events.ts";
import { createLogger } from "./log.ts";

function lines() {
  const written: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (l) => written.push(l) });
  return { written, log };
}

Deno.test("error recorder: error lines of a logger and its children are kept, redacted", () => {
  const { written, log } = lines();
  const recorder = new ErrorRecorder(() => new Date("2026-11-28T06:00:00Z"));
  const wrapped = recorder.wrap(log).child({ listener: "smtp" });
  wrapped.info("fine");
  wrapped.warn("hmm");
  wrapped.error("command failed", {
    error: new TypeError("boom"),
    password: "hunter2",
    body: "message text",
    size: 10n,
  });
  assertEquals(written.length, 3, "every line is still written");
  const { errors, dropped } = recorder.take();
  assertEquals(dropped, 0);
  assertEquals(errors, [{
    at: new Date("2026-11-28T06:00:00Z"),
    message: "command failed",
    fields: {
      listener: "smtp",
      error: "TypeError: boom",
      password: "[redacted]",
      body: "[redacted]",
      size: "10",
    },
  }]);
  assertEquals(recorder.take().errors, [], "taken once");
});

Deno.test("error recorder: bounded; the flush reports what was dropped and survives a failing sink", async () => {
  const { written, log } = lines();
  const recorder = new ErrorRecorder();
  const wrapped = recorder.wrap(log);
  for (let i = 0; i < MAX_PENDING + 5; i++) wrapped.error(`error ${i}`);
  const sunk: RecordedError[][] = [];
  let fail = true;
  const flusher = flushErrors(
    recorder,
    (errors) => {
      if (fail) return Promise.reject(new Error("database down"));
      sunk.push([...errors]);
      return Promise.resolve();
    },
    log,
    60_000,
  );
  await flusher.stop();
  // The failed batch is dropped, and said so once on the unwrapped logger, not recorded.
  assert(written.at(-1)!.includes('"msg":"cannot keep the last errors for fumi status"'));
  assertEquals(recorder.take().errors, []);
  fail = false;
  for (let i = 0; i < MAX_PENDING + 5; i++) wrapped.error(`again ${i}`);
  const again = flushErrors(
    recorder,
    (errors) => {
      sunk.push([...errors]);
      return Promise.resolve();
    },
    log,
    60_000,
  );
  await again.stop();
  assertEquals(sunk.length, 1);
  assertEquals(sunk[0]!.length, MAX_PENDING + 1);
  assertEquals(sunk[0]![0]!.message, "again 5", "the oldest were dropped");
  assertEquals(sunk[0]!.at(-1)!.message, "more errors were logged than kept");
  assertEquals(sunk[0]!.at(-1)!.fields, { dropped: 5 });
});
