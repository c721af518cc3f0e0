import { assert, assertEquals } from "../../tests/assert.ts";
import { parseHeader } from "../mime/mod.ts";
import { type AuthorDomains, authorDomains } from "./author.ts";

const encoder = new TextEncoder();
const authors = (header: string): AuthorDomains =>
  authorDomains(parseHeader(encoder.encode(`${header}\r\nSubject: x\r\n\r\nbody\r\n`)));
/** The mailboxes' domains, and those only shown (display names, comments). */
const ok = (domains: string[], displayed: string[] = []): AuthorDomains => ({
  kind: "ok",
  domains,
  displayed,
});

Deno.test("Author Domains: a plain From, in any of its forms", () => {
  assertEquals(authors("From: alice@Sender.Example"), ok(["sender.example"]));
  assertEquals(authors("From: Alice <alice@sender.example>"), ok(["sender.example"]));
  assertEquals(authors('From: "Doe, Alice" <alice@sender.example> (work)'), ok(["sender.example"]));
  // Two mailboxes of one domain: one Author Domain (RFC 7489 §6.6.1).
  assertEquals(authors("From: a@sender.example, b@sender.example"), ok(["sender.example"]));
  // A display name that repeats the address is no second domain.
  assertEquals(
    authors('From: "alice@sender.example" <alice@sender.example>'),
    ok(["sender.example"]),
  );
  // IDNA: the A-label is what DNS is asked for.
  assertEquals(authors("From: a@Bücher.example"), ok(["xn--bcher-kva.example"]));
  assertEquals(authors("From: a@sender.example."), ok(["sender.example"]));
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
    error("more than 5 domains in the From field"),
  );
});

Deno.test("Author Domains: every domain a reader might show is evaluated (Composition Kills)", () => {
  // Several mailboxes of several domains: each is an Author Domain (RFC 7489 §6.6.1).
  assertEquals(
    authors("From: ceo@bank.example, x@evil.example"),
    ok(["bank.example", "evil.example"]),
  );
  // The display name claims a domain the mailbox does not have: shown, not the author's
  // (RFC 7489 §3.1: the Author Domain is the addr-spec's).
  assertEquals(
    authors('From: "ceo@bank.example" <x@evil.example>'),
    ok(["evil.example"], ["bank.example"]),
  );
  // Unquoted (no valid syntax): our parser takes the first address for the mailbox, and the
  // other is shown; either way both are evaluated.
  assertEquals(
    authors("From: ceo@bank.example <x@evil.example>"),
    ok(["bank.example"], ["evil.example"]),
  );
  // ... in a comment, or encoded (RFC 2047) so that only a decoding reader sees it.
  assertEquals(
    authors("From: x@evil.example (ceo@bank.example)"),
    ok(["evil.example"], ["bank.example"]),
  );
  assertEquals(
    authors("From: =?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ==?= <x@evil.example>"),
    ok(["evil.example"], ["bank.example"]),
  );
  // Text after the angle address that a lenient parser would take for the mailbox.
  assertEquals(
    authors("From: <x@evil.example>ceo@bank.example"),
    ok(["evil.example"], ["bank.example"]),
  );
});

Deno.test("Author Domains: a display name cannot hide a domain behind characters a reader does not show", () => {
  const shown = ok(["evil.example"], ["bank.example"]);
  for (
    const name of [
      '"ceo@bank.example\u202e"', // right-to-left override after the domain
      '"ceo@bank\u200d.example"', // zero-width joiner inside it
      '"ceo@bank.example!"',
      '"ceo@bank.example_x"',
      '"ceo@.bank.example"',
      '"ceo\uff20bank.example"', // fullwidth commercial at
      '"ceo@bank\uff0eexample"', // fullwidth full stop
      '"ceo@\u0062ank.example\u00ad"', // soft hyphen
    ]
  ) {
    const from = JSON.parse(`"From: ${name.replaceAll('"', '\\"')} <x@evil.example>"`);
    assertEquals(authors(from), shown, from);
  }
  // A quoted-pair in a comment: a reader shows ceo@bank.example.
  assertEquals(authors("From: x@evil.example (ceo\\@bank.example)"), shown);
});

Deno.test("Author Domains: a From field of 60,000 mailboxes is answered at once", () => {
  const timed = (header: string) => {
    const started = performance.now();
    const result = authors(header);
    const ms = performance.now() - started;
    assert(ms < 1_000, `${ms} ms for ${header.length} characters`);
    return result;
  };
  // Distinct domains: the cap is found at the sixth, not after reading them all.
  const many = Array.from({ length: 999 }, (_, i) => `u${i}@d${i}.example`).join(", ");
  const capped: AuthorDomains = {
    kind: "permerror",
    reason: "more than 5 domains in the From field",
  };
  assertEquals(timed(`From: ${many}`), capped);
  const names = Array.from({ length: 60_000 }, (_, i) => `u${i}@d${i}.example`).join(" ");
  assertEquals(timed(`From: "${names}" <x@evil.example>`), capped);
  // One domain many times: more mailboxes than the parser keeps is an error of its own (a
  // mailbox after them would go unevaluated).
  const same = Array.from({ length: 60_000 }, (_, i) => `u${i}@bank.example`).join(", ");
  assertEquals(timed(`From: ${same}`), {
    kind: "permerror",
    reason: "too many addresses in the From field",
  });
  // One mailbox whose display name names a domain 60,000 times.
  const name = Array.from({ length: 60_000 }, (_, i) => `u${i}@bank.example`).join(" ");
  assertEquals(timed(`From: "${name}" <x@evil.example>`), ok(["evil.example"], ["bank.example"]));
});

Deno.test("Author Domains: a header longer than the parser keeps may hide a second From field", () => {
  const filler = Array.from({ length: 1_000 }, (_, i) => `X-Filler-${i}: x`).join("\r\n");
  assertEquals(authors(`From: a@bank.example\r\n${filler}\r\nFrom: b@evil.example`), {
    kind: "permerror",
    reason: "too many header fields to find the From field",
  });
});
