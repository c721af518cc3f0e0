/**
 * What an IMAP listener's sessions are configured with. Every bound has a default, so a
 * session is never unbounded.
 *
 * @module
 */

/** The settings of one IMAP listener's sessions. */
export interface ImapSettings {
  /** The name in the greeting. */
  readonly hostname: string;
  /** Longest command line, CRLF excluded (RFC 9051 §4 leaves it to the server; 64 KiB). */
  readonly maxLineLength: number;
  /**
   * Largest literal after authentication: the largest message (APPEND), advertised with
   * APPENDLIMIT (RFC 7889).
   */
  readonly maxMessageSize: number;
  /**
   * Largest literal before authentication (LOGIN's password, a SASL response): small, so an
   * anonymous client cannot make the server buffer much (RFC 7888 §4, RFC 9051 §11.3).
   */
  readonly maxLiteralBeforeAuth: number;
  /** "LITERAL+" (RFC 7888 §3) or "LITERAL-" (RFC 7888 §5: non-synchronising up to 4096). */
  readonly literalExtension: "LITERAL+" | "LITERAL-";
  /** How long the server waits for a command (RFC 9051 §5.4: at least 30 minutes). */
  readonly idleTimeoutMs: number;
  /**
   * How long it waits for a command before sign-in (RFC 9051 §5.4 sets its 30 minutes for
   * authenticated clients only), so anonymous connections cannot be held open for long.
   */
  readonly preAuthTimeoutMs: number;
  /** How long one IDLE may last before the server ends it (RFC 2177 §3: re-IDLE every 29 min). */
  readonly idleMaxMs: number;
  /** How often IDLE looks at the mailbox even without a change announcement. */
  readonly idleRecheckMs: number;
  /** BAD responses before the session is closed with BYE. */
  readonly maxBadCommands: number;
}

/** Defaults (shared/DESIGN.md "Defaults that matter"). */
export const IMAP_DEFAULTS = {
  maxLineLength: 64 * 1024,
  maxMessageSize: 25 * 1024 * 1024,
  maxLiteralBeforeAuth: 8 * 1024,
  literalExtension: "LITERAL+",
  idleTimeoutMs: 30 * 60_000,
  preAuthTimeoutMs: 60_000,
  idleMaxMs: 30 * 60_000,
  idleRecheckMs: 60_000,
  maxBadCommands: 20,
} as const satisfies Partial<ImapSettings>;
