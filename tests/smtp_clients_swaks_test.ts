/**
 * swaks (Debian's swaks 20201014) against the server in process: plain MX, pipelining,
 * STARTTLS with AUTH PLAIN and LOGIN, implicit TLS, and a wrong password.
 *
 * swaks verifies the server certificate against the test CA (`--tls-verify --tls-ca-path`);
 * this version checks the chain, not the host name.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { assertTrace, HELO, runTool, type ToolResult } from "./smtp_clients.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** Runs swaks against 127.0.0.1:`port` with `args`; its transcript is on stdout. */
async function swaks(t: SmtpFixture, port: number, args: readonly string[]): Promise<ToolResult> {
  return await runTool("swaks", [
    "--server",
    "127.0.0.1",
    "--port",
    `${port}`,
    "--helo",
    HELO,
    "--timeout",
    "20",
    "--tls-verify",
    "--tls-ca-path",
    t.caFile,
    ...args,
  ]);
}

/** Options for a message from alice, signed in with `mechanism` and `password`. */
function asAlice(t: SmtpFixture, mechanism: string, subject: string, password = GOOD_PASSWORD) {
  return [
    "--from",
    t.alice.address,
    "--to",
    t.bob.address,
    "--auth",
    mechanism,
    "--auth-user",
    t.alice.address,
    "--auth-password",
    password,
    "--header",
    `Subject: ${subject}`,
    "--body",
    `Sent by swaks: ${subject}.`,
  ];
}

function assertSent(result: ToolResult): void {
  assertEquals(result.code, 0, `swaks failed:\n${result.stdout}\n${result.stderr}`);
  assertMatch(result.stdout, /<[-~] {2}250 2\.0\.0 OK: queued as [0-9a-z]+\n/);
}

Deno.test("swaks: plain MX, then with --pipeline", async () => {
  await withSmtp(async (t) => {
    for (const pipeline of [false, true]) {
      const result = await swaks(t, t.ports.mx, [
        "--from",
        "sender@remote.example",
        "--to",
        `${t.alice.address},${t.bob.address}`,
        "--header",
        `Subject: swaks pipeline=${pipeline}`,
        "--body",
        `Plain MX, pipeline=${pipeline}.`,
        ...(pipeline ? ["--pipeline"] : []),
      ]);
      assertSent(result);
      if (pipeline) {
        // MAIL, both RCPTs and DATA go out together; the four replies come back in order.
        assertMatch(
          result.stdout,
          / -> MAIL FROM:<sender@remote\.example>\n -> RCPT TO:<alice@example\.org>\n -> RCPT TO:<bob@example\.org>\n -> DATA\n<- {2}250 2\.1\.0 [^\n]*\n<- {2}250 2\.1\.5 [^\n]*\n<- {2}250 2\.1\.5 [^\n]*\n<- {2}354 /,
        );
      }
    }
    for (const account of [t.alice, t.bob]) {
      const stored = await t.inbox(account.id);
      assertEquals(stored.length, 2);
      for (const [i, pipeline] of [false, true].entries()) {
        const sent = assertTrace(stored[i]!, {
          sender: "sender@remote.example",
          recipient: account.address,
          helo: HELO,
          protocol: "ESMTP",
          mx: true,
          single: false,
        });
        assertStringIncludes(sent, `\r\nSubject: swaks pipeline=${pipeline}\r\n`);
        assertStringIncludes(sent, "X-Mailer: swaks");
        assertStringIncludes(sent, `\r\n\r\nPlain MX, pipeline=${pipeline}.\r\n`);
      }
    }
  });
});

Deno.test("swaks: --tls on submission with --auth PLAIN and --auth LOGIN", async () => {
  await withSmtp(async (t) => {
    for (const mechanism of ["PLAIN", "LOGIN"]) {
      const result = await swaks(t, t.ports.submission, [
        "--tls",
        ...asAlice(t, mechanism, `STARTTLS ${mechanism}`),
      ]);
      assertSent(result);
      assertStringIncludes(result.stdout, " -> STARTTLS\n<-  220 ");
      assertStringIncludes(result.stdout, `~> AUTH ${mechanism}`);
      assertStringIncludes(result.stdout, "<~  235 2.7.0 ");
    }
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored.length, 2);
    for (const [i, mechanism] of ["PLAIN", "LOGIN"].entries()) {
      const sent = assertTrace(stored[i]!, {
        sender: t.alice.address,
        recipient: t.bob.address,
        helo: HELO,
        protocol: "ESMTPSA",
        mx: false,
      });
      assertStringIncludes(sent, `\r\nSubject: STARTTLS ${mechanism}\r\n`);
      assertStringIncludes(sent, `\r\n\r\nSent by swaks: STARTTLS ${mechanism}.\r\n`);
    }
  });
});

Deno.test("swaks: --tlsc (implicit TLS) on submissions", async () => {
  await withSmtp(async (t) => {
    const result = await swaks(t, t.ports.submissions, [
      "--tlsc",
      ...asAlice(t, "PLAIN", "implicit TLS"),
    ]);
    assertSent(result);
    assert(!result.stdout.includes("STARTTLS"), result.stdout);
    assertStringIncludes(result.stdout, "<~  220 mail.example.org ESMTP");
    const [stored, ...more] = await t.inbox(t.bob.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: t.alice.address,
      recipient: t.bob.address,
      helo: HELO,
      protocol: "ESMTPSA",
      mx: false,
    });
    assertStringIncludes(sent, "\r\n\r\nSent by swaks: implicit TLS.\r\n");
  });
});

Deno.test("swaks: a wrong password fails with 535 and sends nothing", async () => {
  await withSmtp(async (t) => {
    for (const mechanism of ["PLAIN", "LOGIN"]) {
      const result = await swaks(t, t.ports.submission, [
        "--tls",
        ...asAlice(t, mechanism, "never", "not the password"),
      ]);
      assert(result.code !== 0, `swaks succeeded:\n${result.stdout}`);
      assertMatch(result.stdout, /<~\* 535 5\.7\.8 Authentication credentials invalid\n/);
      assert(!result.stdout.includes("MAIL FROM"), result.stdout);
    }
    assertEquals(await t.inbox(t.bob.id), []);
  });
});
