/**
 * Golden transcripts from the examples of RFC 9051 §6, adapted to our mailboxes (the
 * hierarchy separator is "/", the default mailboxes exist, UIDs start at 1), replayed line by
 * line against the server in process and then checked against the store.
 *
 * Where the server answers differently from the RFC's example in a way the RFC allows, the
 * transcript says so beside the line.
 *
 * @module
 */

import { encodeBase64 } from "../src/util/base64.ts";
import { assertEquals } from "./assert.ts";
import { withImap } from "./imap.ts";
import { LOGIN, replay } from "./imap_replay.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

Deno.test("IMAP transcript: RFC 9051 §6.1 and §6.2 — CAPABILITY, NOOP, STARTTLS, LOGIN, AUTHENTICATE, LOGOUT", async () => {
  await withImap(async (t) => {
    const plain = encodeBase64(new TextEncoder().encode(`\0alice@example.org\0${GOOD_PASSWORD}`));
    await replay(
      t,
      "imap",
      `
      S: * OK [CAPABILITY IMAP4rev1 IMAP4rev2 … STARTTLS LOGINDISABLED] mail.example.org Fumi IMAP ready
      C: abcd CAPABILITY
      S: * CAPABILITY IMAP4rev1 IMAP4rev2 … STARTTLS LOGINDISABLED
      S: abcd OK CAPABILITY completed
      C: a002 NOOP
      S: a002 OK NOOP completed
      C: a003 LOGIN SMITH SESAME
      S: a003 NO [PRIVACYREQUIRED] …
      C: a004 AUTHENTICATE PLAIN ${plain}
      S: a004 NO [PRIVACYREQUIRED] …
      C: a005 STARTTLS
      S: a005 OK Begin TLS negotiation now
      TLS
      C: a006 CAPABILITY
      S: * CAPABILITY IMAP4rev1 IMAP4rev2 … AUTH=PLAIN AUTH=SCRAM-SHA-256
      S: a006 OK CAPABILITY completed
      C: a007 STARTTLS
      S: a007 BAD …
      C: a008 LOGIN SMITH SESAME
      S: a008 NO [AUTHENTICATIONFAILED] …
      C: a009 AUTHENTICATE PLAIN ${plain}
      S: a009 OK [CAPABILITY IMAP4rev1 IMAP4rev2 …] Signed in
      C: a010 NOOP
      S: a010 OK NOOP completed
      C: A023 LOGOUT
      S: * BYE …
      S: A023 OK LOGOUT completed
      CLOSED
      `,
    );
  });
});

