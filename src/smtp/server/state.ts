/**
 * The state of an SMTP session and of its mail transaction (RFC 5321 §3.3).
 *
 * @module
 */

import type { SignedIn } from "../../auth/login.ts";
import type { RecipientResolution } from "../../delivery/mod.ts";
import type { MailAddress } from "../../util/address.ts";
import type { DataReceiver, MailParams, RcptParams } from "../proto/mod.ts";

/** Where a session is, as the command table checks it (RFC 5321 §4.1.4). */
export type Phase =
  /** Greeted; no HELO/EHLO yet (again, after STARTTLS: RFC 3207 §4.2). */
  | "greeted"
  /** HELO/EHLO done, no transaction. */
  | "ready"
  /** MAIL accepted, no recipient yet. */
  | "mail"
  /** At least one recipient accepted. */
  | "rcpt"
  /** Inside a BDAT sequence (RFC 3030 §2): only BDAT, RSET, QUIT and NOOP make sense. */
  | "bdat";

/** A recipient accepted at RCPT time, with where its mail goes. */
export interface AcceptedRecipient {
  readonly address: MailAddress | "postmaster";
  readonly resolution: Exclude<RecipientResolution, { kind: "unknown" }>;
  readonly params: RcptParams;
}

/** A mail transaction, from MAIL to the end of DATA/BDAT or RSET. */
export interface Transaction {
  readonly sender: MailAddress | null;
  readonly params: MailParams;
  readonly recipients: AcceptedRecipient[];
  /** Recipients the signed-in account may still send to today (sending limits); null: any. */
  readonly recipientsLeft: number | null;
}

/** What a session remembers between commands. */
export class SessionState {
  phase: Phase = "greeted";
  /** The HELO/EHLO argument. */
  helo: string | null = null;
  /** EHLO (not HELO) was used: extensions are allowed (RFC 5321 §2.2.1). */
  esmtp = false;
  account: SignedIn | null = null;
  transaction: Transaction | null = null;
  /** Permanent (5xx) refusals so far. */
  errors = 0;
  /** Commands that moved nothing forward (see SmtpSettings.maxJunkCommands). */
  junk = 0;
  /** Recipients accepted over the whole session. */
  recipients = 0;
  /** Messages accepted in this session. */
  messages = 0;
  /** The content received so far by a BDAT sequence (RFC 3030). */
  chunks: DataReceiver | null = null;
  /** When the content of the message in BDAT chunks must be complete (epoch ms). */
  chunksDeadline = 0;

  /** Ends any transaction (RSET, EHLO, a finished message: RFC 5321 §4.1.1.5). */
  resetTransaction(): void {
    this.transaction = null;
    this.chunks = null;
    if (this.phase !== "greeted") this.phase = "ready";
  }

  /** Forgets everything learnt before TLS (RFC 3207 §4.2). */
  resetForTls(): void {
    this.transaction = null;
    this.chunks = null;
    this.helo = null;
    this.esmtp = false;
    this.account = null;
    this.phase = "greeted";
  }
}
