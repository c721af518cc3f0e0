/**
 * `fumi status` against a running `fumi serve` (tests/ops_server.ts): every listener probed
 * up, the certificate in use with its expiry, the queue (a held message from a held account),
 * a ban, and an error the server really logged (an ACME challenge lookup failing while its
 * table is away); then a configured listener that nothing serves is reported down, exit 1.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertOk, fumi, storeFor, table } from "./cli.ts";
import { eventually, withOpsServer } from "./ops_server.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { plain, Wire } from "./smtp_wire.ts";
import { freePort } from "./cli.ts";

/** An ACME HTTP-01 token's shape (RFC 8555 §8.3: base64url, 22 characters or more). */
const TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ";

Deno.test("fumi status: listeners, certificates, queue, bans and last errors of a running server", async () => {
  await withOpsServer({}, async (server) => {
    const status = (config = server.config) =>
      fumi(["status", "--dev", "--config", config], { env: server.env });

    // A held account's message to a remote address waits in the queue, held.
    assertOk(
      await fumi(["user", "hold", "alice@example.org", "--config", server.config], {
        env: server.env,
      }),
    );
    const s = await Wire.connectTls(server.ports.submissions, server.caPem);
    try {
      await s.expect("220");
      await s.command("EHLO client.example", "250");
      await s.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "235 2.7.0");
      await s.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await s.command("RCPT TO:<bob@example.net>", "250 2.1.5");
      await s.command("DATA", "354");
      await s.command("From: alice@example.org\r\nSubject: held\r\n\r\nHello.\r\n.", "250 2.0.0");
      await s.command("QUIT", "221 2.0.0");
    } finally {
      s.close();
    }
    assertOk(
      await fumi(["ban", "add", "192.0.2.9", "--config", server.config], { env: server.env }),
    );

    // A real error in the server: the ACME challenge table is away while a CA asks.
    const store = await storeFor(server.env);
    try {
      await store.sql`alter table acme_challenges rename to acme_challenges_away`;
      const response = await fetch(
        `http://127.0.0.1:${server.ports.http}/.well-known/acme-challenge/${TOKEN}`,
      );
      await response.body?.cancel();
      assertEquals(response.status, 503);
      await store.sql`alter table acme_challenges_away rename to acme_challenges`;
      // The server keeps its error lines in the database within seconds.
      await eventually(
        async () => {
          const [row] = await store.sql`select 1 from error_events limit 1`;
          return row;
        },
        "the error to reach error_events",
        20_000,
      );
    } finally {
      await store.close();
    }

    const result = await status();
    const out = assertOk(result);
    assertMatch(out[0]!, /^Fumi on mail\.example\.org, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assertEquals(out[1], "Listeners:");
    const listeners = out.slice(2, 7).map((l) => l.trim().split(/\s+/));
    assertEquals(listeners, [
      ["smtp", `127.0.0.1:${server.ports.smtp}`, "up"],
      ["submissions", `127.0.0.1:${server.ports.submissions}`, "up"],
      ["imaps", `127.0.0.1:${server.ports.imaps}`, "up"],
      ["http", `127.0.0.1:${server.ports.http}`, "up"],
      ["metrics", `127.0.0.1:${server.ports.metrics}`, "up"],
    ]);
    assertEquals(out[7], "Certificates:");
    assertMatch(out[8]!, /^ {2}test +expires \d{4}-\d\d-\d\d \(8\d days\) +used by default$/);
    const text = out.join("\n");
    assertMatch(text, /\nQueue: 0 waiting, 1 held, oldest \d+s\n/);
    assertStringIncludes(text, "\nBans: 1 active\n");
    assertStringIncludes(text, "\nLast errors (newest first):\n");
    const error = out.find((l) => l.includes("HTTP route failed"));
    assert(error, text);
    assertMatch(
      error,
      /^ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ mail\.example\.org: HTTP route failed \(/,
    );
    assertStringIncludes(error, `path=/.well-known/acme-challenge/${TOKEN}`);

    // The audit log has the commands of the setup and of this test; its chain checks out while
    // the server runs.
    const audit = table(
      assertOk(await fumi(["audit", "--config", server.config], { env: server.env })),
    );
    const rows = audit.slice(1).map((r) => [r[2], r[4], r[5]]);
    assertEquals(rows.slice(0, 4), [
      ["ops-tester", "cert.import", "test"],
      ["ops-tester", "cert.assign", "default"],
      ["ops-tester", "domain.add", "example.org"],
      ["ops-tester", "account.add", "alice@example.org"],
    ]);
    assert(
      rows.some(([, action, target]) =>
        action === "account.hold" && target === "alice@example.org"
      ),
    );
    assert(rows.some(([, action, target]) => action === "ban.add" && target === "192.0.2.9/32"));
    assertStringIncludes(
      assertOk(await fumi(["audit", "verify", "--config", server.config], { env: server.env }))[0]!,
      "hash chain intact",
    );

    // A listener the configuration names but nothing serves: down, and the exit code says so.
    const port = freePort();
    const other = `${server.tmp}/other.toml`;
    const config = await Deno.readTextFile(server.config);
    await Deno.writeTextFile(
      other,
      config.replace(
        "[listeners.imap]\nenabled = false",
        `[listeners.imap]\naddresses = ["127.0.0.1"]\nport = ${port}`,
      ),
    );
    const down = await status(other);
    assertEquals(down.code, 1, down.err.join("\n"));
    assertEquals(down.err, ["fumi: Not healthy: imap is down"]);
    const line = down.out.find((l) => l.trim().startsWith("imap "));
    assertMatch(
      line ?? "",
      new RegExp(`^ {2}imap +127\\.0\\.0\\.1:${port} +down \\(connection refused\\)$`),
    );

    // The database unreachable (another URL): the listeners are still shown, and it is named.
    const noDatabase = await fumi(["status", "--dev", "--config", server.config], {
      env: { ...server.env, FUMI_DATABASE_URL: `postgres://postgres@127.0.0.1:${freePort()}/x` },
    });
    assertEquals(noDatabase.code, 1);
    assertEquals(noDatabase.err, ["fumi: Not healthy: the database is down"]);
    assertEquals(noDatabase.out.filter((l) => l.endsWith(" up")).length, 5);
    assertMatch(noDatabase.out.at(-1)!, /^Database: cannot be opened \(.*ECONNREFUSED/);
  });
});
