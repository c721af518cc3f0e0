import type { ListCommand } from "./list.ts";
import { assertCommands, assertRefused, literal } from "./_parse_test_support.ts";

const NONE = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
const NO_RETURN = { subscribed: false, children: false, specialUse: false, status: null };

function list(
  reference: string,
  patterns: string[],
  extra: Partial<ListCommand> = {},
): ListCommand {
  return {
    name: "LIST",
    extended: false,
    selection: NONE,
    reference,
    patterns,
    returns: NO_RETURN,
    ...extra,
  };
}

Deno.test("LIST: the basic form (RFC 9051 §6.3.9 examples)", () => {
  assertCommands([
    ['A101 LIST "" ""', list("", [""])],
    ['A102 LIST #news.comp.mail.misc ""', list("#news.comp.mail.misc", [""])],
    ['A103 LIST /usr/staff/jones ""', list("/usr/staff/jones", [""])],
    ["A202 LIST ~/Mail/ %", list("~/Mail/", ["%"])],
    ['a LIST "" *', list("", ["*"])],
    ['a LIST "" INBOX/%/a*b]', list("", ["INBOX/%/a*b]"])],
    [`a LIST "" ${literal("日本語/*")}`, list("", ["日本語/*"])],
    ['a LIST "" "../*"', list("", ["../*"])],
    ["a LIST inbox inbox", list("inbox", ["inbox"])], // patterns are the server's to match
  ]);
});

Deno.test("LIST-EXTENDED: selection options, pattern lists, return options", () => {
  assertCommands([
    // RFC 5258 §5 examples
    [
      'A01 LIST "" % RETURN (CHILDREN)',
      list("", ["%"], {
        extended: true,
        returns: { ...NO_RETURN, children: true },
      }),
    ],
    [
      'A02 LIST (SUBSCRIBED) "" "*"',
      list("", ["*"], {
        extended: true,
        selection: { ...NONE, subscribed: true },
      }),
    ],
    [
      'A03 LIST () "" % RETURN (CHILDREN)',
      list("", ["%"], {
        extended: true,
        returns: { ...NO_RETURN, children: true },
      }),
    ],
    [
      'A04 LIST (REMOTE) "" % RETURN (CHILDREN)',
      list("", ["%"], {
        extended: true,
        selection: { ...NONE, remote: true },
        returns: { ...NO_RETURN, children: true },
      }),
    ],
    [
      'A05 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (SUBSCRIBED)',
      list("", ["%"], {
        extended: true,
        selection: { ...NONE, subscribed: true, recursiveMatch: true },
        returns: { ...NO_RETURN, subscribed: true },
      }),
    ],
    [
      'A06 LIST "" ("INBOX" "Drafts" "Sent/%")',
      list("", ["INBOX", "Drafts", "Sent/%"], {
        extended: true,
      }),
    ],
    // RFC 5819 §5
    [
      'A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))',
      list("", ["%"], {
        extended: true,
        returns: { ...NO_RETURN, status: ["MESSAGES", "UNSEEN"] },
      }),
    ],
    // RFC 6154 §5.1
    [
      't1 LIST "" "%" RETURN (SPECIAL-USE)',
      list("", ["%"], {
        extended: true,
        returns: { ...NO_RETURN, specialUse: true },
      }),
    ],
    [
      't3 LIST (SPECIAL-USE) "" "*"',
      list("", ["*"], {
        extended: true,
        selection: { ...NONE, specialUse: true },
      }),
    ],
    [
      'a list (special-use recursivematch) "" * return (children subscribed special-use)',
      list(
        "",
        ["*"],
        {
          extended: true,
          selection: { ...NONE, specialUse: true, recursiveMatch: true },
          returns: { ...NO_RETURN, children: true, subscribed: true, specialUse: true },
        },
      ),
    ],
    ['a LIST "" % RETURN ()', list("", ["%"], { extended: true })],
  ]);
  assertRefused([
    ['a LIST ""', "Missing mailbox pattern"],
    ["a LIST", "Missing reference name"],
    ['a LIST (FOO) "" %', 'Unknown LIST selection option "FOO"'],
    ['a LIST (RECURSIVEMATCH) "" %', "RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE"],
    ['a LIST "" % RETURN (FOO)', 'Unknown or repeated LIST return option "FOO"'],
    ['a LIST "" % RETURN (STATUS (MESSAGES) STATUS (UNSEEN))', "Unknown or repeated"],
    ['a LIST "" % RETURN (STATUS ())', "The status items is empty"],
    ['a LIST "" % RETURN CHILDREN', '"(" to open the LIST return options'],
    ['a LIST "" % (CHILDREN)', "Expected RETURN"],
    ['a LIST "" % RETURNS (CHILDREN)', "Expected RETURN"],
    ['a LIST "" ()', "The mailbox patterns is empty"],
    ['a LIST "" (% (*))', "Expected mailbox pattern"],
    ['a LIST "" "a\x01"', "Control character in a quoted string"],
    ['a LIST "" a(b', "Unexpected"],
    [`a LIST "" ${"(".repeat(10_000)}`, "Expected mailbox pattern"],
  ]);
});

Deno.test("LSUB (IMAP4rev1)", () => {
  assertCommands([
    ['A002 LSUB "#news." "comp.mail.*"', {
      name: "LSUB",
      reference: "#news.",
      pattern: "comp.mail.*",
    }], // RFC 3501 §6.3.9
    ['A003 LSUB "#news." "comp.%"', { name: "LSUB", reference: "#news.", pattern: "comp.%" }],
  ]);
  assertRefused([['a LSUB ""', "Missing mailbox pattern"], [
    'a LSUB "" (%)',
    "Expected mailbox pattern",
  ]]);
});