Deno.test("IMAP transcript: RFC 9051 §6.3 — ENABLE, CREATE, LIST, DELETE, RENAME, SUBSCRIBE, NAMESPACE, STATUS", async () => {
  await withImap(async (t) => {
    await t.store.messages.deliver(sampleMessage("one"), [{ accountId: t.alice.id }]);
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: t2 ENABLE CONDSTORE X-GOOD-IDEA
      S: * ENABLED CONDSTORE
      S: t2 OK ENABLE completed
      C: A101 LIST "" ""
      U: * LIST (\\Noselect) "/" ""
      S: A101 OK LIST completed
      C: A001 NAMESPACE
      S: * NAMESPACE (("" "/")) NIL NIL
      S: A001 OK NAMESPACE completed
      C: A003 CREATE owatagusiam/
      S: A003 OK CREATE completed
      C: A004 CREATE owatagusiam/blurdybloop
      S: A004 OK CREATE completed
      C: A005 CREATE blurdybloop
      S: A005 OK CREATE completed
      C: A006 CREATE foo/bar
      S: A006 OK CREATE completed
      C: A007 CREATE INBOX
      S: A007 NO [ALREADYEXISTS] …
      C: A682 LIST "" *
      U: * LIST (\\HasNoChildren \\Archive) "/" Archive
      U: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasNoChildren \\Junk) "/" Junk
      U: * LIST (\\HasNoChildren \\Sent) "/" Sent
      U: * LIST (\\HasNoChildren \\Trash) "/" Trash
      U: * LIST (\\HasNoChildren) "/" blurdybloop
      U: * LIST (\\HasChildren) "/" foo
      U: * LIST (\\HasNoChildren) "/" foo/bar
      U: * LIST (\\HasChildren) "/" owatagusiam
      U: * LIST (\\HasNoChildren) "/" owatagusiam/blurdybloop
      S: A682 OK LIST completed
      C: A683 DELETE blurdybloop
      S: A683 OK DELETE completed
      # §6.3.5 lets a server refuse to delete a name with inferiors (the first example) or
      # delete it and leave the name \\Noselect (the second, A84–A86): Fumi does the latter.
      # The mailbox goes; the name stays as a level of the hierarchy that "%" lists
      # (§6.3.9), \\Noselect to this IMAP4rev1 LIST, while a mailbox lies below it.
      C: A684 DELETE foo
      S: A684 OK DELETE completed
      C: A85 LIST "" foo*
      U: * LIST (\\HasNoChildren) "/" foo/bar
      S: A85 OK LIST completed
      C: A86 LIST "" f%
      U: * LIST (\\Noselect \\HasChildren) "/" foo
      S: A86 OK LIST completed
      C: A685 DELETE foo/bar
      S: A685 OK DELETE completed
      # The level went with its last inferior: there is nothing named foo to delete.
      C: A686 DELETE foo
      S: A686 NO [NONEXISTENT] …
      C: A687 DELETE INBOX
      S: A687 NO …
      C: A688 LIST "" %
      U: * LIST (\\HasNoChildren \\Archive) "/" Archive
      U: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasNoChildren \\Junk) "/" Junk
      U: * LIST (\\HasNoChildren \\Sent) "/" Sent
      U: * LIST (\\HasNoChildren \\Trash) "/" Trash
      U: * LIST (\\HasChildren) "/" owatagusiam
      S: A688 OK LIST completed
      C: A689 RENAME owatagusiam zowie
      S: A689 OK RENAME completed
      C: A690 LIST "" zowie*
      U: * LIST (\\HasChildren) "/" zowie
      U: * LIST (\\HasNoChildren) "/" zowie/blurdybloop
      S: A690 OK LIST completed
      C: A691 RENAME zowie Sent
      S: A691 NO [ALREADYEXISTS] …
      C: A692 RENAME INBOX old-mail
      S: A692 OK RENAME completed
      C: A693 UNSUBSCRIBE zowie
      S: A693 OK UNSUBSCRIBE completed
      C: A694 LIST (SUBSCRIBED) "" "zowie*"
      U: * LIST (\\HasNoChildren \\Subscribed) "/" zowie/blurdybloop
      S: A694 OK LIST completed
      C: A002 SUBSCRIBE zowie
      S: A002 OK SUBSCRIBE completed
      C: A042 STATUS old-mail (UIDNEXT MESSAGES)
      S: * STATUS old-mail (UIDNEXT 2 MESSAGES 1)
      S: A042 OK STATUS completed
      C: A043 STATUS INBOX (MESSAGES UNSEEN)
      S: * STATUS INBOX (MESSAGES 0 UNSEEN 0)
      S: A043 OK STATUS completed
      C: A044 STATUS blurdybloop (MESSAGES)
      S: A044 NO [NONEXISTENT] …
      C: A023 LOGOUT
      S: * BYE …
      S: A023 OK LOGOUT completed
      `,
    );
    const { mailboxes, messages } = t.store;
    const names = (await mailboxes.list(t.alice.id)).map((m) => m.name).sort();
    assertEquals(names, [
      "Archive",
      "Drafts",
      "INBOX",
      "Junk",
      "Sent",
      "Trash",
      "old-mail",
      "zowie",
      "zowie/blurdybloop",
    ]);
    // §6.3.6: renaming INBOX moves its messages to the new name and leaves INBOX empty.
    const old = await mailboxes.get(t.alice.id, "old-mail");
    assertEquals((await messages.list(old.id)).map((m) => m.uid), [1]);
    const inbox = await mailboxes.get(t.alice.id, "INBOX");
    assertEquals((await messages.list(inbox.id)).length, 0);
  });
});

/** The message of RFC 9051 §6.3.12's example (with CRLF line ends). */
const MEETING = [
  "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)",
  "From: Fred Foobar <foobar@Blurdybloop.example>",
  "Subject: afternoon meeting",
  "To: mooch@owatagusiam.example",
  "Message-Id: <B27397-0100000@Blurdybloop.example>",
  "MIME-Version: 1.0",
  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII",
  "",
  "Hello Joe, do you think we can meet at 3:30 tomorrow?",
];

Deno.test("IMAP transcript: RFC 9051 §6.3 — APPEND with a literal, SELECT, EXAMINE, IDLE", async () => {
  await withImap(async (t) => {
    const size = new TextEncoder().encode(MEETING.join("\r\n") + "\r\n").length;
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: e1 ENABLE IMAP4rev2
      S: * ENABLED IMAP4rev2
      S: e1 OK ENABLE completed
      C: A002 CREATE saved-messages
      S: A002 OK CREATE completed
      C: A003 APPEND saved-messages (\\Seen) {${size}}
      S: + Ready for literal data
      ${MEETING.map((l) => `C: ${l}`).join("\n")}
      C:
      S: A003 OK [APPENDUID … 1] APPEND completed
      C: A004 APPEND nowhere {1+}
      C: x
      S: A004 NO [TRYCREATE] …
      C: A932 EXAMINE saved-messages
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
      S: * OK [PERMANENTFLAGS ()] …
      S: * 1 EXISTS
      S: * OK [UIDVALIDITY …] UIDs valid
      S: * OK [UIDNEXT 2] Predicted next UID
      S: * OK [HIGHESTMODSEQ …] …
      S: * LIST () "/" saved-messages
      S: A932 OK [READ-ONLY] EXAMINE completed
      C: A933 STORE 1 +FLAGS (\\Flagged)
      S: A933 NO …
      C: A142 SELECT INBOX
      S: * OK [CLOSED] Previous mailbox is now closed
      S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
      S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] …
      S: * 0 EXISTS
      S: * OK [UIDVALIDITY …] UIDs valid
      S: * OK [UIDNEXT 1] Predicted next UID
      S: * OK [HIGHESTMODSEQ …] …
      S: * LIST () "/" INBOX
      S: A142 OK [READ-WRITE] SELECT completed
      C: A143 IDLE
      S: + idling
      DO: deliver
      S: * 1 EXISTS
      C: DONE
      S: A143 OK IDLE terminated
      C: A144 FETCH 1 (UID ENVELOPE)
      S: * 1 FETCH (UID 1 ENVELOPE ("Fri, 27 Nov 2026 12:00:00 +0000" "Secret subject idle" …))
      S: A144 OK FETCH completed
      C: A145 UNSELECT
      S: A145 OK UNSELECT completed
      C: A146 FETCH 1 (UID)
      S: A146 BAD …
      C: A023 LOGOUT
      S: * BYE …
      S: A023 OK LOGOUT completed
      `,
      {
        deliver: async () => {
          await t.store.messages.deliver(sampleMessage("idle"), [{ accountId: t.alice.id }]);
        },
      },
    );
    const { mailboxes, messages } = t.store;
    const saved = await mailboxes.get(t.alice.id, "saved-messages");
    const [stored] = await messages.list(saved.id);
    assertEquals(stored?.flags, ["\\Seen"]);
    const bytes = await messages.read(t.alice.id, stored!.messageId);
    assertEquals(new TextDecoder().decode(bytes), MEETING.join("\r\n") + "\r\n");
  });
});

