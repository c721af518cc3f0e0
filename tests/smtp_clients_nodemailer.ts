/**
 * nodemailer for the real-client tests: a transporter that trusts the test CA, names itself
 * client.example and records the commands it sends, so a test can tell which extension or
 * mechanism was used.
 *
 * @module
 */

// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import { assertMatch } from "./assert.ts";
import type { SmtpFixture } from "./smtp.ts";
import { HELO } from "./smtp_clients.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** A nodemailer logger keeping the commands the client sent (`transactionLog`). */
export function commandLog(lines: string[]) {
  const record = (entry: unknown, message: unknown) => {
    const tnx = typeof entry === "object" && entry !== null && "tnx" in entry ? entry.tnx : null;
    if (tnx === "client" && typeof message === "string") lines.push(message);
  };
  return {
    level: () => {},
    trace: record,
    debug: record,
    info: record,
    warn: record,
    error: record,
    fatal: record,
  };
}

/** Where and how a transporter connects. */
export interface Connect {
  readonly port: number;
  /** "none": MX in clear; "starttls": upgrade when offered (required on submission); "tls". */
  readonly tls: "none" | "starttls" | "tls";
  readonly auth?: { readonly method?: "PLAIN" | "LOGIN"; readonly user?: string };
}

/** A transporter trusting the test CA, naming itself client.example, logging its commands. */
export function transport(t: SmtpFixture, options: Connect, lines: string[]) {
  const { port, tls, auth } = options;
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: tls === "tls",
    ignoreTLS: tls === "none",
    requireTLS: tls === "starttls" && auth !== undefined,
    name: HELO,
    tls: { ca: t.caPem, servername: "mail.example.org" },
    ...(auth === undefined ? {} : {
      auth: { user: auth.user ?? t.alice.address, pass: GOOD_PASSWORD },
      ...(auth.method === undefined ? {} : { authMethod: auth.method }),
    }),
    logger: commandLog(lines),
    transactionLog: true,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
}

/** What `sendMail` takes. */
export type Mail = Parameters<ReturnType<typeof transport>["sendMail"]>[0];

/** Sends one message on a fresh transporter, closes it, and returns the info and commands. */
export async function send(t: SmtpFixture, options: Connect, mail: Mail) {
  const lines: string[] = [];
  const mailer = transport(t, options, lines);
  try {
    const info = await mailer.sendMail(mail);
    assertMatch(String(info.response), /^250 2\.0\.0 OK: queued as [0-9a-z]+$/);
    return { info, lines };
  } finally {
    mailer.close();
  }
}
