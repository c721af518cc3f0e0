import { assertCommands, assertRefused } from "./_parse_test_support.ts";

Deno.test("STATUS: mailbox and status items", () => {
  assertCommands([
    ["A042 STATUS blurdybloop (UIDNEXT MESSAGES)", { // RFC 9051 §6.3.11
      name: "STATUS",
      mailbox: "blurdybloop",
      items: ["UIDNEXT", "MESSAGES"],
    }],
    [
      "a status inbox (messages uidnext uidvalidity unseen deleted size recent highestmodseq appendlimit)",
      {
        name: "STATUS",
        mailbox: "INBOX",
        items: [
          "MESSAGES",
          "UIDNEXT",
          "UIDVALIDITY",
          "UNSEEN",
          "DELETED",
          "SIZE",
          "RECENT",
          "HIGHESTMODSEQ",
          "APPENDLIMIT",
        ],
      },
    ],
    ["a STATUS x (UNSEEN UNSEEN SIZE)", {
      name: "STATUS",
      mailbox: "x",
      items: ["UNSEEN", "SIZE"],
    }],
  ]);
  assertRefused([
    ["a STATUS x", "Missing status items"],
    ["a STATUS x ()", "The status items is empty"],
    ["a STATUS x (FOO)", 'Unknown status item "FOO"'],
    ["a STATUS x MESSAGES", '"(" to open the status items'],
    ["a STATUS x (MESSAGES", '")" to close the status items'],
    ["a STATUS x ((MESSAGES))", "Expected status item"],
    ["a STATUS (MESSAGES)", "Expected mailbox name"],
  ]);
});
