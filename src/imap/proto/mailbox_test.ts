import { assertEquals } from "../../../tests/assert.ts";
import {
  assertCommands,
  assertRefused,
  bytes,
  command,
  literal,
  refusal,
} from "./_parse_test_support.ts";

Deno.test("CREATE, with the USE parameter of SPECIAL-USE", () => {
  assertCommands([
    ["A003 CREATE owatagusiam/", { name: "CREATE", mailbox: "owatagusiam/", specialUse: [] }], // RFC 9051 §6.3.4
    ["A004 CREATE owatagusiam/blurdybloop", {
      name: "CREATE",
      mailbox: "owatagusiam/blurdybloop",
      specialUse: [],
    }],
    ['t1 CREATE "Important Messages" (USE (\\Important))', { // RFC 8457 §2.1 shape, via RFC 6154
      name: "CREATE",
      mailbox: "Important Messages",
      specialUse: ["\\Important"],
    }],
    ["t1 CREATE MySpecial (USE (\\drafts \\SENT))", {
      name: "CREATE",
      mailbox: "MySpecial",
      specialUse: ["\\Drafts", "\\Sent"],
    }],
    ["t1 CREATE x (use ())", { name: "CREATE", mailbox: "x", specialUse: [] }],
  ]);
  assertRefused([
    ["a CREATE", "Missing mailbox name"],
    ["a CREATE x ()", "The CREATE parameters is empty"],
    ["a CREATE x (FOO)", 'Unknown CREATE parameter "FOO"'],
    ["a CREATE x (USE (\\Sent) USE (\\Trash))", "USE is given twice"],
    ["a CREATE x (USE (Sent))", "starts with"],
    ["a CREATE x (USE \\Sent)", '"(" to open the special-use attributes'],
    ["a CREATE x y", 'Expected "(" to open the CREATE parameters'],
  ]);
});

Deno.test("DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, GETQUOTA, GETQUOTAROOT", () => {
  assertCommands([
    ["A682 DELETE blurdybloop", { name: "DELETE", mailbox: "blurdybloop" }], // RFC 9051 §6.3.5
    ["A683 RENAME blurdybloop sarasoop", { name: "RENAME", from: "blurdybloop", to: "sarasoop" }], // §6.3.6
    ["A685 RENAME INBOX old-mail", { name: "RENAME", from: "INBOX", to: "old-mail" }],
    ["A002 SUBSCRIBE #news.comp.mail.mime", { name: "SUBSCRIBE", mailbox: "#news.comp.mail.mime" }], // §6.3.7
    ["A002 UNSUBSCRIBE #news.comp.mail.mime", {
      name: "UNSUBSCRIBE",
      mailbox: "#news.comp.mail.mime",
    }], // §6.3.8
    ['G0001 GETQUOTA "!partition/sda4"', { name: "GETQUOTA", root: "!partition/sda4" }], // RFC 9208 §4.2.1
    ['a GETQUOTA ""', { name: "GETQUOTA", root: "" }],
    ["a GETQUOTA inbox", { name: "GETQUOTA", root: "inbox" }], // a root, not a mailbox
    ["G0002 GETQUOTAROOT INBOX", { name: "GETQUOTAROOT", mailbox: "INBOX" }], // §4.2.2
  ]);
  assertRefused([
    ["a DELETE", "Missing mailbox name"],
    ["a DELETE a b", "Unexpected"],
    ["a RENAME a", "Missing new mailbox name"],
    ["a SUBSCRIBE (a)", "Expected mailbox name"],
    ["a GETQUOTA", "Missing quota root"],
    ["a GETQUOTAROOT", "Missing mailbox name"],
  ]);
});

Deno.test("mailbox names: INBOX in any case, UTF-8, literals; odd names are the server's", () => {
  const name = (input: string) => {
    const parsed = command(input);
    if (parsed.name !== "DELETE") throw new Error(parsed.name);
    return parsed.mailbox;
  };
  const cases: [string, string][] = [
    ["a DELETE inbox", "INBOX"],
    ["a DELETE InBoX", "INBOX"],
    ['a DELETE "INBOX"', "INBOX"],
    [`a DELETE ${literal("iNbOx")}`, "INBOX"],
    ["a DELETE INBOX.Sent", "INBOX.Sent"], // only the name INBOX itself is special
    ["a DELETE inbox/sub", "inbox/sub"],
    ["a DELETE INBOXES", "INBOXES"],
    ['a DELETE "\u0131nbox"', "\u0131nbox"], // dotless i: not INBOX, though it upper-cases so
    ['a DELETE "\uff29\uff2e\uff22\uff2f\uff38"', "\uff29\uff2e\uff22\uff2f\uff38"], // fullwidth
    ['a DELETE "Entw&APw-rfe"', "Entw&APw-rfe"], // modified UTF-7 is not undone here
    ['a DELETE "Entwürfe"', "Entwürfe"],
    ["a DELETE Entwürfe", "Entwürfe"],
    [`a DELETE ${literal("日本語/台北")}`, "日本語/台北"],
    ['a DELETE "a b"', "a b"],
    ['a DELETE ""', ""],
    ["a DELETE ../../etc/passwd", "../../etc/passwd"],
    ["a DELETE foo/../bar", "foo/../bar"],
    ['a DELETE "a%b*c"', "a%b*c"], // wildcards in a quoted name
    [`a DELETE ${literal("a%*")}`, "a%*"],
    [`a DELETE ${literal("a\x01b\x7f")}`, "a\x01b\x7f"], // controls through a literal
    [`a DELETE ${literal("a\r\nb")}`, "a\r\nb"],
    ["a DELETE a]b", "a]b"],
  ];
  for (const [input, expected] of cases) assertEquals(name(input), expected, input);
  assertRefused([
    ["a DELETE a%b", "Unexpected"], // "%" is not an ASTRING-CHAR
    ["a DELETE a*b", "Unexpected"],
    ["a DELETE *", "Expected mailbox name"],
    ['a DELETE "a\x01b"', "Control character in a quoted string"],
    ['a DELETE "a\tb"', "Control character in a quoted string"],
    [`a DELETE {3}\r\na\x00b`, "NUL in a literal"],
  ]);
  assertEquals(
    refusal(bytes("a DELETE {2}\r\n", new Uint8Array([0xc3, 0x28]))).text,
    "The mailbox name is not valid UTF-8",
  );
  assertEquals(refusal(bytes('a DELETE "', new Uint8Array([0xff]), '"')).tag, "a");
});
