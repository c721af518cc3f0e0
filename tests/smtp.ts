/**
 * An SMTP server in process over a test store: MX, submission (STARTTLS) and submissions
 * (implicit TLS) on free loopback ports, with a test CA, the domain example.org and two users.
 * Also transcript replay (`C:` / `S:`) over tests/smtp_wire.ts's client.
 *
 * @module
 */

import type { Check } from "../src/filter/mod.ts";
import { FlowControl, type FlowOptions } from "../src/net/flow.ts";
import type { RunningListener } from "../src/net/listener.ts";
import { type Logger, silentLogger } from "../src/ops/log.ts";
import {
  SMTP_DEFAULTS,
  type SmtpRole,
  type SmtpSettings,
  startSmtpListener,
  storeDeps,
} from "../src/smtp/server/mod.ts";
import type { Store } from "../src/store/mod.ts";
import { type ServerWorld, withServerWorld } from "./server_world.ts";
import { Wire } from "./smtp_wire.ts";

/** The running test server (see tests/server_world.ts for what it shares with IMAP's). */
export interface SmtpFixture extends ServerWorld {
  /** Ports of MX (plain + STARTTLS), submission (STARTTLS) and submissions (implicit TLS). */
  readonly ports: {
    readonly mx: number;
    readonly submission: number;
    readonly submissions: number;
  };
  /** Messages in an account's INBOX, decrypted, oldest first. */
  inbox(accountId: number): Promise<string[]>;
}

/** What a test may change. */
export interface SmtpFixtureOptions {
  readonly settings?: Partial<SmtpSettings>;
  readonly checks?: readonly Check[];
  readonly flow?: FlowOptions;
  readonly log?: Logger;
}

/** Runs `fn` against a fresh server. */
export async function withSmtp(
  fn: (t: SmtpFixture) => Promise<void>,
  options: SmtpFixtureOptions = {},
): Promise<void> {
  const log = options.log ?? silentLogger;
  await withServerWorld(async (world) => {
    const { store, bans, hostname } = world;
    const listeners: RunningListener[] = [];
    const start = async (name: string, mode: "starttls" | "tls", role: SmtpRole) => {
      const settings: SmtpSettings = { ...SMTP_DEFAULTS, hostname, role, ...options.settings };
      const listener = await startSmtpListener({
        name,
        addresses: ["127.0.0.1"],
        port: 0,
        mode,
        tls: world.tls,
        flow: new FlowControl({ isBanned: (ip) => bans.isBanned(ip), ...options.flow }),
        settings,
        deps: storeDeps({
          store,
          login: world.login,
          scram: world.scram,
          settings,
          ...(options.checks ? { checks: options.checks } : {}),
          log,
        }),
      });
      listeners.push(listener);
      return listener.endpoints[0]!.port;
    };
    try {
      const ports = {
        mx: await start("smtp", "starttls", "mx"),
        submission: await start("submission", "starttls", "submission"),
        submissions: await start("submissions", "tls", "submission"),
      };
      await fn({ ...world, ports, inbox: (accountId) => inbox(store, accountId) });
    } finally {
      await Promise.all(listeners.map((l) => l.close()));
    }
  }, log);
}

async function inbox(store: Store, accountId: number): Promise<string[]> {
  const mailbox = await store.mailboxes.get(accountId, "INBOX");
  const decoder = new TextDecoder();
  const out: string[] = [];
  for (const info of await store.messages.list(mailbox.id)) {
    out.push(decoder.decode(await store.messages.read(accountId, info.messageId)));
  }
  return out;
}

/**
 * Replays a transcript: `C: line` is sent with CRLF, `S: prefix` must match the start of the
 * next reply line (a multi-line reply is matched line by line). Lines are trimmed. `payloads`
 * maps a command line to raw bytes sent right after it (a BDAT chunk).
 */
export async function replay(
  port: number,
  transcript: string,
  payloads: Readonly<Record<string, string>> = {},
): Promise<void> {
  const client = await Wire.connect(port);
  try {
    let pending: string[] = [];
    for (const raw of transcript.split("\n").map((l) => l.trim()).filter((l) => l !== "")) {
      if (raw === "C:" || raw.startsWith("C: ")) {
        const line = raw.slice(3);
        await client.send(`${line}\r\n${payloads[line] ?? ""}`);
      } else if (raw.startsWith("S: ")) {
        if (pending.length === 0) {
          const reply = await client.reply();
          if (reply === null) throw new Error(`Connection closed; expected ${raw}`);
          pending = reply.split("\n");
        }
        const line = pending.shift()!;
        const want = raw.slice(3);
        if (!line.startsWith(want)) {
          throw new Error(`Expected ${JSON.stringify(want)}, got ${JSON.stringify(line)}`);
        }
      } else if (raw === "CLOSED") {
        if (!(await client.closedByServer())) throw new Error("Expected the server to close");
      } else {
        throw new Error(`Bad transcript line ${JSON.stringify(raw)}`);
      }
    }
  } finally {
    client.close();
  }
}
