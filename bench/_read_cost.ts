/**
 * How long the IMAP reads that dominate the load mix take alone, over one session: `UID SEARCH
 * FROM "x"` over the whole INBOX (cold: first after start; warm: repeated) and a 50-message
 * header FETCH (cold and warm), in wall time and in this process's CPU time (server and
 * client; PostgreSQL's is not counted), which a busy machine disturbs less. Run:
 * `deno run -A bench/_read_cost.ts [messages]`, with FUMI_TEST_DATABASE_URL for PostgreSQL
 * (PGlite otherwise).
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { ImapClient, withImap } from "../tests/imap.ts";
import { GOOD_PASSWORD } from "../tests/store.ts";
import { messageMaker } from "./_message.ts";

const count = Number(Deno.args[0] ?? 10_000);
const make = messageMaker(4096);

await withImap(async ({ store, alice, ports, caPem }) => {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < count) {
      const i = next++;
      await store.messages.deliver(make(i), [{ accountId: alice.id }]);
    }
  }));
  console.log(`filled ${count} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const c = await ImapClient.connectTls(ports.imaps, caPem);
  await c.line();
  await c.command(`a LOGIN ${alice.address} "${GOOD_PASSWORD}"`);
  const time = async (label: string, command: string, times = 1) => {
    const took: number[] = [];
    const cpu: number[] = [];
    let last = "";
    for (let i = 0; i < times; i++) {
      const t = performance.now();
      const u = cpuUsage();
      const lines = await c.command(`t ${command}`);
      took.push(performance.now() - t);
      const used = cpuUsage(u);
      cpu.push((used.user + used.system) / 1000);
      last = lines[lines.length - 1]!;
    }
    took.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    const ms = (x: number) => x.toFixed(1);
    const spread = times === 1
      ? `${ms(took[0]!)} ms, CPU ${ms(cpu[0]!)} ms`
      : `min ${ms(took[0]!)} ms, median ${ms(took[times >> 1]!)} ms, median CPU ${
        ms(cpu[times >> 1]!)
      } ms of ${times}`;
    console.log(`${label}: ${spread} (${last})`);
  };
  const fetch = (set: string) =>
    `UID FETCH ${set} (UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])`;
  await time("SELECT", "SELECT INBOX");
  await time("FETCH 50 headers (cold)", fetch("1001:1050"));
  await time("UID SEARCH FROM x (cold)", 'UID SEARCH FROM "x"');
  await time("UID SEARCH FROM x (warm)", 'UID SEARCH FROM "x"', 9);
  await time("FETCH 50 headers (descriptions warm)", fetch(`${count - 99}:${count - 50}`));
  await time("FETCH 50 headers (again)", fetch(`${count - 99}:${count - 50}`), 9);
  await time("UID SEARCH FLAGGED", "UID SEARCH FLAGGED", 9);
  await time("UID FETCH one body", `UID FETCH ${count - 7} (BODY.PEEK[])`, 9);
  await time("SELECT", "SELECT INBOX", 5);
  await c.command("z LOGOUT");
  c.close();
});
