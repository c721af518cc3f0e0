/**
 * Golden transcripts: whole SMTP sessions, line by line, against the server in process.
 */

import { assertEquals, assertStringIncludes } from "./assert.ts";
import { replay, withSmtp } from "./smtp.ts";

Deno.test("MX: a message to a local user, pipelined, is stored with trace fields", async () => {
  await withSmtp(async (t) => {
    await replay(
      t.ports.mx,
      `
      S: 220 mail.example.org ESMTP
      C: EHLO client.example
      S: 250-mail.example.org Hello client.example
      S: 250-PIPELINING
      S: 250-SIZE 26214400
      S: 250-8BITMIME
      S: 250-SMTPUTF8
      S: 250-ENHANCEDSTATUSCODES
      S: 250-CHUNKING
      S: 250-DSN
      S: 250 STARTTLS
      C: MAIL FROM:<sender@remote.example>
      S: 250 2.1.0
      C: RCPT TO:<alice@example.org>
      S: 250 2.1.5
      C: DATA
      S: 354
      C: From: sender@remote.example
      C: Subject: hello
      C:
      C: ..a line that was dot-stuffed
      C: .
      S: 250 2.0.0 OK: queued as
      C: QUIT
      S: 221 2.0.0
      CLOSED
      `,
    );
    const [message] = await t.inbox(t.alice.id);
    assertStringIncludes(message!, "Return-Path: <sender@remote.example>\r\n");
    assertStringIncludes(message!, "Delivered-To: alice@example.org\r\n");
    assertStringIncludes(message!, "Received: from client.example");
    assertStringIncludes(message!, "Authentication-Results: mail.example.org; none");
    assertStringIncludes(message!, "\r\n\r\n.a line that was dot-stuffed\r\n");
    assertEquals(message!.endsWith(".a line that was dot-stuffed\r\n"), true);
  });
});

Deno.test("MX: refusals in one session — relay, unknown user, VRFY, EXPN, bad sequence", async () => {
  await withSmtp(async (t) => {
    await replay(
      t.ports.mx,
      `
      S: 220 mail.example.org ESMTP
      C: MAIL FROM:<sender@remote.example>
      S: 503 5.5.1 Send HELO or EHLO first
      C: HELO client.example
      S: 250 mail.example.org Hello client.example
      C: RCPT TO:<alice@example.org>
      S: 503 5.5.1 Bad sequence of commands
      C: VRFY alice
      S: 252 2.5.0
      C: VRFY nobody
      S: 252 2.5.0
      C: EXPN staff
      S: 502 5.5.1
      C: MAIL FROM:<sender@remote.example>
      S: 250 2.1.0
      C: RCPT TO:<someone@remote.example>
      S: 554 5.7.1 Relay access denied
      C: RCPT TO:<nobody@example.org>
      S: 550 5.1.1 No such user here
      C: DATA
      S: 554 5.5.1 No valid recipients
      C: RSET
      S: 250 2.0.0
      C: FOO
      S: 500 5.5.2
      C: QUIT
      S: 221 2.0.0
      CLOSED
      `,
    );
    assertEquals(await t.inbox(t.alice.id), []);
    assertEquals(await t.store.queue.list(), []);
  });
});

Deno.test("MX: CHUNKING — BDAT chunks with a pipelined LAST", async () => {
  await withSmtp(async (t) => {
    const first = "From: sender@remote.example\r\nSubject: chunks\r\n\r\n";
    const second = "one line\r\n";
    await replay(
      t.ports.mx,
      `
      S: 220 mail.example.org ESMTP
      C: EHLO client.example
      S: 250-mail.example.org
      S: 250-PIPELINING
      S: 250-SIZE
      S: 250-8BITMIME
      S: 250-SMTPUTF8
      S: 250-ENHANCEDSTATUSCODES
      S: 250-CHUNKING
      S: 250-DSN
      S: 250 STARTTLS
      C: MAIL FROM:<sender@remote.example> BODY=8BITMIME
      S: 250 2.1.0
      C: RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.org
      S: 250 2.1.5
      C: BDAT ${new TextEncoder().encode(first).length}
      S: 250 2.0.0 ${new TextEncoder().encode(first).length} octets received
      C: BDAT ${second.length} LAST
      S: 250 2.0.0 OK: queued as
      C: QUIT
      S: 221 2.0.0
      CLOSED
      `,
      {
        [`BDAT ${new TextEncoder().encode(first).length}`]: first,
        [`BDAT ${second.length} LAST`]: second,
      },
    );
    const [message] = await t.inbox(t.alice.id);
    assertEquals(message!.endsWith(first + second), true);
  });
});
