/**
 * The audit log: who changed what, when and from where, for every administrative and security
 * change (accounts, passwords, second factors, app passwords, aliases, domains, DKIM keys,
 * bans, certificates, the queue, key rotation).
 *
 * Invariants:
 * - Append-only: the table refuses UPDATE, DELETE and TRUNCATE (migrations/0016_audit.sql).
 * - Tamper-evident: row `seq` stores `hash = SHA-256(prev_hash ‖ canonical content)`, where the
 *   content is seq, time, actor, action, target, details (keys sorted) and source, and
 *   `prev_hash` is the previous row's hash (64 zeros for the first). {@link AuditLog.verify}
 *   recomputes the chain: an edited row no longer matches its hash, a deleted row leaves a gap
 *   in `seq` and a `prev_hash` that matches nothing. Deleting the newest rows leaves no trace
 *   in the chain itself; the head's hash that `verify` prints is what an administrator keeps
 *   elsewhere to catch that.
 * - Linear: appends take a transaction-scoped advisory lock, so two processes never append
 *   after the same row.
 * - No secrets: detail keys that look like secrets (password, token, secret, key material) are
 *   replaced by "[redacted]" before they are hashed or stored.
 *
 * @module
 */

import type { Sql } from "./db.ts";

/** A JSON value in a row's details. */
export type AuditValue =
  | string
  | number
  | boolean
  | null
  | readonly AuditValue[]
  | { readonly [key: string]: AuditValue };

/** What a caller records. */
export interface AuditEntry {
  /** OS user (CLI), account address (IMAP, web), or "system". */
  readonly actor: string;
  /** A dotted name: `account.add`, `ban.remove`, `dkim.rotate`, … */
  readonly action: string;
  /** What it was done to: an address, a domain, a network, a queue id. */
  readonly target: string;
  readonly details?: Readonly<Record<string, AuditValue>>;
  /** "cli", a client IP address, or "system". */
  readonly source: string;
}

/** A stored row. */
export interface AuditRecord {
  readonly seq: number;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details: Readonly<Record<string, AuditValue>>;
  readonly source: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** What {@link AuditLog.verify} found. */
export type AuditVerification =
  | { readonly ok: true; readonly rows: number; readonly head: AuditRecord | null }
  | {
    readonly ok: false;
    readonly rows: number;
    /** The first row whose check failed (for a deletion: the row after the gap). */
    readonly seq: number;
    readonly problem: "edited" | "deleted";
    /** One sentence for people. */
    readonly text: string;
  };

/** The previous hash of the first row. */
export const GENESIS_HASH = "0".repeat(64);

/** Key of the advisory lock that serialises appends ("audt" in ASCII). */
const LOCK_KEY = 0x61756474;
/** Rows read per query while verifying. */
const PAGE = 1_000;
/** Detail keys whose values are never stored (the logger's rule, plus key material). */
const SECRET_KEY = /pass(word)?|secret|token|credential|master.?key|^key$|private|cookie|totp/i;

interface AuditRow {
  seq: string | number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  details: Record<string, AuditValue>;
  source: string;
  prev_hash: string;
  hash: string;
}

/** The audit log over the database. */
export class AuditLog {
  constructor(private readonly sql: Sql, private readonly now: () => Date = () => new Date()) {}