Deno.test("IMAP transcript: RFC 9051 §6.4 — FETCH, SEARCH, STORE, EXPUNGE, COPY, MOVE, UID, CLOSE", async () => {
  await withImap(async (t) => {
    // Eleven messages: 3, 4, 7 and 11 are \Deleted; the even ones \Flagged and \Seen.
    for (let i = 1; i <= 11; i++) {
      const flags = [3, 4, 7, 11].includes(i)
        ? ["\\Deleted"]
        : i % 2 === 0
        ? ["\\Flagged", "\\Seen"]
        : [];
      await t.store.messages.deliver(sampleMessage(`m${i}`), [{ accountId: t.alice.id, flags }]);
    }
    await t.store.mailboxes.create(t.alice.id, "MEETING");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: e1 ENABLE IMAP4rev2
      S: * ENABLED IMAP4rev2
      S: e1 OK ENABLE completed
      C: s1 SELECT INBOX
      S: * FLAGS …
      S: * OK [PERMANENTFLAGS …
      S: * 11 EXISTS
      S: * OK [UIDVALIDITY …
      S: * OK [UIDNEXT 12] …
      S: * OK [HIGHESTMODSEQ …
      S: * LIST () "/" INBOX
      S: s1 OK [READ-WRITE] SELECT completed
      C: A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])
      S: * 2 FETCH (FLAGS (\\Flagged \\Seen) BODY[HEADER.FIELDS (DATE FROM)] {85}
      S: From: Sender m2 <sender-m2@remote.example>
      S: Date: Fri, 27 Nov 2026 12:00:00 +0000
      S:
      S: )
      S: * 3 FETCH (FLAGS (\\Deleted \\Seen) BODY[HEADER.FIELDS (DATE FROM)] {85}
      S: From: Sender m3 <sender-m3@remote.example>
      S: Date: Fri, 27 Nov 2026 12:00:00 +0000
      S:
      S: )
      S: * 4 FETCH (FLAGS (\\Deleted \\Seen) BODY[HEADER.FIELDS (DATE FROM)] {85}
      S: From: Sender m4 <sender-m4@remote.example>
      S: Date: Fri, 27 Nov 2026 12:00:00 +0000
      S:
      S: )
      S: A654 OK FETCH completed
      C: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
      S: * ESEARCH (TAG "A282") MIN 2 COUNT 4
      S: A282 OK SEARCH completed
      C: A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
      S: * ESEARCH (TAG "A283") ALL 2,6,8,10
      S: A283 OK SEARCH completed
      C: A284 SEARCH TEXT "m5-body"
      S: * ESEARCH (TAG "A284") ALL 5
      S: A284 OK SEARCH completed
      C: A286 SEARCH TEXT "string not in mailbox"
      S: * ESEARCH (TAG "A286")
      S: A286 OK SEARCH completed
      C: A287 SEARCH CHARSET UTF-8 TEXT {7+}
      C: m9-body
      S: * ESEARCH (TAG "A287") ALL 9
      S: A287 OK SEARCH completed
      C: A288 SEARCH CHARSET KOI8-R TEXT "x"
      S: A288 NO [BADCHARSET (US-ASCII UTF-8)] …
      C: A285 UID SEARCH RETURN (COUNT) DELETED
      S: * ESEARCH (TAG "A285") UID COUNT 4
      S: A285 OK SEARCH completed
      C: A003 STORE 2 +FLAGS (\\Deleted)
      S: * 2 FETCH (FLAGS (\\Deleted \\Flagged \\Seen))
      S: A003 OK STORE completed
      C: A004 STORE 2 -FLAGS.SILENT (\\Deleted)
      S: A004 OK STORE completed
      C: A005 STORE 1 FLAGS (\\Answered $Forwarded)
      S: * 1 FETCH (FLAGS ($Forwarded \\Answered))
      S: A005 OK STORE completed
      # §6.4.3: 3, 4, 7 and 11 are gone. The example numbers them 3, 3, 5, 8 (each after
      # the ones before); highest first, as here, is the same removal.
      C: A202 EXPUNGE
      S: * 11 EXPUNGE
      S: * 7 EXPUNGE
      S: * 4 EXPUNGE
      S: * 3 EXPUNGE
      S: A202 OK EXPUNGE completed
      C: A300 COPY 2:4 MEETING
      S: A300 OK [COPYUID … 2,5:6 1:3] COPY completed
      C: A301 COPY 1 nowhere
      S: A301 NO [TRYCREATE] …
      C: a UID MOVE 8:9 Trash
      S: * OK [COPYUID … 8:9 1:2] Moved
      S: * 6 EXPUNGE
      S: * 5 EXPUNGE
      S: a OK MOVE completed
      C: A999 UID FETCH 1:* FLAGS
      S: * 1 FETCH (UID 1 FLAGS ($Forwarded \\Answered))
      S: * 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen))
      S: * 3 FETCH (UID 5 FLAGS ())
      S: * 4 FETCH (UID 6 FLAGS (\\Flagged \\Seen))
      S: * 5 FETCH (UID 10 FLAGS (\\Flagged \\Seen))
      S: A999 OK FETCH completed
      # §6.4.9: "559:*" always includes the last message, even past the highest UID.
      C: A998 UID FETCH 4827313:4828442 FLAGS
      S: A998 OK FETCH completed
      C: A997 UID FETCH 559:* (UID)
      S: * 5 FETCH (UID 10)
      S: A997 OK FETCH completed
      C: A400 STORE 3 +FLAGS.SILENT (\\Deleted)
      S: A400 OK STORE completed
      C: A341 CLOSE
      S: A341 OK CLOSE completed
      C: A342 FETCH 1 FLAGS
      S: A342 BAD …
      C: A023 LOGOUT
      S: * BYE …
      S: A023 OK LOGOUT completed
      `,
    );
    // §6.4.1: CLOSE expunged UID 5 without a word.
    const { mailboxes, messages } = t.store;
    const uids = async (name: string) =>
      (await messages.list((await mailboxes.get(t.alice.id, name)).id)).map((m) => m.uid);
    assertEquals(await uids("INBOX"), [1, 2, 6, 10]);
    assertEquals(await uids("MEETING"), [1, 2, 3]);
    assertEquals(await uids("Trash"), [1, 2]);
  });
});
