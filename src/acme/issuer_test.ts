import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { createSelfSigned, privateKeyPem } from "../crypto/x509.ts";
import { createLogger } from "../ops/log.ts";
import type { Store } from "../store/mod.ts";
import { ConflictError, InvalidInputError } from "../util/errors.ts";
import { Acme, ACME_LOCK, type AcmeEvent, type TransportFactory } from "./issuer.ts";
import { BACKOFF_BASE_MS, renewalTime } from "./schedule.ts";
import { ensureAccount, recordIssued } from "./state.ts";

const MINUTE = 60 * 1000;
const DIRECTORY = "https://acme.invalid/directory";

/** A CA that cannot be reached, counting the attempts. */
function unreachable(delayMs = 0): { transport: TransportFactory; attempts: () => number } {
  let attempts = 0;
  const transport: TransportFactory = () => ({
    fetch: async () => {
      attempts++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      throw new TypeError("connection refused");
    },
    close: () => {},
  });
  return { transport, attempts: () => attempts };
}

/** Stores `name` as if ACME had issued it (a self-signed stand-in) and returns its lifetime. */
async function acmeCertificate(store: Store, name: string) {
  const made = await createSelfSigned({ names: [`${name}.example.org`] });
  const { certificate } = await store.certificates.import(
    name,
    made.chainPem,
    privateKeyPem(made.keyPkcs8),
    { source: "acme" },
  );
  await ensureAccount(store.sql, store.vault, DIRECTORY);
  await recordIssued(store.sql, certificate.id, DIRECTORY, "ecdsa-p256", new Date());
  return { notBefore: certificate.notBefore!, notAfter: certificate.notAfter! };
}

Deno.test("a failed renewal is recorded, logged as a warning, surfaced as an event, and backed off", async () => {
  await withStore(async ({ store }) => {
    const { notBefore, notAfter } = await acmeCertificate(store, "mail");
    const before = await store.certificates.get("mail");
    const ca = unreachable();
    const lines: string[] = [];
    const events: AcmeEvent[] = [];
    const acme = new Acme({
      sql: store.sql,
      vault: store.vault,
      certificates: store.certificates,
      log: createLogger({ level: "info", format: "json", write: (line) => lines.push(line) }),
      onEvent: (event) => events.push(event),
      transport: ca.transport,
    });
    const due = renewalTime(notBefore, notAfter);

    // Before two thirds: nothing happens.
    const early = await acme.renewDue(new Date(due.getTime() - MINUTE));
    assertEquals(early, { locked: false, renewed: [], failed: [] });
    assertEquals(ca.attempts(), 0);

    // Due: the attempt fails; the next one waits the base backoff.
    const first = await acme.renewDue(due);
    assertEquals(first.renewed, []);
    assertEquals(first.failed.length, 1);
    assertEquals(first.failed[0]!.name, "mail");
    assertStringIncludes(
      first.failed[0]!.error,
      "Cannot reach the ACME server at https://acme.invalid",
    );
    assertEquals(first.failed[0]!.nextAttemptAt.getTime(), due.getTime() + BACKOFF_BASE_MS);
    assertEquals(ca.attempts(), 1);
    const [state] = await acme.renewals();
    assertEquals([state!.failures, state!.nextAttemptAt], [1, first.failed[0]!.nextAttemptAt]);
    assertStringIncludes(state!.lastError!, "connection refused");
    assertEquals(events.length, 1);
    assertEquals(events[0]!.type, "renewal-failed");
    const line = JSON.parse(lines.find((l) => l.includes("acme_renewal_failed"))!);
    assertEquals([line.level, line.msg, line.certificate, line.failures], [
      "warn",
      "ACME renewal failed",
      "mail",
      1,
    ]);
    assertMatch(line.next_attempt_at, /^\d{4}-\d\d-\d\dT/);

    // During the backoff: nothing is attempted.
    await acme.renewDue(new Date(due.getTime() + 5 * MINUTE));
    assertEquals(ca.attempts(), 1);

    // After it: tried again, failed again, the wait doubles.
    const second = await acme.renewDue(new Date(due.getTime() + 10 * MINUTE));
    assertEquals(
      second.failed[0]!.nextAttemptAt.getTime(),
      due.getTime() + 10 * MINUTE + 2 * BACKOFF_BASE_MS,
    );
    assertEquals(ca.attempts(), 2);
    assertEquals((await acme.renewals())[0]!.failures, 2);
    assertEquals(events.map((e) => e.type), ["renewal-failed", "renewal-failed"]);

    // The certificate in service is untouched; no challenge is left behind.
    const after = await store.certificates.get("mail");
    assertEquals(after.fingerprintSha256, before.fingerprintSha256);
    const [left] = await store.sql<{ n: number }[]>`select count(*)::int as n from acme_challenges`;
    assertEquals(left!.n, 0);

    // Imported by hand under the same name: ACME leaves it alone from then on.
    const manual = await createSelfSigned({ names: ["mail.example.org"] });
    await store.certificates.import("mail", manual.chainPem, privateKeyPem(manual.keyPkcs8));
    assertEquals(await acme.renewals(), []);
    const far = new Date(notAfter.getTime() + 365 * 24 * 60 * MINUTE);
    assertEquals(await acme.renewDue(far), { locked: false, renewed: [], failed: [] });
    assertEquals(ca.attempts(), 2);
  });
});