  /** Appends a row at the end of the chain; resolves once it is committed. */
  async append(entry: AuditEntry): Promise<AuditRecord> {
    const details = redactDetails(entry.details ?? {});
    // Milliseconds, as JavaScript reads the column back: the hash must survive the round trip.
    const at = new Date(this.now().getTime());
    return await this.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const [last] = await tx<{ seq: string | number; hash: string }[]>`
        select seq, hash from audit_log order by seq desc limit 1`;
      const seq = last === undefined ? 1 : Number(last.seq) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const record = { seq, at, ...entry, details, prevHash };
      const hash = await auditHash(record);
      await tx`
        insert into audit_log (seq, at, actor, action, target, details, source, prev_hash, hash)
        values (${seq}, ${at}, ${entry.actor}, ${entry.action}, ${entry.target},
                ${tx.json(details as never)}, ${entry.source}, ${prevHash}, ${hash})`;
      return { ...record, hash };
    });
  }

  /** The newest `limit` rows, newest first. */
  async list(options: { limit?: number } = {}): Promise<AuditRecord[]> {
    const rows = await this.sql<AuditRow[]>`
      select seq, at, actor, action, target, details, source, prev_hash, hash
      from audit_log order by seq desc limit ${options.limit ?? 50}`;
    return rows.map(toRecord);
  }

  /**
   * Walks the chain from the first row and stops at the first row that does not check out:
   * its hash does not match its content (edited), or its seq or prev_hash does not follow the
   * row before it (a row in between was deleted, or rows were renumbered).
   */
  async verify(): Promise<AuditVerification> {
    let previous: AuditRecord | null = null;
    let rows = 0;
    for (;;) {
      const after: number = previous?.seq ?? 0;
      const page: AuditRecord[] = (await this.sql<AuditRow[]>`
        select seq, at, actor, action, target, details, source, prev_hash, hash
        from audit_log where seq > ${after} order by seq limit ${PAGE}`).map(toRecord);
      for (const row of page) {
        const expectedSeq = (previous?.seq ?? 0) + 1;
        const expectedPrev = previous?.hash ?? GENESIS_HASH;
        if (row.hash !== await auditHash(row)) {
          return failed(
            rows,
            row.seq,
            "edited",
            `Row ${row.seq} was edited: its hash no longer matches its content`,
          );
        }
        if (row.seq !== expectedSeq) {
          const gap = row.seq - expectedSeq === 1
            ? `row ${expectedSeq} was deleted`
            : `rows ${expectedSeq} to ${row.seq - 1} were deleted`;
          return failed(rows, row.seq, "deleted", `The chain breaks before row ${row.seq}: ${gap}`);
        }
        if (row.prevHash !== expectedPrev) {
          return failed(
            rows,
            row.seq,
            "deleted",
            `The chain breaks before row ${row.seq}: it does not follow row ${
              expectedSeq - 1
            } (that row was rewritten with a new hash, or rows were deleted and renumbered)`,
          );
        }
        previous = row;
        rows++;
      }
      if (page.length < PAGE) return { ok: true, rows, head: previous };
    }
  }
}

/** The row's hash: SHA-256 over the previous hash and its canonical content, hex. */
export async function auditHash(
  row: Omit<AuditRecord, "hash" | "details"> & {
    readonly details: Readonly<Record<string, AuditValue>>;
  },
): Promise<string> {
  const content = canonicalJson([
    row.seq,
    row.at.toISOString(),
    row.actor,
    row.action,
    row.target,
    row.details,
    row.source,
  ]);
  const data = new TextEncoder().encode(`${row.prevHash}\n${content}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** JSON with object keys sorted at every level: the same text however the keys were stored. */
export function canonicalJson(value: AuditValue | readonly unknown[]): string {
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v as AuditValue)).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const object = value as Readonly<Record<string, AuditValue>>;
    const keys = Object.keys(object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k]!)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Details with secret-looking keys replaced, at every level. */
export function redactDetails(
  details: Readonly<Record<string, AuditValue>>,
): Record<string, AuditValue> {
  const out: Record<string, AuditValue> = {};
  for (const [key, value] of Object.entries(details)) {
    out[key] = SECRET_KEY.test(key) ? "[redacted]" : redactValue(value);
  }
  return out;
}

function redactValue(value: AuditValue): AuditValue {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === "object") {
    return redactDetails(value as Readonly<Record<string, AuditValue>>);
  }
  return value;
}

function failed(
  rows: number,
  seq: number,
  problem: "edited" | "deleted",
  text: string,
): AuditVerification {
  return { ok: false, rows, seq, problem, text };
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details,
    source: row.source,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
