import { assertCommands, assertRefused, literal, set } from "./_parse_test_support.ts";

const plain = (name: "SELECT" | "EXAMINE", mailbox: string) =>
  ({ name, mailbox, condstore: false, qresync: null }) as const;

Deno.test("SELECT and EXAMINE, with CONDSTORE and QRESYNC", () => {
  assertCommands([
    ["A142 SELECT INBOX", plain("SELECT", "INBOX")], // RFC 9051 §6.3.2
    ["A932 EXAMINE blurdybloop", plain("EXAMINE", "blurdybloop")], // RFC 9051 §6.3.3
    ['a select "inbox"', plain("SELECT", "INBOX")],
    [`a SELECT ${literal("Отправленные")}`, plain("SELECT", "Отправленные")],
    // RFC 7162 §3.1.8
    ["a SELECT INBOX (CONDSTORE)", { ...plain("SELECT", "INBOX"), condstore: true }],
    // RFC 7162 §3.2.5.2
    ["A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))", {
      ...plain("SELECT", "INBOX"),
      qresync: {
        uidValidity: 67890007,
        modseq: 20050715194045000n,
        knownUids: set(41, [43, 211], [214, 541]),
        sequenceMatch: null,
      },
    }],
    [
      "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 " +
      "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))",
      {
        ...plain("SELECT", "INBOX"),
        qresync: {
          uidValidity: 67890007,
          modseq: 90060115194045000n,
          knownUids: set([1, 29997]),
          sequenceMatch: {
            sequences: set(5000, 7500, 9000, [9990, 9999]),
            uids: set(
              15000,
              22500,
              27000,
              29970,
              29973,
              29976,
              29979,
              29982,
              29985,
              29988,
              29991,
              29994,
              29997,
            ),
          },
        },
      },
    ],
    ["a EXAMINE x (QRESYNC (1 1) CONDSTORE)", {
      ...plain("EXAMINE", "x"),
      condstore: true,
      qresync: { uidValidity: 1, modseq: 1n, knownUids: null, sequenceMatch: null },
    }],
    ["a SELECT x (QRESYNC (1 9223372036854775807 (1:2 3:4)))", {
      ...plain("SELECT", "x"),
      qresync: {
        uidValidity: 1,
        modseq: 9223372036854775807n,
        knownUids: null,
        sequenceMatch: { sequences: set([1, 2]), uids: set([3, 4]) },
      },
    }],
  ]);
  assertRefused([
    ["a SELECT", "Missing mailbox name"],
    ["a SELECT x ()", "The SELECT parameters is empty"],
    ["a SELECT x (FOO)", "Unknown or repeated SELECT parameter"],
    ["a SELECT x (CONDSTORE CONDSTORE)", "Unknown or repeated SELECT parameter"],
    ["a SELECT x CONDSTORE", '"(" to open the SELECT parameters'],
    ["a SELECT x (QRESYNC)", "Expected one space before the QRESYNC parameters"],
    ["a SELECT x (QRESYNC ())", "Expected UIDVALIDITY as a number"],
    ["a SELECT x (QRESYNC (0 1))", "UIDVALIDITY above zero"],
    ["a SELECT x (QRESYNC (1 0))", "mod-sequence above zero"],
    ["a SELECT x (QRESYNC (1 9223372036854775808))", "too large"],
    ["a SELECT x (QRESYNC (4294967296 1))", "too large"],
    ["a SELECT x (QRESYNC (1 1 1:*))", 'may not use "*" or "$"'], // RFC 7162 §7
    ["a SELECT x (QRESYNC (1 1 $))", 'may not use "*" or "$"'],
    ["a SELECT x (QRESYNC (1 1 (1:* 2)))", 'may not use "*"'],
    ["a SELECT x (QRESYNC (1 1 1:5(1 2)))", '")" to close the QRESYNC parameters'],
    ["a SELECT x (QRESYNC (1 1 1:5 2))", "sequence match data"],
    ["a SELECT x (QRESYNC (1 1 (1)))", "space before the known UID set"],
    ["a SELECT x (QRESYNC (1 1 1:0))", "Invalid known UIDs"],
    ["a SELECT x (QRESYNC (1 1) QRESYNC (1 1))", "Unknown or repeated"],
    ["a SELECT x (QRESYNC (1 1)", '")" to close the SELECT parameters'],
    [`a SELECT x (${"(".repeat(10_000)}`, "Expected SELECT parameter"],
  ]);
});
