/**
 * A ban made by one server process is enforced by another on the same database (issue 3): two
 * real `fumi serve` processes, each with its own data directory but the same master key and
 * the same PostgreSQL database. Failed AUTH PLAIN over implicit TLS on server A's submissions
 * port bans the client; server B then refuses the client's first connection with `421 4.7.0`
 * (its flow control looks the ban up in the table), and `fumi ban list` shows the ban with the
 * failures behind it.
 *
 * The two servers and their database: tests/two_servers.ts (PostgreSQL only).
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertOk, fumi, table, withTempDir } from "./cli.ts";
import { plain, statusOf, Wire } from "./smtp_wire.ts";
import { makeTestPki } from "./tls.ts";
import { SERVER_URL, withSharedDatabase } from "./two_servers.ts";

/** Failures that ban a client: low, so the test is quick (the default is 20). */
const BAN_AFTER = 3;
const USER = "alice@example.org";
/** Both starts, the failures and the checks. */
const BUDGET_MS = 45_000;

Deno.test({
  name: "a ban made by one server process is enforced by another on the same database",
  ignore: SERVER_URL === null,
  fn: async () => {
    await withTempDir(async (tmp) => {
      const pki = await makeTestPki();
      const wires: Wire[] = [];
      try {
        await withSharedDatabase(tmp, pki, USER, BUDGET_MS, async ({ env, serve }) => {
          const listeners = ["submission", "submissions"] as const;
          const config = `[auth]\nban_after = ${BAN_AFTER}\n`;
          const [a, b] = await Promise.all(["a", "b"].map((n) => serve(n, listeners, config)));

          // Server A: wrong passwords over implicit TLS until the ban (RFC 4954 §6: 535 5.7.8).
          const tls = await Wire.connectTls(a!.ports.submissions!, pki.caPem);
          wires.push(tls);
          await tls.expect("220");
          await tls.command("EHLO client.example", "250");
          for (let i = 1; i <= BAN_AFTER; i++) {
            await tls.command(`AUTH PLAIN ${plain("", USER, `wrong password ${i}`)}`, "535 5.7.8");
          }

          // Server B has never seen this client, so nothing is cached: its flow control reads
          // the ban from the table and refuses the client's first connection (RFC 5321 §3.1).
          const refused = await Wire.connect(b!.ports.submission!);
          wires.push(refused);
          const reply = await refused.reply();
          assert(reply !== null, "server B closed without a reply");
          assertEquals(statusOf(reply), "421 4.7.0", reply);
          assertStringIncludes(reply, "Too many failed logins from your address");
          await refused.assertClosed();
          // On implicit TLS there is no reply to give before the handshake: B closes the socket
          // without a greeting. (Deno's node:tls answers the ClientHello before flow control has
          // decided, so the client's handshake may complete first; no session runs either way.)
          const silent = await Wire.connectTls(b!.ports.submissions!, pki.caPem).catch(() => null);
          if (silent !== null) {
            wires.push(silent);
            const said = await silent.reply(5000).catch((e) => String(e));
            assert(said === null, `server B greeted a banned client on TLS: ${said}`);
          }

          // The ban as administrators see it, with the failures behind it.
          const listed = assertOk(await fumi(["ban", "list", "--details"], { env }));
          const [header, row] = table(listed.slice(0, 2));
          assertEquals(header, ["NETWORK", "EXPIRES", "BY", "REASON"]);
          assertEquals(row?.[0], "127.0.0.1/32");
          assertEquals(row?.[2], "auto");
          assertEquals(
            row?.[3],
            `${BAN_AFTER} failed sign-ins within 1 h from 127.0.0.1/32: ${USER} ×${BAN_AFTER}`,
          );
          const failures = listed.filter((line) => /^ {4}\d{4}-/.test(line));
          assertEquals(failures.length, BAN_AFTER, listed.join("\n"));
          for (const line of failures) {
            assertMatch(
              line,
              /^ {4}\S+ \S+ UTC {2}smtp {2}127\.0\.0\.1 {2}"alice@example\.org" {2}bad-password$/,
            );
          }
          // Server A logged the ban it made; B refused the connection.
          assert(
            a!.child.stderr.some((line) => line.includes("ban added")),
            a!.child.stderr.join("\n"),
          );
          assert(
            b!.child.stderr.some((line) =>
              line.includes("connection refused") && line.includes("banned")
            ),
            b!.child.stderr.join("\n"),
          );
        });
      } finally {
        for (const wire of wires) wire.close();
        await pki.remove();
      }
    });
  },
});
