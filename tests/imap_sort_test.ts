/**
 * SORT and THREAD (RFC 5256, SORT=DISPLAY of RFC 5957) as transcripts against the server in
 * process, over messages delivered to alice's INBOX.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { signedIn, withImap } from "./imap.ts";

function last(lines: string[]): string {
  return lines[lines.length - 1]!;
}

function message(fields: Record<string, string>): Uint8Array {
  const head = Object.entries(fields).map(([name, value]) => `${name}: ${value}`);
  return new TextEncoder().encode([...head, "", "Body.", ""].join("\r\n"));
}

Deno.test("IMAP: SORT, UID SORT and THREAD over delivered messages", async () => {
  await withImap(async (t) => {
    const inbox = [{ accountId: t.alice.id }];
    const deliveries: [Record<string, string>, string][] = [
      // 1 (UID 1)
      [{
        From: "Zoe <zoe@remote.example>",
        Subject: "Meeting",
        Date: "Tue, 3 Nov 2026 09:00:00 +0000",
        "Message-ID": "<m1@remote.example>",
      }, "2026-11-05T00:00:00Z"],
      // 2: a reply to 1
      [{
        From: "adam@remote.example",
        Subject: "Re: meeting",
        Date: "Wed, 4 Nov 2026 09:00:00 +0000",
        "Message-ID": "<m2@remote.example>",
        References: "<m1@remote.example>",
      }, "2026-11-06T00:00:00Z"],
      // 3: RFC 2047 subject, the earliest Date
      [{
        From: "Bob <bob@remote.example>",
        Subject: "=?utf-8?q?Re=3A_=5Blist=5D_Apple_pie?=",
        Date: "Mon, 2 Nov 2026 09:00:00 +0000",
        "Message-ID": "<m3@remote.example>",
      }, "2026-11-04T00:00:00Z"],
      // 4: no Date header: DATE is the internal date
      [{
        From: "carl@remote.example",
        Subject: "Fwd: Meeting",
        "Message-ID": "<m4@remote.example>",
        "In-Reply-To": "<m1@remote.example>",
      }, "2026-11-01T00:00:00Z"],
    ];
    for (const [fields, arrival] of deliveries) {
      await t.store.messages.deliver(message(fields), inbox, { internalDate: new Date(arrival) });
    }
    const c = await signedIn(t);
    try {
      const caps = (await c.command("c1 CAPABILITY"))[0]!;
      for (const cap of ["SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"]) {
        assert(caps.split(" ").includes(cap), caps);
      }
      assertMatch(last(await c.command("s0 SORT (SUBJECT) UTF-8 ALL")), /^s0 BAD/); // no mailbox
      await c.command("e1 SELECT INBOX");
      // Base subjects: "Apple pie" (3), then "Meeting" 1, 2, 4 in mailbox order.
      assertEquals(await c.command("s1 SORT (SUBJECT) UTF-8 ALL"), [
        "* SORT 3 1 2 4",
        "s1 OK SORT completed",
      ]);
      // Dates: 4 (internal 1 Nov) < 3 (2 Nov) < 1 (3 Nov) < 2 (4 Nov).
      assertEquals(await c.command("s2 SORT (REVERSE DATE) UTF-8 ALL"), [
        "* SORT 2 1 3 4",
        "s2 OK SORT completed",
      ]);
      // From local parts: adam, bob, carl, zoe.
      assertEquals(await c.command("s3 UID SORT (FROM) US-ASCII ALL"), [
        "* SORT 2 3 4 1",
        "s3 OK SORT completed",
      ]);
      // Display names: adam@remote.example, Bob, carl@remote.example, Zoe.
      assertEquals(
        (await c.command("s4 SORT (REVERSE DISPLAYFROM) UTF-8 ALL"))[0],
        "* SORT 1 4 3 2",
      );
      assertEquals((await c.command("s5 SORT (ARRIVAL) UTF-8 SUBJECT meeting"))[0], "* SORT 4 1 2");
      assertEquals((await c.command("s6 SORT (SIZE) UTF-8 SUBJECT nothing"))[0], "* SORT");
      assertMatch(
        last(await c.command("s7 SORT (SUBJECT) ISO-8859-1 ALL")),
        /^s7 NO \[BADCHARSET \(US-ASCII UTF-8\)\]/,
      );
      // References: 2 and 4 answer 1; 3 alone. Roots by date: 3 (2 Nov), 1 (3 Nov).
      assertEquals(await c.command("t1 THREAD REFERENCES UTF-8 ALL"), [
        "* THREAD (3)(1 (4)(2))",
        "t1 OK THREAD completed",
      ]);
      // Ordered subject: "Meeting" starts with 4 (internal date 1 Nov), then "Apple pie".
      assertEquals(
        (await c.command("t2 UID THREAD ORDEREDSUBJECT UTF-8 ALL"))[0],
        "* THREAD (4 (1)(2))(3)",
      );
      assertMatch(last(await c.command("t3 THREAD NOSUCH UTF-8 ALL")), /^t3 BAD/);
      // After an expunge, UIDs and sequence numbers differ: UID SORT answers UIDs.
      await c.command("x1 STORE 3 +FLAGS.SILENT (\\Deleted)");
      await c.command("x2 EXPUNGE");
      assertEquals((await c.command("s8 UID SORT (FROM) UTF-8 ALL"))[0], "* SORT 2 4 1");
      assertEquals((await c.command("s9 SORT (FROM) UTF-8 ALL"))[0], "* SORT 2 3 1");
      assertEquals(
        (await c.command("t4 UID THREAD REFERENCES UTF-8 ALL"))[0],
        "* THREAD (1 (4)(2))",
      );
    } finally {
      c.close();
    }
  });
});
