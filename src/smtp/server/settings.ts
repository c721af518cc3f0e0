/**
 * What an SMTP listener is configured with. Every bound has a default from shared/DESIGN.md, so
 * a session is never unbounded.
 *
 * @module
 */

/** The two kinds of SMTP service (RFC 6409 §1). */
export type SmtpRole = "mx" | "submission";

/** The settings of one SMTP listener's sessions. */
export interface SmtpSettings {
  /** The name in the greeting, the EHLO reply and Received fields. */
  readonly hostname: string;
  /** "mx": mail for local recipients, no AUTH; "submission": AUTH required, relays. */
  readonly role: SmtpRole;
  /** Largest message accepted, advertised with SIZE (RFC 1870). */
  readonly maxMessageSize: number;
  /** Largest header section accepted. */
  readonly maxHeaderSize: number;
  /** Attachments of submitted mail (filter/builtin.ts attachmentPolicy; 0: none). */
  readonly attachments: { readonly maxSize: number; readonly maxCount: number };
  /** Most recipients of one message (RFC 5321 §4.5.3.1.8 asks for at least 100). */
  readonly maxRecipients: number;
  /** Most recipients over a whole session (all its transactions). */
  readonly maxRecipientsPerSession: number;
  /** Most messages in one session. */
  readonly maxMessagesPerSession: number;
  /** Error replies before the session is closed (unknown commands, bad recipients, …). */
  readonly maxErrors: number;
  /**
   * Commands that move nothing forward before the session is closed: NOOP, RSET, VRFY, HELP
   * and empty BDAT chunks (Postfix's smtpd_junk_command_limit).
   */
  readonly maxJunkCommands: number;
  /** Longest command line, CRLF excluded (RFC 5321 §4.5.3.1.4 gives 512 as the minimum). */
  readonly maxCommandLength: number;
  /** How long the server waits for a command (RFC 5321 §4.5.3.2.7: at least 5 minutes). */
  readonly idleTimeoutMs: number;
  /** How long one read of message content may take (RFC 5321 §4.5.3.2.5: 3 minutes). */
  readonly dataTimeoutMs: number;
  /**
   * How long the whole content of one message may take to arrive (RFC 5321 §4.5.3.2.6 gives
   * 10 minutes for the terminator), so a client trickling bytes cannot hold a session forever.
   */
  readonly dataTotalMs: number;
  /**
   * How long to wait before the greeting; a client that talks in that time is refused (it is
   * not waiting for the greeting, as RFC 5321 §3.1 requires, so it is most likely a spam bot).
   */
  readonly greetPauseMs: number;
  /** Name the authenticated user in Received fields (RFC 5321 §4.4 permits, privacy argues against). */
  readonly receivedAuthUser: boolean;
  /**
   * Outbound spam control: an account whose messages in the last hour reach `floor` and exceed
   * `factor` times its usual hourly number is put on outbound hold (0: never).
   */
  readonly burstHold: { readonly floor: number; readonly factor: number };
}

/** Defaults (shared/DESIGN.md "Defaults that matter"). */
export const SMTP_DEFAULTS = {
  maxMessageSize: 25 * 1024 * 1024,
  maxHeaderSize: 1024 * 1024,
  attachments: { maxSize: 0, maxCount: 100 },
  maxRecipients: 100,
  maxRecipientsPerSession: 1000,
  maxMessagesPerSession: 1000,
  maxErrors: 20,
  maxJunkCommands: 100,
  maxCommandLength: 4096,
  idleTimeoutMs: 5 * 60_000,
  dataTimeoutMs: 3 * 60_000,
  dataTotalMs: 10 * 60_000,
  greetPauseMs: 0,
  receivedAuthUser: false,
  burstHold: { floor: 100, factor: 10 },
} as const satisfies Partial<SmtpSettings>;
