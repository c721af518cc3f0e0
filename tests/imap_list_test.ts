/**
 * Golden transcripts of LIST-EXTENDED (RFC 5258 §5's examples) and of the hierarchy rules of
 * RFC 9051 §6.3.4–§6.3.9, replayed against the server in process.
 *
 * Each test starts from alice's INBOX alone (the other default mailboxes are deleted first),
 * so the answers read like the RFC's. Where Fumi answers differently in a way the RFC allows,
 * the transcript says so beside the line; the differences that recur:
 * - Fumi always sends \HasChildren or \HasNoChildren (RFC 5258 §4 allows them unasked), and
 *   neither \Marked nor \NoInferiors for INBOX (INBOX may have children here).
 * - A subscription belongs to its mailbox (RFC 5258's "Fruit/Peach", subscribed but deleted,
 *   cannot occur), and a new mailbox starts subscribed; the transcripts UNSUBSCRIBE what the
 *   examples have unsubscribed.
 * - No remote mailboxes (RFC 2193): REMOTE changes nothing, so examples 4 to 6 are example 3
 *   and 2 again and only 6 is kept; Fumi has one personal namespace, no shared ones.
 *
 * @module
 */

import { DEFAULT_MAILBOXES } from "../src/store/mod.ts";
import { type ImapFixture, withImap } from "./imap.ts";
import { LOGIN, replay } from "./imap_replay.ts";

/** Leaves alice with INBOX alone, then creates `names` (a level's superiors come with it). */
async function hierarchy(t: ImapFixture, ...names: string[]): Promise<void> {
  const { mailboxes } = t.store;
  for (const { name } of DEFAULT_MAILBOXES) {
    if (name !== "INBOX") await mailboxes.remove(t.alice.id, name);
  }
  for (const name of names) {
    const levels = name.split("/");
    for (let i = 1; i <= levels.length; i++) {
      const n = levels.slice(0, i).join("/");
      if (await mailboxes.find(t.alice.id, n) === null) await mailboxes.create(t.alice.id, n);
    }
  }
}

const END = `
C: Z LOGOUT
S: * BYE …
S: Z OK LOGOUT completed`;

