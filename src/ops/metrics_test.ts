import { assertEquals, assertStringIncludes, assertThrows } from "../../tests/assert.ts";
import { MAX_SERIES, noMetrics, processMetrics, Registry, serverMetrics } from "./metrics.ts";

Deno.test("metrics: counters, gauges and histograms in the text format 0.0.4", async () => {
  const registry = new Registry();
  const requests = registry.counter("t_requests_total", "Requests.", ["method"]);
  const open = registry.gauge("t_open", "Open things.");
  const latency = registry.histogram("t_latency_seconds", "Latency.", ["op"], [0.1, 1]);
  requests.inc({ method: "GET" });
  requests.inc({ method: "GET" }, 2);
  requests.inc({ method: "POST" });
  open.set({}, 4);
  open.inc({}, -1);
  latency.observe({ op: "read" }, 0.05);
  latency.observe({ op: "read" }, 0.5);
  latency.observe({ op: "read" }, 3);
  assertEquals(
    await registry.render(),
    [
      "# HELP t_requests_total Requests.",
      "# TYPE t_requests_total counter",
      't_requests_total{method="GET"} 3',
      't_requests_total{method="POST"} 1',
      "# HELP t_open Open things.",
      "# TYPE t_open gauge",
      "t_open 3",
      "# HELP t_latency_seconds Latency.",
      "# TYPE t_latency_seconds histogram",
      't_latency_seconds_bucket{op="read",le="0.1"} 1',
      't_latency_seconds_bucket{op="read",le="1"} 2',
      't_latency_seconds_bucket{op="read",le="+Inf"} 3',
      't_latency_seconds_sum{op="read"} 3.55',
      't_latency_seconds_count{op="read"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("metrics: label values and help are escaped", async () => {
  const registry = new Registry();
  const c = registry.counter("t_total", 'Help with \\ and\nnewline and "quotes".', ["v"]);
  c.inc({ v: 'a"b\\c\nd' });
  const text = await registry.render();
  assertStringIncludes(text, '# HELP t_total Help with \\\\ and\\nnewline and "quotes".\n');
  assertStringIncludes(text, 't_total{v="a\\"b\\\\c\\nd"} 1\n');
  // One sample line: the newline in the value did not break it.
  assertEquals(text.split("\n").filter((l) => l.startsWith("t_total")).length, 1);
});

Deno.test("metrics: bad names, unknown labels and decreasing counters are refused", () => {
  const registry = new Registry();
  assertThrows(() => registry.counter("bad-name", "x"), RangeError, "Invalid metric name");
  assertThrows(() => registry.counter("ok", "x", ["le"]), RangeError, "Invalid label name");
  const c = registry.counter("ok_total", "x", ["a"]);
  assertThrows(() => registry.counter("ok_total", "x"), RangeError, "declared twice");
  assertThrows(() => c.inc({ b: "1" }), RangeError, 'has no label "b"');
  assertThrows(() => c.inc({ a: "1" }, -1), RangeError, "cannot go down");
});

Deno.test("metrics: series are bounded", async () => {
  const registry = new Registry();
  const c = registry.counter("t_total", "x", ["id"]);
  for (let i = 0; i < MAX_SERIES + 50; i++) c.inc({ id: String(i) });
  const lines = (await registry.render()).split("\n").filter((l) => l.startsWith("t_total{"));
  assertEquals(lines.length, MAX_SERIES);
});

Deno.test("metrics: collectors run at each scrape; a failing one does not stop the scrape", async () => {
  const registry = new Registry();
  const queue = registry.gauge("t_queue", "Queue.");
  let size = 1;
  const errors: unknown[] = [];
  registry.collect(() => queue.set({}, size++));
  registry.collect(() => Promise.reject(new Error("database down")));
  assertStringIncludes(await registry.render((e) => errors.push(e)), "t_queue 1\n");
  assertStringIncludes(await registry.render((e) => errors.push(e)), "t_queue 2\n");
  assertEquals(errors.length, 2);
});

Deno.test("metrics: the server's events move their counters; noMetrics ignores them", async () => {
  const registry = new Registry();
  const m = serverMetrics(registry);
  m.connectionOpened("smtp");
  m.connectionClosed("smtp", "TLSv1.3");
  m.connectionOpened("imap");
  m.messageReceived("mx");
  m.messageRejected("submission", "sender-not-owned");
  m.deliveryAttempt("delivered");
  m.deliveryAttempt("deferred");
  m.auth("imap", "failure", "bad-password");
  m.ban("auto");
  m.filterVerdict("size", "accept");
  const text = await registry.render();
  for (
    const line of [
      'fumi_connections_total{protocol="smtp",tls="TLSv1.3"} 1',
      'fumi_connections_open{protocol="smtp"} 0',
      'fumi_connections_open{protocol="imap"} 1',
      'fumi_messages_received_total{role="mx"} 1',
      'fumi_messages_rejected_total{role="submission",reason="sender-not-owned"} 1',
      "fumi_messages_sent_total 1",
      'fumi_delivery_attempts_total{result="deferred"} 1',
      'fumi_auth_total{protocol="imap",result="failure",reason="bad-password"} 1',
      'fumi_bans_total{by="auto"} 1',
      'fumi_filter_verdicts_total{check="size",verdict="accept"} 1',
    ]
  ) assertStringIncludes(text, `${line}\n`);
  noMetrics.messageReceived("mx"); // nothing to observe, nothing thrown
});

Deno.test("metrics: process gauges (memory, event-loop lag)", async () => {
  const registry = new Registry();
  const process = processMetrics(registry, 10);
  try {
    // Block the loop for a while: the next tick is late by about that much.
    const until = performance.now() + 60;
    while (performance.now() < until) { /* busy */ }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const text = await registry.render();
    const rss = Number(/^fumi_process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    const lag = Number(/^fumi_event_loop_lag_seconds (\S+)$/m.exec(text)?.[1]);
    assertEquals(rss > 1_000_000, true, text);
    assertEquals(lag >= 0.03, true, text);
    // Read and reset: the next scrape reports only what happened since.
    const again = await registry.render();
    assertEquals(Number(/^fumi_event_loop_lag_seconds (\S+)$/m.exec(again)?.[1]) < 0.03, true);
  } finally {
    process.stop();
  }
});