Deno.test("only one renewal runs at a time: in this process, and across nodes on PostgreSQL", async () => {
  await withStore(async ({ store, db }) => {
    const { notBefore, notAfter } = await acmeCertificate(store, "mail");
    const due = renewalTime(notBefore, notAfter);
    const ca = unreachable(100);
    const options = {
      sql: store.sql,
      vault: store.vault,
      certificates: store.certificates,
      log: createLogger({ level: "error", format: "json", write: () => {} }),
      transport: ca.transport,
      lockWaitMs: 300,
    };
    const acme = new Acme(options);
    const [a, b] = await Promise.all([acme.renewDue(due), acme.renewDue(due)]);
    assertEquals([a.locked, b.locked], [false, true]);
    assertEquals(a.failed.length, 1);
    assertEquals(ca.attempts(), 1);

    // The embedded database is one session for every connection: advisory locks do not exclude
    // there (and it has only one node). On PostgreSQL another node's lock is respected.
    if (db.kind !== "postgres") return;
    const other = db.connectAgain();
    const held = await other.reserve();
    try {
      await held`select pg_advisory_lock(${ACME_LOCK})`;
      const later = new Date(due.getTime() + 24 * 60 * MINUTE);
      assertEquals(await acme.renewDue(later), { locked: true, renewed: [], failed: [] });
      await assertRejects(
        () => acme.issue("web", ["web.example.org"], { directoryUrl: DIRECTORY }),
        ConflictError,
        "Another node is issuing or renewing certificates",
      );
      assertEquals(ca.attempts(), 1);
      await held`select pg_advisory_unlock(${ACME_LOCK})`;
      const after = await acme.renewDue(later);
      assertEquals([after.locked, after.failed.length], [false, 1]);
    } finally {
      held.release();
    }
  });
});

Deno.test("issue refuses bad input before taking the lock or sending anything", async () => {
  await withStore(async ({ store }) => {
    const ca = unreachable();
    const acme = new Acme({
      sql: store.sql,
      vault: store.vault,
      certificates: store.certificates,
      log: createLogger({ level: "error", format: "json", write: () => {} }),
      transport: ca.transport,
    });
    const cases: [string, string[], Record<string, string>, string][] = [
      ["web", ["*.example.org"], {}, "wildcard names need DNS-01"],
      ["web", [], {}, "A certificate needs at least one name"],
      ["Bad Name!", ["a.example.org"], {}, 'Invalid certificate name "Bad Name!"'],
      [
        "web",
        ["a.example.org"],
        { directoryUrl: "http://ca.example/dir" },
        "must start with https://",
      ],
      ["web", ["a.example.org"], { email: "not an address" }, "Cannot parse address"],
      ["web", ["a.example.org"], { caPem: "garbage" }, "No certificate found"],
    ];
    for (const [name, names, options, message] of cases) {
      const error = await assertRejects(() => acme.issue(name, names, options));
      assert(
        error.message.includes(message) &&
          (error instanceof InvalidInputError || error.name === "AcmeError"),
        `${name} ${names}: ${error.name}: ${error.message}`,
      );
    }
    assertEquals(ca.attempts(), 0);
    const [accounts] = await store.sql<
      { n: number }[]
    >`select count(*)::int as n from acme_accounts`;
    assertEquals(accounts!.n, 0);
  });
});
