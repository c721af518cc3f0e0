/**
 * IMAP IDLE hears a delivery made by another Fumi process on the same PostgreSQL database
 * within a second (issue 5): server A serves IMAP, server B takes mail on its MX port. B's
 * delivery commits and notifies (`pg_notify`), A hears it through LISTEN, and its view of the
 * INBOX is read again for the idling client. The servers and their database:
 * tests/two_servers.ts.
 *
 * @module
 */

import { assert, assertEquals, within } from "./assert.ts";
import { withTempDir } from "./cli.ts";
import { ImapClient } from "./imap.ts";
import { Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { makeTestPki } from "./tls.ts";
import { SERVER_URL, withSharedDatabase } from "./two_servers.ts";

const USER = "alice@example.org";
const BUDGET_MS = 45_000;
/** RFC 2177 leaves it open; the issue asks for a second. */
const PUSH_WITHIN_MS = 1_000;

Deno.test({
  name: "IDLE on one server hears a delivery to another server on the same database within 1 s",
  ignore: SERVER_URL === null,
  fn: async () => {
    await withTempDir(async (tmp) => {
      const pki = await makeTestPki();
      try {
        await withSharedDatabase(tmp, pki, USER, BUDGET_MS, async ({ serve }) => {
          const [a, b] = await Promise.all([serve("a", ["imaps"]), serve("b", ["smtp"])]);
          const imap = await ImapClient.connectTls(a.ports.imaps!, pki.caPem);
          const smtp = await Wire.connect(b.ports.smtp!);
          try {
            await imap.line();
            const login = await imap.command(`a1 LOGIN ${USER} "${GOOD_PASSWORD}"`);
            assert(login.at(-1)!.startsWith("a1 OK"), login.join("\n"));
            const selected = await imap.command("a2 SELECT INBOX");
            assert(selected.includes("* 0 EXISTS"), selected.join("\n"));
            await imap.send("a3 IDLE\r\n");
            assertEquals(await imap.line(), "+ idling");

            await smtp.expect("220");
            await smtp.command("EHLO peer.example", "250");
            await smtp.command("MAIL FROM:<bob@peer.example>", "250 2.1.0");
            await smtp.command(`RCPT TO:<${USER}>`, "250 2.1.5");
            await smtp.command("DATA", "354");
            await smtp.send(
              "From: bob@peer.example\r\nTo: alice@example.org\r\nSubject: push\r\n\r\nHi\r\n.\r\n",
            );
            await smtp.expect("250 2.0.0");
            const acknowledged = performance.now();
            const pushed = await within(PUSH_WITHIN_MS * 5, imap.line(), "no EXISTS at all");
            const took = performance.now() - acknowledged;
            assertEquals(pushed, "* 1 EXISTS");
            assert(took < PUSH_WITHIN_MS, `EXISTS came ${took.toFixed(0)} ms after the 250`);
            await imap.send("DONE\r\n");
            assertEquals(await imap.line(), "a3 OK IDLE terminated");
          } finally {
            imap.close();
            smtp.close();
          }
        });
      } finally {
        await pki.remove();
      }
    });
  },
});
