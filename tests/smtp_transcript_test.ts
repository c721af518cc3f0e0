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
