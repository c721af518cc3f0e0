/**
 * The webmail and an IMAP client on one account see each other's changes: reading a message in
 * the browser sets \Seen for an IMAP client in IDLE, flagging and moving to Trash show up in
 * FETCH and SELECT, and a flag set over IMAP shows in the web list. Both go through the store's
 * methods (modseq, change announcements), as two IMAP clients would.
 */

import { Browser, webAppOver } from "../src/web/_test_support.ts";
import { assert, assertMatch, assertStringIncludes } from "./assert.ts";
import { signedIn, withImap } from "./imap.ts";
import { sampleMessage } from "./store.ts";

Deno.test("webmail and IMAP see each other's flags and moves", async () => {
  await withImap(async (t) => {
    await t.store.messages.deliver(sampleMessage("shared"), [{ accountId: t.alice.id }]);
    const browser = new Browser(await webAppOver(t.store, t.login));
    await browser.signIn();
    const c = await signedIn(t);
    try {
      const select = await c.command("s1 SELECT INBOX");
      assert(select.includes("* 1 EXISTS"), select.join("\n"));
      await c.send("i1 IDLE\r\n");
      assertMatch((await c.line())!, /^\+ /);
      // Opening the message in the browser marks it read; the IDLE client hears it.
      const read = await browser.request("/mail/read?folder=INBOX&uid=1");
      assertStringIncludes(await read.text(), "Secret subject shared");
      assertMatch((await c.line(2000))!, /^\* 1 FETCH \(.*FLAGS \(\\Seen\)/);
      await c.send("DONE\r\n");
      await c.until("i1 OK");
      // Flagged in the browser: FETCH shows it.
      const token = await browser.csrfToken();
      const act = async (action: string) => {
        const response = await browser.post("/mail/action", {
          _csrf: token,
          folder: "INBOX",
          uid: "1",
          action,
        });
        await response.body?.cancel();
        assert(response.status === 303, `${action}: ${response.status}`);
      };
      await act("flag");
      const fetched = await c.command("f1 FETCH 1 (FLAGS)");
      assertMatch(fetched.join("\n"), /\* 1 FETCH \(FLAGS \(\\Flagged \\Seen\)\)/);
      // Flagged off over IMAP, marked unread over IMAP: the web list shows it unread, unflagged.
      await c.command("f2 STORE 1 -FLAGS.SILENT (\\Flagged \\Seen)");
      const list = await (await browser.request("/mail")).text();
      assertStringIncludes(list, 'class="message unread"');
      assert(!list.includes('aria-label="Flagged"'), "no flag after IMAP removed it");
      // Moved to Trash in the browser: gone from INBOX for IMAP, there in Trash.
      await act("trash");
      const noop = await c.command("n1 NOOP");
      assert(noop.includes("* 1 EXPUNGE"), noop.join("\n"));
      const trash = await c.command("s2 EXAMINE Trash");
      assert(trash.includes("* 1 EXISTS"), trash.join("\n"));
      await c.command("l1 LOGOUT");
    } finally {
      c.close();
    }
  });
});
