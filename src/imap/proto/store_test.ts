import type { StoreCommand } from "./store.ts";
import { assertCommands, assertRefused, literal, set } from "./_parse_test_support.ts";

function store(extra: Partial<StoreCommand>): StoreCommand {
  return {
    name: "STORE",
    uid: false,
    set: set(1),
    unchangedSince: null,
    operation: "replace",
    silent: false,
    flags: [],
    ...extra,
  };
}

Deno.test("STORE: FLAGS, +FLAGS, -FLAGS, .SILENT, UNCHANGEDSINCE", () => {
  assertCommands([
    [
      "A003 STORE 2:4 +FLAGS (\\Deleted)",
      store({ set: set([2, 4]), operation: "add", flags: ["\\Deleted"] }),
    ], // RFC 9051 §6.4.6
    // RFC 7162 §3.1.3
    [
      "d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)",
      store({
        set: set(7, 5, 9),
        unchangedSince: 320162338n,
        operation: "add",
        silent: true,
        flags: ["\\Deleted"],
      }),
    ],
    ["a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()", store({ unchangedSince: 0n })], // valzer
    ["a STORE 1 FLAGS \\Seen", store({ flags: ["\\Seen"] })], // without parentheses
    [
      "a STORE 1 -flags.silent \\seen $Junk",
      store({ operation: "remove", silent: true, flags: ["\\Seen", "$Junk"] }),
    ],
    [
      "a UID STORE 1:* flags.SILENT ($a $b)",
      store({ uid: true, set: set([1, "*"]), silent: true, flags: ["$a", "$b"] }),
    ],
    [
      "a STORE $ +FLAGS (\\Flagged)",
      store({ set: { kind: "saved" }, operation: "add", flags: ["\\Flagged"] }),
    ],
  ]);
  assertRefused([
    ["a STORE", "Missing sequence set"],
    ["a STORE 1", "Missing flags to store"],
    ["a STORE 1 FLAGS", "Missing flags"],
    ["a STORE 0 FLAGS ()", 'Invalid sequence set "0"'],
    ["a STORE 1 XFLAGS ()", "Expected FLAGS, +FLAGS or -FLAGS"],
    ["a STORE 1 +FLAGS.LOUD ()", "Expected FLAGS, +FLAGS or -FLAGS"],
    ["a STORE 1 ++FLAGS ()", "Expected FLAGS, +FLAGS or -FLAGS"],
    ["a STORE 1 (UNCHANGEDSINCE 1)", "Missing flags to store"],
    ["a STORE 1 (UNCHANGEDSINCE x) FLAGS ()", "mod-sequence as a number"],
    [
      "a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()",
      "Unknown or repeated STORE modifier",
    ],
    ["a STORE 1 (FOO 1) FLAGS ()", "Unknown or repeated STORE modifier"],
    ["a STORE 1 () FLAGS ()", "The STORE modifiers is empty"],
    ["a STORE 1 FLAGS (\\Seen) \\Draft", "Unexpected"],
    ['a STORE 1 FLAGS "\\\\Seen"', "Expected flag"],
    [`a STORE 1 FLAGS ${"(".repeat(10_000)}`, "Expected flag"],
  ]);
});

Deno.test("COPY, MOVE and their UID forms", () => {
  assertCommands([
    ["A003 COPY 2:4 MEETING", { name: "COPY", uid: false, set: set([2, 4]), mailbox: "MEETING" }], // RFC 9051 §6.4.7
    ["a UID MOVE 42:69 foo", { name: "MOVE", uid: true, set: set([42, 69]), mailbox: "foo" }], // RFC 6851 §4.4
    ["a uid copy 1,3 inbox", { name: "COPY", uid: true, set: set(1, 3), mailbox: "INBOX" }],
    [`a MOVE * ${literal("Papierkorb/Gelöscht")}`, {
      name: "MOVE",
      uid: false,
      set: set("*"),
      mailbox: "Papierkorb/Gelöscht",
    }],
    ["a COPY $ Archive", { name: "COPY", uid: false, set: { kind: "saved" }, mailbox: "Archive" }],
  ]);
  assertRefused([
    ["a COPY 2:4", "Missing mailbox name"],
    ["a COPY MEETING", 'Invalid sequence set "MEETING"'],
    ["a MOVE 1: x", 'Invalid sequence set "1:"'],
    ["a MOVE 1 x y", "Unexpected"],
  ]);
});

Deno.test("EXPUNGE and UID EXPUNGE", () => {
  assertCommands([
    ["A202 EXPUNGE", { name: "EXPUNGE", uid: false, uids: null }], // RFC 9051 §6.4.3
    ["A003 UID EXPUNGE 3000:3002", { name: "EXPUNGE", uid: true, uids: set([3000, 3002]) }], // RFC 4315 §2.1
    ["a UID EXPUNGE $", { name: "EXPUNGE", uid: true, uids: { kind: "saved" } }],
  ]);
  assertRefused([
    ["a EXPUNGE 1", "Unexpected"],
    ["a UID EXPUNGE", "Missing UID set"],
    ["a UID EXPUNGE 1,", 'Invalid UID set "1,"'],
  ]);
});
