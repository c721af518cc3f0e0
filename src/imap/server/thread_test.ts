import { assertEquals } from "../../../tests/assert.ts";
import { describe } from "../../store/messages.ts";
import {
  messageIds,
  type ThreadItem,
  threadOrderedSubject,
  threadReferences,
  threadResponse,
} from "./thread.ts";

interface Spec {
  readonly seq: number;
  readonly subject: string;
  /** Day of November 2026, hour. */
  readonly date: [number, number];
  readonly id?: string;
  readonly inReplyTo?: string;
  readonly references?: string;
}

function items(specs: readonly Spec[]): ThreadItem[] {
  return specs.map((s) => {
    const head = [
      `Subject: ${s.subject}`,
      `Date: ${s.date[0]} Nov 2026 ${String(s.date[1]).padStart(2, "0")}:00:00 +0000`,
      ...(s.id === undefined ? [] : [`Message-ID: <${s.id}>`]),
      ...(s.inReplyTo === undefined ? [] : [`In-Reply-To: ${s.inReplyTo}`]),
      "",
      "",
    ].join("\r\n");
    return {
      seq: s.seq,
      info: {
        uid: s.seq + 100,
        messageId: s.seq,
        flags: [],
        modseq: 1,
        size: 10,
        internalDate: new Date("2026-12-01T00:00:00Z"),
      },
      cache: describe(new TextEncoder().encode(head)),
      references: s.references ?? null,
    };
  });
}

const seq = (m: ThreadItem) => m.seq;

Deno.test("messageIds: IDs in order, folding whitespace removed, junk ignored", () => {
  assertEquals(messageIds("<a@x> junk <b@\r\n y>  <c@z>"), ["a@x", "b@y", "c@z"]);
  assertEquals(messageIds("no ids"), []);
  assertEquals(messageIds(null), []);
});

Deno.test("threadResponse: chains, nested siblings, dummy roots (RFC 5256 §4)", () => {
  const leaf = (id: number) => ({ id, children: [] });
  assertEquals(threadResponse([]), "* THREAD\r\n");
  assertEquals(
    threadResponse([
      { id: 2, children: [] },
      { id: 3, children: [{ id: 6, children: [leaf(4), { id: 44, children: [leaf(7)] }] }] },
      { id: null, children: [leaf(5), { id: 8, children: [leaf(9), leaf(10)] }] },
    ]),
    "* THREAD (2)(3 6 (4)(44 7))((5)(8 (9)(10)))\r\n",
  );
});

Deno.test("THREAD=ORDEREDSUBJECT: groups by base subject, parent first, by sent date", () => {
  const list = items([
    { seq: 1, subject: "Re: lunch", date: [3, 10] },
    { seq: 2, subject: "Dinner", date: [1, 10] },
    { seq: 3, subject: "lunch", date: [2, 10] },
    { seq: 4, subject: "[team] LUNCH (fwd)", date: [4, 10] },
    { seq: 5, subject: "Re: Dinner", date: [5, 10] },
    { seq: 6, subject: "Other", date: [2, 10] }, // same date as 3: mailbox order
  ]);
  assertEquals(
    threadResponse(threadOrderedSubject(list, seq)),
    "* THREAD (2 5)(3 (1)(4))(6)\r\n",
  );
  assertEquals(
    threadResponse(threadOrderedSubject(list, (m) => m.info.uid)),
    "* THREAD (102 105)(103 (101)(104))(106)\r\n",
  );
});

Deno.test("THREAD=REFERENCES: parents, missing parents, In-Reply-To, subjects merged", () => {
  const list = items([
    { seq: 1, subject: "Plan", date: [1, 9], id: "a@x" },
    { seq: 2, subject: "Re: Plan", date: [1, 10], id: "b@x", references: "<a@x>" },
    // Its parent c@x is missing: a dummy under b, pruned, so it hangs under b.
    { seq: 3, subject: "Re: Plan", date: [1, 12], id: "d@x", references: "<a@x> <b@x> <c@x>" },
    { seq: 4, subject: "Re: Plan", date: [1, 11], id: "e@x", inReplyTo: "<a@x> <zz@x>" },
    // Two replies to a message we do not have: a dummy root with two children.
    { seq: 5, subject: "Re: Trip", date: [2, 9], id: "f@x", references: "<gone@x>" },
    { seq: 6, subject: "Re: Trip", date: [2, 8], id: "g@x", references: "<gone@x>" },
    // No references, but the same base subject as a root: gathered under "Plan".
    { seq: 7, subject: "Re: Plan", date: [3, 9], id: "h@x" },
    // A duplicate Message-ID gets a container of its own.
    { seq: 8, subject: "Solo", date: [1, 1], id: "a@x" },
    // Loops are not followed: i refers to itself.
    { seq: 9, subject: "Loop", date: [4, 9], id: "i@x", references: "<i@x>" },
  ]);
  assertEquals(
    threadResponse(threadReferences(list, seq)),
    "* THREAD (8)(1 (2 3)(4)(7))((6)(5))(9)\r\n",
  );
});

Deno.test("THREAD=REFERENCES: two root messages with one subject under a dummy; order independent", () => {
  const specs: Spec[] = [
    { seq: 1, subject: "Hi", date: [1, 9], id: "a@x" },
    { seq: 2, subject: "Hi", date: [1, 10], id: "b@x" },
    { seq: 3, subject: "Re: Hi", date: [1, 11], id: "c@x", references: "<a@x> <b@x>" },
  ];
  // 3's References say a → b → c: b is a's child, so there is one root.
  assertEquals(threadResponse(threadReferences(items(specs), seq)), "* THREAD (1 2 3)\r\n");
  assertEquals(
    threadResponse(threadReferences(items([...specs].reverse()), seq)),
    "* THREAD (1 2 3)\r\n",
  );
  const two: Spec[] = [
    { seq: 1, subject: "Hi", date: [1, 9], id: "a@x" },
    { seq: 2, subject: "Hi", date: [1, 10], id: "b@x" },
  ];
  assertEquals(threadResponse(threadReferences(items(two), seq)), "* THREAD ((1)(2))\r\n");
});

Deno.test("THREAD=REFERENCES: a chain of 10,000 messages needs no recursion", () => {
  const specs: Spec[] = [];
  for (let i = 1; i <= 10_000; i++) {
    specs.push({
      seq: i,
      subject: "Re: long",
      date: [1, 0],
      id: `m${i}@x`,
      ...(i > 1 ? { references: `<m${i - 1}@x>` } : {}),
    });
  }
  const response = threadResponse(threadReferences(items(specs), seq));
  assertEquals(response.slice(0, 18), "* THREAD (1 2 3 4 ");
  assertEquals(response.endsWith(" 9999 10000)\r\n"), true);
});
