import { assertEquals } from "../../tests/assert.ts";
import { parseHeader } from "../mime/mod.ts";
import { type AuthorDomains, authorDomains } from "./author.ts";

const encoder = new TextEncoder();
const authors = (header: string): AuthorDomains =>
  authorDomains(parseHeader(encoder.encode(`${header}\r\nSubject: x\r\n\r\nbody\r\n`)));
const ok = (...domains: string[]): AuthorDomains => ({ kind: "ok", domains });
/** The domains in any order. */
const sorted = (result: AuthorDomains) =>
  result.kind === "ok" ? [...result.domains].sort() : result;

Deno.test("Author Domains: a plain From, in any of its forms", () => {
  assertEquals(authors("From: alice@Sender.Example"), ok("sender.example"));
  assertEquals(authors("From: Alice <alice@sender.example>"), ok("sender.example"));
  assertEquals(authors('From: "Doe, Alice" <alice@sender.example> (work)'), ok("sender.example"));
  // Two mailboxes of one domain: one Author Domain (RFC 7489 §6.6.1).
  assertEquals(authors("From: a@sender.example, b@sender.example"), ok("sender.example"));
  // A display name that repeats the address is no second domain.
  assertEquals(
    authors('From: "alice@sender.example" <alice@sender.example>'),
    ok("sender.example"),
  );
  // IDNA: the A-label is what DNS is asked for.
  assertEquals(authors("From: a@Bücher.example"), ok("xn--bcher-kva.example"));
  assertEquals(authors("From: a@sender.example."), ok("sender.example"));
});

Deno.test("Author Domains: several From fields or no usable mailbox are permanent errors", () => {
  const error = (reason: string): AuthorDomains => ({ kind: "permerror", reason });
  assertEquals(authors("To: b@example.org"), error("no From field"));
  // RFC 5322 §3.6: one From field; a reader may show either.
  assertEquals(authors("From: a@bank.example\r\nFrom: a@evil.example"), error("2 From fields"));
  assertEquals(authors("From: undisclosed:;"), error("From field without a mailbox"));
  assertEquals(authors("From: Alice"), error("From mailbox without a domain"));
  assertEquals(authors("From: "), error("From field without a mailbox"));
  assertEquals(authors("From: a@[192.0.2.1]"), {
    kind: "permerror",
    reason: 'From domain "[192.0.2.1]" is not a host name',
  });
  assertEquals(
    authors("From: a@a.example, b@b.example, c@c.example, d@d.example, e@e.example, f@f.example"),
    error("6 domains in the From field"),
  );
});

Deno.test("Author Domains: every domain a reader might show must pass (Composition Kills)", () => {
  // Several mailboxes of several domains: each is evaluated (RFC 7489 §6.6.1).
  assertEquals(
    authors("From: ceo@bank.example, x@evil.example"),
    ok("bank.example", "evil.example"),
  );
  // The display name claims a domain the mailbox does not have.
  assertEquals(
    authors('From: "ceo@bank.example" <x@evil.example>'),
    ok("evil.example", "bank.example"),
  );
  // ... unquoted, or in a comment, or encoded (RFC 2047) so that only a decoding reader sees it.
  assertEquals(
    sorted(authors("From: ceo@bank.example <x@evil.example>")),
    ["bank.example", "evil.example"],
  );
  assertEquals(
    authors("From: x@evil.example (ceo@bank.example)"),
    ok("evil.example", "bank.example"),
  );
  assertEquals(
    authors("From: =?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ==?= <x@evil.example>"),
    ok("evil.example", "bank.example"),
  );
  // Text after the angle address that a lenient parser would take for the mailbox.
  assertEquals(
    sorted(authors("From: <x@evil.example>ceo@bank.example")),
    ["bank.example", "evil.example"],
  );
});