Deno.test("IMAP LIST transcript: RFC 5258 §5 examples 1, 2, 3 and 6 (Fruit, Tofu, Vegetable)", async () => {
  await withImap(async (t) => {
    await hierarchy(
      t,
      "Fruit/Apple",
      "Fruit/Banana",
      "Tofu",
      "Vegetable/Broccoli",
      "Vegetable/Corn",
    );
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: u1 UNSUBSCRIBE Fruit
      S: u1 OK UNSUBSCRIBE completed
      C: u2 UNSUBSCRIBE Fruit/Apple
      S: u2 OK UNSUBSCRIBE completed
      C: u3 UNSUBSCRIBE Tofu
      S: u3 OK UNSUBSCRIBE completed
      C: u4 UNSUBSCRIBE Vegetable/Corn
      S: u4 OK UNSUBSCRIBE completed
      # Example 1: the whole hierarchy.
      C: A01 LIST "" "*"
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" Fruit
      U: * LIST (\\HasNoChildren) "/" Fruit/Apple
      U: * LIST (\\HasNoChildren) "/" Fruit/Banana
      U: * LIST (\\HasNoChildren) "/" Tofu
      U: * LIST (\\HasChildren) "/" Vegetable
      U: * LIST (\\HasNoChildren) "/" Vegetable/Broccoli
      U: * LIST (\\HasNoChildren) "/" Vegetable/Corn
      S: A01 OK LIST completed
      # Example 2: the subscribed mailboxes (no Fruit/Peach: see the module doc).
      C: A02 LIST (SUBSCRIBED) "" "*"
      U: * LIST (\\HasNoChildren \\Subscribed) "/" INBOX
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana
      U: * LIST (\\HasChildren \\Subscribed) "/" Vegetable
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli
      S: A02 OK LIST completed
      # Example 3: CHILDREN.
      C: A03 LIST () "" "%" RETURN (CHILDREN)
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" Fruit
      U: * LIST (\\HasNoChildren) "/" Tofu
      U: * LIST (\\HasChildren) "/" Vegetable
      S: A03 OK LIST completed
      # Example 6 without its remote Bread and Meat: subscription state of every mailbox.
      C: A06 LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)
      U: * LIST (\\HasNoChildren \\Subscribed) "/" INBOX
      U: * LIST (\\HasChildren) "/" Fruit
      U: * LIST (\\HasNoChildren) "/" Fruit/Apple
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana
      U: * LIST (\\HasNoChildren) "/" Tofu
      U: * LIST (\\HasChildren \\Subscribed) "/" Vegetable
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli
      U: * LIST (\\HasNoChildren) "/" Vegetable/Corn
      S: A06 OK LIST completed
      # RECURSIVEMATCH over the same: Fruit is not subscribed, Fruit/Banana is and "%" hides
      # it (§3.3 rule 2B); Vegetable/Broccoli is hidden too, so subscribed Vegetable gets
      # CHILDINFO as well (§5 example 8 A1).
      C: A07 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      U: * LIST (\\HasNoChildren \\Subscribed) "/" INBOX
      U: * LIST (\\HasChildren) "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\HasChildren \\Subscribed) "/" Vegetable ("CHILDINFO" ("SUBSCRIBED"))
      S: A07 OK LIST completed
      # With "*" every subscribed mailbox is returned itself: no CHILDINFO (§3.5's SHOULD).
      C: A08 LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"
      U: * LIST (\\HasNoChildren \\Subscribed) "/" INBOX
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana
      U: * LIST (\\HasChildren \\Subscribed) "/" Vegetable
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli
      S: A08 OK LIST completed
      # §3.1: RECURSIVEMATCH alone is BAD.
      C: A09 LIST (RECURSIVEMATCH) "" "%"
      S: A09 BAD …
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: RFC 5258 §5 example 7, several patterns", async () => {
  await withImap(async (t) => {
    await hierarchy(t, "Drafts", "Sent/March2004", "Sent/December2003", "Sent/August2004");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: BBB LIST "" ("INBOX" "Drafts" "Sent/%")
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasNoChildren) "/" Drafts
      U: * LIST (\\HasNoChildren) "/" Sent/March2004
      U: * LIST (\\HasNoChildren) "/" Sent/December2003
      U: * LIST (\\HasNoChildren) "/" Sent/August2004
      S: BBB OK LIST completed
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: RFC 5258 §5 example 8, \\HasChildren against CHILDINFO", async () => {
  await withImap(async (t) => {
    await hierarchy(t, "Foo/Bar", "Foo/Baz", "Moo");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: C01 LIST "" "*"
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" Foo
      U: * LIST (\\HasNoChildren) "/" Foo/Bar
      U: * LIST (\\HasNoChildren) "/" Foo/Baz
      U: * LIST (\\HasNoChildren) "/" Moo
      S: C01 OK LIST completed
      C: CA3 LIST "" "%" RETURN (CHILDREN)
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" Foo
      U: * LIST (\\HasNoChildren) "/" Moo
      S: CA3 OK LIST completed
      # A) Foo/Baz is the only subscribed mailbox.
      C: u1 UNSUBSCRIBE INBOX
      S: u1 OK UNSUBSCRIBE completed
      C: u2 UNSUBSCRIBE Foo
      S: u2 OK UNSUBSCRIBE completed
      C: u3 UNSUBSCRIBE Foo/Bar
      S: u3 OK UNSUBSCRIBE completed
      C: u4 UNSUBSCRIBE Moo
      S: u4 OK UNSUBSCRIBE completed
      C: C02 LIST (SUBSCRIBED) "" "*"
      S: * LIST (\\HasNoChildren \\Subscribed) "/" Foo/Baz
      S: C02 OK LIST completed
      C: C03 LIST (SUBSCRIBED) "" "%"
      S: C03 OK LIST completed
      C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      S: * LIST (\\HasChildren) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
      S: C04 OK LIST completed
      # A1) Foo subscribed too: the RFC's second answer.
      C: s1 SUBSCRIBE Foo
      S: s1 OK SUBSCRIBE completed
      C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      S: * LIST (\\HasChildren \\Subscribed) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
      S: C04 OK LIST completed
      # C) Only Foo and Moo subscribed: Foo has children, none subscribed.
      C: s2 SUBSCRIBE Moo
      S: s2 OK SUBSCRIBE completed
      C: u5 UNSUBSCRIBE Foo/Baz
      S: u5 OK UNSUBSCRIBE completed
      C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)
      U: * LIST (\\HasChildren \\Subscribed) "/" Foo
      U: * LIST (\\HasNoChildren \\Subscribed) "/" Moo
      S: C04 OK LIST completed
      # B) Nothing subscribed: nothing, though Foo has children.
      C: u6 UNSUBSCRIBE Foo
      S: u6 OK UNSUBSCRIBE completed
      C: u7 UNSUBSCRIBE Moo
      S: u7 OK UNSUBSCRIBE completed
      C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      S: C04 OK LIST completed
      # A2) Foo/Baz subscribed and Foo not a mailbox at all (deleted; its children stay).
      C: s3 SUBSCRIBE Foo/Baz
      S: s3 OK SUBSCRIBE completed
      C: d1 DELETE Foo
      S: d1 OK DELETE completed
      C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"
      S: * LIST (\\NonExistent \\HasChildren) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
      S: C04 OK LIST completed
      # LSUB (RFC 3501 §6.3.9): "%" must return Foo, flagged \\Noselect, not Foo/Baz.
      C: L01 LSUB "" "%"
      S: * LSUB (\\Noselect \\HasChildren) "/" Foo
      S: L01 OK LSUB completed
      C: L02 LSUB "" "*"
      S: * LSUB (\\HasNoChildren) "/" Foo/Baz
      S: L02 OK LSUB completed
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: RFC 5258 §5 example 9, CHILDINFO whether or not children match", async () => {
  await withImap(async (t) => {
    await hierarchy(
      t,
      "foo2/bar1",
      "foo2/bar2",
      "baz2/bar2",
      "baz2/bar22",
      "baz2/bar222",
      "eps2/mamba",
      "qux2/bar2",
    );
    await t.store.mailboxes.remove(t.alice.id, "qux2");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: u1 UNSUBSCRIBE INBOX
      S: u1 OK UNSUBSCRIBE completed
      C: u2 UNSUBSCRIBE foo2
      S: u2 OK UNSUBSCRIBE completed
      C: u3 UNSUBSCRIBE baz2
      S: u3 OK UNSUBSCRIBE completed
      # qux2 is not a mailbox, so "*" does not list it (RFC 9051 §6.3.9: only "%" does).
      C: D01 LIST "" "*"
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" foo2
      U: * LIST (\\HasNoChildren) "/" foo2/bar1
      U: * LIST (\\HasNoChildren) "/" foo2/bar2
      U: * LIST (\\HasChildren) "/" baz2
      U: * LIST (\\HasNoChildren) "/" baz2/bar2
      U: * LIST (\\HasNoChildren) "/" baz2/bar22
      U: * LIST (\\HasNoChildren) "/" baz2/bar222
      U: * LIST (\\HasChildren) "/" eps2
      U: * LIST (\\HasNoChildren) "/" eps2/mamba
      U: * LIST (\\HasNoChildren) "/" qux2/bar2
      S: D01 OK LIST completed
      C: D02 LIST (SUBSCRIBED) "" "*"
      U: * LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar1
      U: * LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar2
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar2
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar22
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar222
      U: * LIST (\\HasChildren \\Subscribed) "/" eps2
      U: * LIST (\\HasNoChildren \\Subscribed) "/" eps2/mamba
      U: * LIST (\\HasNoChildren \\Subscribed) "/" qux2/bar2
      S: D02 OK LIST completed
      # baz2's subscribed children all match "*2" and are returned: no baz2 (§3.5).
      C: D03 LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"
      U: * LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar2
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar2
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar22
      U: * LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar222
      U: * LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\HasNoChildren \\Subscribed) "/" qux2/bar2
      S: D03 OK LIST completed
      C: D04 LIST (RECURSIVEMATCH SUBSCRIBED) "" "%2"
      U: * LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\HasChildren) "/" baz2 ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))
      U: * LIST (\\NonExistent \\HasChildren) "/" qux2 ("CHILDINFO" ("SUBSCRIBED"))
      S: D04 OK LIST completed
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: RFC 5258 §5 example 10, CHILDINFO with several patterns", async () => {
  await withImap(async (t) => {
    await hierarchy(t, "foo/bar");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: u1 UNSUBSCRIBE foo
      S: u1 OK UNSUBSCRIBE completed
      C: a1 LIST "" ("foo" "foo/*")
      S: * LIST (\\HasChildren) "/" foo
      S: * LIST (\\HasNoChildren) "/" foo/bar
      S: a1 OK LIST completed
      # The example's foo/bar is \\NonExistent (subscribed, deleted); here it exists.
      C: a2 LIST (SUBSCRIBED) "" "foo/*"
      S: * LIST (\\HasNoChildren \\Subscribed) "/" foo/bar
      S: a2 OK LIST completed
      C: a3 LIST (SUBSCRIBED RECURSIVEMATCH) "" foo RETURN (CHILDREN)
      S: * LIST (\\HasChildren) "/" foo ("CHILDINFO" ("SUBSCRIBED"))
      S: a3 OK LIST completed
      ${END}
      `,
    );
  });
});

Deno.test('IMAP LIST transcript: a level that is not a mailbox (RFC 9051 §6.3.9 "%", RFC 5258 §3 \\NonExistent)', async () => {
  await withImap(async (t) => {
    await hierarchy(t, "music/rock");
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      # RFC 9051 §6.3.5: DELETE of a mailbox with inferiors leaves them and the name.
      C: d1 DELETE music
      S: d1 OK DELETE completed
      C: a1 LIST "" *
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasNoChildren) "/" music/rock
      S: a1 OK LIST completed
      # A plain IMAP4rev1 LIST: \\Noselect (RFC 3501 §6.3.8).
      C: a2 LIST "" %
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\Noselect \\HasChildren) "/" music
      S: a2 OK LIST completed
      # An extended LIST: \\NonExistent, which implies \\Noselect (RFC 5258 §3).
      C: a3 LIST () "" %
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\NonExistent \\HasChildren) "/" music
      S: a3 OK LIST completed
      C: a4 LIST "" (% music/rock)
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\NonExistent \\HasChildren) "/" music
      U: * LIST (\\HasNoChildren) "/" music/rock
      S: a4 OK LIST completed
      # No subscription can make a level listed: it has none (RFC 5258 §3).
      C: a5 LIST (SUBSCRIBED) "" %
      U: * LIST (\\HasNoChildren \\Subscribed) "/" INBOX
      S: a5 OK LIST completed
      # LIST-STATUS: no STATUS for a name that is not a mailbox (RFC 5819 §2).
      C: a6 LIST "" % RETURN (STATUS (MESSAGES))
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: * STATUS INBOX (MESSAGES 0)
      S: * LIST (\\NonExistent \\HasChildren) "/" music
      S: a6 OK LIST completed
      # It is no mailbox: SELECT, STATUS and DELETE find nothing (RFC 9051 §6.3.5: deleting
      # a \\Noselect name with inferiors is an error).
      C: a7 SELECT music
      S: a7 NO [NONEXISTENT] …
      C: a8 STATUS music (MESSAGES)
      S: a8 NO [NONEXISTENT] …
      C: a9 DELETE music
      S: a9 NO [NONEXISTENT] …
      # IMAP4rev2 requires \\NonExistent even for a plain LIST (RFC 9051 §7.3.1).
      C: e1 ENABLE IMAP4rev2
      S: * ENABLED IMAP4rev2
      S: e1 OK ENABLE completed
      C: b1 LIST "" %
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\NonExistent \\HasChildren) "/" music
      S: b1 OK LIST completed
      # CREATE makes it a mailbox again, the mailbox below untouched.
      C: c1 CREATE music
      S: c1 OK CREATE completed
      C: b2 LIST "" %
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" music
      S: b2 OK LIST completed
      # The level goes with the last mailbox below it.
      C: d2 DELETE music
      S: d2 OK DELETE completed
      C: d3 DELETE music/rock
      S: d3 OK DELETE completed
      C: b3 LIST "" *
      S: * LIST (\\HasNoChildren) "/" INBOX
      S: b3 OK LIST completed
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: CREATE and RENAME create superior names (RFC 9051 §6.3.4, §6.3.6)", async () => {
  await withImap(async (t) => {
    await hierarchy(t);
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: c1 CREATE a/b/c
      S: c1 OK CREATE completed
      C: l1 LIST "" *
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" a
      U: * LIST (\\HasChildren) "/" a/b
      U: * LIST (\\HasNoChildren) "/" a/b/c
      S: l1 OK LIST completed
      C: s1 STATUS a/b (MESSAGES)
      S: * STATUS a/b (MESSAGES 0)
      S: s1 OK STATUS completed
      # The inferiors move with the name; the new superiors are mailboxes.
      C: r1 RENAME a x/y
      S: r1 OK RENAME completed
      C: l2 LIST "" *
      U: * LIST (\\HasNoChildren) "/" INBOX
      U: * LIST (\\HasChildren) "/" x
      U: * LIST (\\HasChildren) "/" x/y
      U: * LIST (\\HasChildren) "/" x/y/b
      U: * LIST (\\HasNoChildren) "/" x/y/b/c
      S: l2 OK LIST completed
      # Not below itself.
      C: r2 RENAME x/y x/y/z
      S: r2 NO [CANNOT] …
      ${END}
      `,
    );
  });
});

