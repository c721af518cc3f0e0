/**
 * Every command in every state (shared/STYLE.md habit 6), against the server in process: for
 * each (state, command) the exact reply, and where the session stands afterwards. Expected
 * values follow RFC 5321 §4.1.4 (sequencing; NOOP, HELP, EXPN, VRFY and RSET at any time;
 * HELO/EHLO reset the transaction), §3.3 (DATA without recipients: 503 or 554), RFC 3030 §2-3
 * (BDAT; no DATA, MAIL or RCPT inside a BDAT sequence), RFC 3207 §4 (STARTTLS after EHLO, not
 * twice) and RFC 4954 §4, §6 (AUTH only under TLS on submission, once, outside transactions).
 */

import { assertEquals } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { plain, statusOf, using, Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

const STATES = ["greeted", "ehlo", "mail", "rcpt", "bdat"] as const;
type State = typeof STATES[number];

/** Brings a fresh MX connection to a state. */
const SETUP: Record<State, (c: Wire) => Promise<void>> = {
  greeted: async (c) => {
    await c.expect("220");
  },
  ehlo: async (c) => {
    await SETUP.greeted(c);
    await c.command("EHLO client.example", "250");
  },
  mail: async (c) => {
    await SETUP.ehlo(c);
    await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
  },
  rcpt: async (c) => {
    await SETUP.mail(c);
    await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
  },
  bdat: async (c) => {
    await SETUP.rcpt(c);
    await c.send("BDAT 12\r\nSubject: x\r\n");
    await c.expect("250 2.0.0");
  },
};

/** One connection per cell: more than the default connection rate allows. */
const MANY_CONNECTIONS = { flow: { connectionBurst: 1000, connectionRate: 1000 } };

const AUTH = `AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`;

/** Command (as sent) → expected status in greeted, after EHLO, after MAIL, after RCPT, in BDAT. */
const MX_TABLE: readonly [string, readonly [string, string, string, string, string]][] = [
  ["EHLO client.example", ["250", "250", "250", "250", "250"]],
  ["HELO client.example", ["250", "250", "250", "250", "250"]],
  ["MAIL FROM:<other@remote.example>", [
    "503 5.5.1",
    "250 2.1.0",
    "503 5.5.1",
    "503 5.5.1",
    "503 5.5.1",
  ]],
  ["RCPT TO:<bob@example.org>", ["503 5.5.1", "503 5.5.1", "250 2.1.5", "250 2.1.5", "503 5.5.1"]],
  ["DATA", ["503 5.5.1", "503 5.5.1", "554 5.5.1", "354", "503 5.5.1"]],
  ["BDAT 4\r\nhi\r\n", ["503 5.5.1", "503 5.5.1", "554 5.5.1", "250 2.0.0", "250 2.0.0"]],
  ["RSET", ["250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0"]],
  ["NOOP", ["250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0"]],
  ["QUIT", ["221 2.0.0", "221 2.0.0", "221 2.0.0", "221 2.0.0", "221 2.0.0"]],
  ["VRFY alice@example.org", ["252 2.5.0", "252 2.5.0", "252 2.5.0", "252 2.5.0", "252 2.5.0"]],
  ["EXPN staff@example.org", ["502 5.5.1", "502 5.5.1", "502 5.5.1", "502 5.5.1", "502 5.5.1"]],
  ["HELP", ["214 2.0.0", "214 2.0.0", "214 2.0.0", "214 2.0.0", "214 2.0.0"]],
  ["STARTTLS", ["503 5.5.1", "220 2.0.0", "503 5.5.1", "503 5.5.1", "503 5.5.1"]],
  // Port 25 has no AUTH at all (RFC 4954 §4 with RFC 6409: sign-in is for submission).
  [AUTH, ["502 5.5.1", "502 5.5.1", "502 5.5.1", "502 5.5.1", "502 5.5.1"]],
];

/** Where a session stands, as two probes tell: RCPT, then MAIL. */
type Standing = "transaction" | "ready" | "blocked" | "closed" | "not probed";

async function standing(c: Wire): Promise<Standing> {
  await c.send("RCPT TO:<bob@example.org>\r\n");
  const rcpt = await c.reply();
  if (rcpt === null) return "closed";
  if (statusOf(rcpt) === "250 2.1.5") return "transaction";
  await c.send("MAIL FROM:<probe@remote.example>\r\n");
  const mail = await c.reply();
  if (mail === null) return "closed";
  return statusOf(mail) === "250 2.1.0" ? "ready" : "blocked";
}

/** What the probes should find after `command` in `state`. */
function expectedStanding(command: string, state: State): Standing {
  const unchanged: Record<State, Standing> = {
    greeted: "blocked",
    ehlo: "ready",
    mail: "transaction",
    rcpt: "transaction",
    bdat: "blocked",
  };
  const verb = command.split(" ")[0]!;
  if (verb === "QUIT") return "closed";
  if ((verb === "STARTTLS" && state === "ehlo") || (verb === "DATA" && state === "rcpt")) {
    return "not probed"; // a TLS handshake or message content would have to follow
  }
  if (verb === "EHLO" || verb === "HELO") return "ready"; // RFC 5321 §4.1.4: a reset
  if (verb === "RSET") return state === "greeted" ? "blocked" : "ready";
  if (verb === "MAIL" && state === "ehlo") return "transaction";
  if (verb === "BDAT" && state === "rcpt") return "blocked"; // inside a BDAT sequence now
  return unchanged[state];
}

async function cell(t: SmtpFixture, state: State, command: string) {
  return await using(() => Wire.connect(t.ports.mx), async (c) => {
    await SETUP[state](c);
    await c.send(command.includes("\r\n") ? command : `${command}\r\n`);
    const reply = await c.reply();
    const status = reply === null ? "closed" : statusOf(reply);
    const after = expectedStanding(command, state) === "not probed"
      ? "not probed"
      : await standing(c);
    return { status, after };
  });
}

Deno.test("MX: every command in every state", async () => {
  await withSmtp(async (t) => {
    const actual: string[] = [];
    const expected: string[] = [];
    for (const [command, statuses] of MX_TABLE) {
      for (const [i, state] of STATES.entries()) {
        const got = await cell(t, state, command);
        const name = `${state} / ${command.split("\r\n")[0]!.slice(0, 24)}`;
        actual.push(`${name}: ${got.status}, then ${got.after}`);
        expected.push(`${name}: ${statuses[i]}, then ${expectedStanding(command, state)}`);
      }
    }
    assertEquals(actual, expected);
    // No cell completed a message.
    assertEquals(await t.inbox(t.alice.id), []);
    assertEquals(await t.inbox(t.bob.id), []);
  }, MANY_CONNECTIONS);
});

const SUBMISSION_STATES = [
  "clear, greeted",
  "clear, after EHLO",
  "TLS, greeted",
  "TLS, after EHLO",
  "signed in",
  "signed in, after MAIL",
] as const;
type SubmissionState = typeof SUBMISSION_STATES[number];

async function submissionSetup(t: SmtpFixture, c: Wire, state: SubmissionState): Promise<void> {
  const at = SUBMISSION_STATES.indexOf(state);
  await c.expect("220");
  if (at >= 1) await c.command("EHLO client.example", "250");
  if (at >= 2) {
    await c.command("STARTTLS", "220 2.0.0");
    await c.startTls(t.caPem);
  }
  if (at >= 3) await c.command("EHLO client.example", "250");
  if (at >= 4) await c.command(AUTH, "235 2.7.0");
  if (at >= 5) await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
}

/** Submission (587): command → expected status in each of {@link SUBMISSION_STATES}. */
const SUBMISSION_TABLE: readonly [string, readonly string[]][] = [
  // RFC 3207 §4 / RFC 8314: not in clear; RFC 4954 §4: not twice, not inside a transaction.
  [AUTH, ["503 5.5.1", "530 5.7.0", "503 5.5.1", "235 2.7.0", "503 5.5.1", "503 5.5.1"]],
  // RFC 3207 §4: once, after EHLO, not under TLS.
  ["STARTTLS", ["503 5.5.1", "220 2.0.0", "503 5.5.1", "503 5.5.1", "503 5.5.1", "503 5.5.1"]],
  // RFC 4954 §6: no transaction before AUTH.
  ["MAIL FROM:<alice@example.org>", [
    "503 5.5.1",
    "530 5.7.0",
    "503 5.5.1",
    "530 5.7.0",
    "250 2.1.0",
    "503 5.5.1",
  ]],
  ["RCPT TO:<bob@example.org>", [
    "503 5.5.1",
    "503 5.5.1",
    "503 5.5.1",
    "503 5.5.1",
    "503 5.5.1",
    "250 2.1.5",
  ]],
];

Deno.test("submission: AUTH, STARTTLS, MAIL and RCPT in every sign-in state", async () => {
  await withSmtp(async (t) => {
    const actual: string[] = [];
    const expected: string[] = [];
    for (const [command, statuses] of SUBMISSION_TABLE) {
      for (const [i, state] of SUBMISSION_STATES.entries()) {
        const status = await using(() => Wire.connect(t.ports.submission), async (c) => {
          await submissionSetup(t, c, state);
          await c.send(`${command}\r\n`);
          const reply = await c.reply();
          return reply === null ? "closed" : statusOf(reply);
        });
        const name = `${state} / ${command.split(" ")[0]}`;
        actual.push(`${name}: ${status}`);
        expected.push(`${name}: ${statuses[i]}`);
      }
    }
    assertEquals(actual, expected);
  }, MANY_CONNECTIONS);
});
