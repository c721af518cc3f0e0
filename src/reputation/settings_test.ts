import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { configSchema } from "../config/schema.ts";
import { reputationSettings } from "./settings.ts";

const section = (reputation: unknown) => configSchema.parse({ reputation }).reputation;

Deno.test("reputationSettings: production asks Spamhaus ZEN and DBL; --dev is off and asks nothing", () => {
  const production = reputationSettings({ dev: false, reputation: section({}) });
  assertEquals(production.enabled, true);
  assertEquals(production.dnsbl.map((l) => [l.name, l.zone, l.kind]), [
    ["spamhaus-zen", "zen.spamhaus.org", "ip"],
  ]);
  assertEquals(production.uribl.map((l) => [l.name, l.zone, l.kind]), [
    ["spamhaus-dbl", "dbl.spamhaus.org", "domain"],
  ]);
  assertEquals(
    [production.junkScore, production.rejectScore, production.maxUriDomains],
    [5, 10, 20],
  );
  assertEquals(production.greylisting.enabled, false);
  assertEquals(production.greylisting.delayMs, 5 * 60_000);
  const dev = reputationSettings({ dev: true, reputation: section({}) });
  assertEquals([dev.enabled, dev.dnsbl.length, dev.uribl.length], [false, 0, 0]);
});

Deno.test("[reputation] config: codes, actions and zones are validated", () => {
  const bad = (reputation: unknown) => {
    const result = configSchema.safeParse({ reputation });
    return result.success ? "" : result.error.issues[0]!.message;
  };
  assertMatch(
    bad({ dnsbl: [{ name: "x", zone: "bl.test", codes: [{ code: "10.0.0.1", meaning: "m" }] }] }),
    /127\.x\.x\.x/,
  );
  assertMatch(bad({ dnsbl: [{ name: "x", zone: "bl.test", action: "drop" }] }), /reject|Invalid/);
  assertMatch(bad({ dnsbl: [{ name: "x", zone: "not a zone" }] }), /DNS zone/);
  assertMatch(
    bad({
      dnsbl: [{ name: "x", zone: "bl.test", codes: [{ code: "127.0.0.2", meaning: "a\nb" }] }],
    }),
    /printable/,
  );
  assertEquals(bad({ greylisting: { enabled: true, delay: "1m" } }), "");
});

Deno.test("[reputation]: junk_score must be below reject_score", () => {
  const result = configSchema.safeParse({ reputation: { junk_score: 10, reject_score: 10 } });
  assertEquals(result.success, false);
  assertMatch(JSON.stringify(result.error?.issues), /junk_score must be below reject_score/);
  assertEquals(section({ junk_score: 3, reject_score: 4 }).junk_score, 3);
  assertEquals(section({ reject_score: 20 }).junk_score, 5);
});