Deno.test("IMAP LIST transcript: SPECIAL-USE with RECURSIVEMATCH (RFC 6154 §3, RFC 5258 §3.5)", async () => {
  await withImap(async (t) => {
    await replay(
      t,
      "imaps",
      `
      S: * OK …
      ${LOGIN}
      C: r1 RENAME Sent Old/Sent
      S: r1 OK RENAME completed
      C: l1 LIST (SPECIAL-USE) "" %
      U: * LIST (\\HasNoChildren \\Archive) "/" Archive
      U: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      U: * LIST (\\HasNoChildren \\Junk) "/" Junk
      U: * LIST (\\HasNoChildren \\Trash) "/" Trash
      S: l1 OK LIST completed
      C: l2 LIST (SPECIAL-USE RECURSIVEMATCH) "" %
      U: * LIST (\\HasNoChildren \\Archive) "/" Archive
      U: * LIST (\\HasNoChildren \\Drafts) "/" Drafts
      U: * LIST (\\HasNoChildren \\Junk) "/" Junk
      U: * LIST (\\HasChildren) "/" Old ("CHILDINFO" ("SPECIAL-USE"))
      U: * LIST (\\HasNoChildren \\Trash) "/" Trash
      S: l2 OK LIST completed
      ${END}
      `,
    );
  });
});
