/**
 * TLS certificates: stored, assigned to listeners and SNI host names, and handed to listeners.
 *
 * Security model and invariants:
 * - Chains are public and stored in clear text. Private keys are sealed with the system's data
 *   key (owner null), bound to `certificates.key#id`, and decrypted only here: by
 *   {@link Certificates.snapshot} (for listeners) and when a signed certificate completes a
 *   pending CSR. No listing or error ever shows a key.
 * - Nothing is stored that {@link validateCertificate} has not accepted: the key belongs to the
 *   leaf, the chain is in order, the leaf is valid now.
 * - Every change runs `pg_notify('fumi_certificates', '')` in its own transaction, so listeners
 *   that {@link Certificates.watch} reload once it is committed, on every node.
 * - Importing under an existing name is a renewal: the row and its id stay, so every assignment
 *   keeps pointing at it and listeners switch to the new certificate on their next handshake.
 * - A certificate in use cannot be removed, and `default` cannot be unassigned: a TLS listener
 *   always has a certificate to serve.
 * - {@link Certificates.ensureSelfSigned} runs under a transaction-scoped advisory lock, so two
 *   nodes starting at once create one certificate.
 *
 * @module
 */

import type { Placement } from "../crypto/envelope.ts";
import {
  type CertificateInfo,
  createCsr,
  createSelfSigned,
  describeChain,
  isIpAddress,
  type KeyAlgorithm,
  normalizeCertName,
  privateKeyPem,
  validateCertificate,
  type ValidCertificate,
} from "../crypto/x509.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";
import type { Vault } from "./vault.ts";

/** The listeners that serve TLS (`http` does not). */
export const TLS_LISTENERS = [
  "smtp",
  "submission",
  "submissions",
  "imap",
  "imaps",
  "https",
] as const;
/** A listener that serves TLS. */
export type TlsListener = typeof TLS_LISTENERS[number];

/** How a certificate came to be. */
export type CertificateSource = "self-signed" | "imported" | "acme" | "csr-pending";

/** The channel of `pg_notify` after every change. */
export const CERTIFICATES_CHANNEL = "fumi_certificates";

/** A stored certificate as administrators see it (no key). */
export interface CertificateSummary {
  readonly id: number;
  readonly name: string;
  readonly source: CertificateSource;
  /** The leaf's DNS names and IP addresses (the CSR's while pending). */
  readonly names: readonly string[];
  /** Null while a CSR is pending. */
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  readonly fingerprintSha256: string | null;
  /** Assignment targets: `default`, listener names, `sni:<host>`. */
  readonly usedBy: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A certificate with its chain described. */
export interface CertificateDetails extends CertificateSummary {
  /** Leaf first; empty while a CSR is pending. */
  readonly chain: readonly CertificateInfo[];
  readonly chainPem: string;
  readonly csrPem: string | null;
}

/** A certificate and key ready for node:tls. */
export interface TlsCertificate {
  readonly name: string;
  /** The chain, leaf first. */
  readonly certPem: string;
  /** PKCS#8 "PRIVATE KEY". */
  readonly keyPem: string;
  readonly fingerprintSha256: string;
  readonly notAfter: Date;
}

/** Everything TLS listeners need, at one moment. */
export interface TlsSnapshot {
  /** Changes whenever what a listener would serve changes. */
  readonly version: string;
  /** By assignment target without `sni:`: `default` and listener names. */
  readonly byTarget: ReadonlyMap<string, TlsCertificate>;
  /**
   * SNI: lower-case host name or `*.domain` → certificate. From `sni:` assignments, and from
   * each certificate's own names; an assignment wins, then a currently valid certificate, then
   * one not self-signed, then the one that expires last.
   */
  readonly byName: ReadonlyMap<string, TlsCertificate>;
}

/** What one listener serves: its default certificate and the SNI map. */
export interface ListenerCertificates {
  readonly version: string;
  readonly fallback: TlsCertificate;
  readonly byName: ReadonlyMap<string, TlsCertificate>;
}

/** Picks a listener's certificates from a snapshot: its own assignment, else `default`. */
export function listenerCertificates(
  snapshot: TlsSnapshot,
  listener: TlsListener,
): ListenerCertificates {
  const fallback = snapshot.byTarget.get(listener) ?? snapshot.byTarget.get("default");
  if (!fallback) {
    throw new NotFoundError(
      `No certificate is assigned to ${listener} or default; assign one with: fumi cert assign default NAME`,
    );
  }
  return { version: snapshot.version, fallback, byName: snapshot.byName };
}

/**
 * Normalises an assignment target: `default`, a TLS listener name, or a host name for SNI
 * (`mail.example.org`, `*.example.org`, or the same with `sni:` before it) → `sni:<host>`.
 */
export function normalizeTarget(input: string): string {
  const text = input.trim().toLowerCase();
  if (text === "default" || (TLS_LISTENERS as readonly string[]).includes(text)) return text;
  if (text === "http") {
    throw new InvalidInputError('The listener "http" serves no TLS; it takes no certificate');
  }
  const host = text.startsWith("sni:") ? text.slice(4) : text;
  if (!host.includes(".") && host !== "localhost") {
    throw new InvalidInputError(
      `Unknown target "${input}": use default, ${TLS_LISTENERS.join(", ")} or a host name`,
    );
  }
  if (isIpAddress(host)) {
    // RFC 6066 §3: SNI carries host names only, never IP addresses.
    throw new InvalidInputError(`Cannot assign by IP address "${host}": SNI carries host names`);
  }
  return `sni:${normalizeCertName(host)}`;
}

/** Normalises a certificate's name (the administrator's label). */
export function certificateLabel(input: string): string {
  const name = input.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{0,252}$/.test(name)) {
    throw new InvalidInputError(
      `Invalid certificate name "${input}": use letters, digits, ".", "-" and "_"`,
    );
  }
  return name;
}

interface CertificateRow {
  id: number;
  name: string;
  source: CertificateSource;
  names: string[];
  not_before: Date | null;
  not_after: Date | null;
  fingerprint_sha256: string | null;
  used_by: string[];
  created_at: Date;
  updated_at: Date;
}

const SELECT = `select c.id, c.name, c.source, c.names, c.not_before, c.not_after,
  c.fingerprint_sha256, c.created_at, c.updated_at,
  coalesce(array_agg(a.target) filter (where a.target is not null), '{}') as used_by
  from certificates c left join certificate_assignments a on a.certificate_id = c.id`;

function toSummary(row: CertificateRow): CertificateSummary {
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    names: row.names,
    notBefore: row.not_before,
    notAfter: row.not_after,
    fingerprintSha256: row.fingerprint_sha256,
    usedBy: [...row.used_by].sort(byTarget),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `default`, then listeners in their usual order, then SNI names alphabetically. */
function byTarget(a: string, b: string): number {
  const rank = (t: string) =>
    t === "default" ? -1 : t.startsWith("sni:") ? 99 : TLS_LISTENERS.indexOf(t as TlsListener);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Where a certificate's private key lives, bound into its ciphertext. */
export function keyPlacement(id: number): Placement {
  return { table: "certificates", column: "key", row: id };
}

/** Key of the advisory lock of {@link Certificates.ensureSelfSigned} ("fumc" in ASCII). */
const SELF_SIGNED_LOCK = 0x66756d63;

/** Certificate administration and the listeners' view of it. */
export class Certificates {
  constructor(
    private readonly sql: Sql,
    private readonly vault: Vault,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Makes sure `default` has a certificate: when none is assigned (a fresh install), creates a
   * self-signed one for `hostname`, named after it (or `<hostname>-self-signed` when an
   * administrator took that name), and assigns it. Safe to run on several nodes at once.
   */
  async ensureSelfSigned(
    hostname: string,
  ): Promise<{ certificate: CertificateSummary; created: boolean }> {
    const current = await this.#assigned("default");
    if (current) return { certificate: current, created: false };
    const host = normalizeCertName(hostname);
    const made = await createSelfSigned({ names: [host], now: this.clock() });
    const id = await this.#nextId();
    const sealed = await this.vault.seal(null, made.keyPkcs8, keyPlacement(id));
    const label = host.replace(/[^a-z0-9._-]/g, "-").replace(/^[^a-z0-9]+/, "") || "self-signed";
    const created = await this.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${SELF_SIGNED_LOCK})`;
      const [assigned] = await tx`select 1 from certificate_assignments where target = 'default'`;
      if (assigned) return false;
      const candidates = [label, `${label}-self-signed`];
      const taken = await tx<{ name: string }[]>`
        select name from certificates where name in ${tx(candidates)}`;
      const name = candidates.find((c) => !taken.some((t) => t.name === c));
      if (name === undefined) {
        throw new ConflictError(
          `Cannot create the self-signed certificate: the names ${
            candidates.join(" and ")
          } are taken`,
        );
      }
      await insertCertificate(tx, id, name, "self-signed", made, sealed, null);
      await tx`insert into certificate_assignments (target, certificate_id)
               values ('default', ${id})`;
      await notify(tx);
      return true;
    });
    return { certificate: (await this.#assigned("default"))!, created };
  }

  /** Creates a self-signed certificate under `name` (for tests and private networks). */
  async createSelfSigned(
    name: string,
    names: readonly string[],
    options: { keyAlgorithm?: KeyAlgorithm; validityDays?: number } = {},
  ): Promise<CertificateSummary> {
    const label = certificateLabel(name);
    await this.#refuseExisting(label);
    const made = await createSelfSigned({ names, now: this.clock(), ...options });
    await this.#insertNew(label, "self-signed", made, null);
    return await this.#summary(label);
  }

  /**
   * Stores a certificate chain (PEM, the server's certificate first) under `name`. With
   * `keyPem`, the key is the one given; without, the key Fumi already holds for `name` (a
   * pending CSR's, or the current certificate's when the CA renewed for the same key). Under an
   * existing name this is a renewal: assignments stay. `source` records how the certificate came
   * (`acme` for one issued by src/acme/); `imported` unless given.
   */
  async import(
    name: string,
    chainPem: string,
    keyPem?: string,
    options: { source?: "imported" | "acme" } = {},
  ): Promise<{ certificate: CertificateSummary; renewed: boolean }> {
    const source = options.source ?? "imported";
    const label = certificateLabel(name);
    const existing = await this.#keyRow(label);
    let valid: ValidCertificate;
    const now = this.clock();
    if (keyPem !== undefined) {
      valid = await validateCertificate({ chainPem, keyPem, now });
    } else if (existing) {
      const keyPkcs8 = await this.vault.open(existing.key, keyPlacement(existing.id));
      valid = await validateCertificate({ chainPem, keyPkcs8, now });
    } else {
      throw new NotFoundError(
        `No key for "${label}": give the private key, or create one first with: fumi cert csr ${label} DNSNAME…`,
      );
    }
    if (!existing) {
      await this.#insertNew(label, source, valid, null);
      return { certificate: await this.#summary(label), renewed: false };
    }
    const sealed = await this.vault.seal(null, valid.keyPkcs8, keyPlacement(existing.id));
    const leaf = valid.chain[0]!;
    await this.sql.begin(async (tx) => {
      // The key's old ciphertext proves nobody changed the row since it was read.
      const rows = await tx`
        update certificates set source = ${source}, chain_pem = ${valid.chainPem},
          key = ${sealed}, names = ${leaf.names as string[]}::text[],
          not_before = ${leaf.notBefore}, not_after = ${leaf.notAfter},
          fingerprint_sha256 = ${leaf.fingerprintSha256}, updated_at = now()
        where id = ${existing.id} and key = ${existing.key}
        returning id`;
      if (rows.length === 0) {
        throw new ConflictError(`Certificate "${label}" changed meanwhile; try again`);
      }
      await notify(tx);
    });
    return { certificate: await this.#summary(label), renewed: existing.source !== "csr-pending" };
  }

  /**
   * Creates a new key (kept, sealed) and returns a CSR for `names`, to be signed by an
   * external CA; `fumi cert import NAME` with the signed certificate completes it.
   */
  async createCsr(
    name: string,
    names: readonly string[],
    keyAlgorithm: KeyAlgorithm = "ecdsa-p256",
  ): Promise<string> {
    const label = certificateLabel(name);
    await this.#refuseExisting(label);
    const request = await createCsr(names, keyAlgorithm);
    const id = await this.#nextId();
    const sealed = await this.vault.seal(null, request.keyPkcs8, keyPlacement(id));
    await this.sql.begin(async (tx) => {
      const [row] = await tx`
        insert into certificates (id, name, source, chain_pem, key, names, csr_pem)
        values (${id}, ${label}, 'csr-pending', '', ${sealed},
                ${request.names as string[]}::text[], ${request.csrPem})
        on conflict (name) do nothing
        returning id`;
      if (!row) throw new ConflictError(`Certificate "${label}" exists already`);
      await notify(tx);
    });
    return request.csrPem;
  }

  /** All certificates by name, each with where it is used. */
  async list(): Promise<CertificateSummary[]> {
    const rows = await this.sql.unsafe<CertificateRow[]>(
      `${SELECT} group by c.id order by c.name`,
    );
    return rows.map(toSummary);
  }

  /** One certificate with its chain described; NotFoundError when absent. */
  async get(name: string): Promise<CertificateDetails> {
    const summary = await this.#summary(certificateLabel(name));
    const [row] = await this.sql<{ chain_pem: string; csr_pem: string | null }[]>`
      select chain_pem, csr_pem from certificates where id = ${summary.id}`;
    const chainPem = row?.chain_pem ?? "";
    return {
      ...summary,
      chain: chainPem === "" ? [] : await describeChain(chainPem),
      chainPem,
      csrPem: row?.csr_pem ?? null,
    };
  }

  /** Deletes a certificate and its key; refused while it is assigned anywhere. */
  async remove(name: string): Promise<void> {
    const label = certificateLabel(name);
    await this.sql.begin(async (tx) => {
      const [row] = await tx<{ id: number }[]>`
        select id from certificates where name = ${label} for update`;
      if (!row) throw new NotFoundError(`No certificate "${label}"`);
      const used = await tx<{ target: string }[]>`
        select target from certificate_assignments where certificate_id = ${row.id}`;
      if (used.length > 0) {
        const targets = used.map((u) => u.target).sort(byTarget).join(", ");
        throw new ConflictError(
          `Certificate "${label}" is in use (${targets}); assign another certificate there first`,
        );
      }
      await tx`delete from certificates where id = ${row.id}`;
      await notify(tx);
    });
  }

  /** Serves certificate `name` on `target` (see {@link normalizeTarget}); returns the target. */
  async assign(target: string, name: string): Promise<string> {
    const normalized = normalizeTarget(target);
    const label = certificateLabel(name);
    await this.sql.begin(async (tx) => {
      const [row] = await tx<{ id: number; source: CertificateSource }[]>`
        select id, source from certificates where name = ${label} for share`;
      if (!row) throw new NotFoundError(`No certificate "${label}"`);
      if (row.source === "csr-pending") {
        throw new InvalidInputError(
          `Certificate "${label}" waits for its signed certificate; import it first: fumi cert import ${label} --cert FILE`,
        );
      }
      await tx`insert into certificate_assignments (target, certificate_id)
               values (${normalized}, ${row.id})
               on conflict (target) do update
               set certificate_id = excluded.certificate_id, updated_at = now()`;
      await notify(tx);
    });
    return normalized;
  }

  /** Removes an assignment (not `default`); returns the target. */
  async unassign(target: string): Promise<string> {
    const normalized = normalizeTarget(target);
    if (normalized === "default") {
      throw new InvalidInputError(
        "The default certificate cannot be unassigned; assign another one: fumi cert assign default NAME",
      );
    }
    await this.sql.begin(async (tx) => {
      const rows = await tx`
        delete from certificate_assignments where target = ${normalized} returning target`;
      if (rows.length === 0) throw new NotFoundError(`No certificate is assigned to ${normalized}`);
      await notify(tx);
    });
    return normalized;
  }

  /** The current {@link TlsSnapshot.version}, without decrypting anything. */
  async version(): Promise<string> {
    return versionOf(await this.#versionRows(this.sql));
  }

  /** Everything the TLS listeners serve, keys decrypted. */
  async snapshot(): Promise<TlsSnapshot> {
    // One consistent read for rows and version; keys are opened after it, outside the
    // transaction (the vault may need a connection of its own).
    const { rows, versionRows } = await this.sql.begin(
      "isolation level repeatable read read only",
      async (tx) => ({
        rows: await tx<SnapshotRow[]>`
          select c.id, c.name, c.source, c.chain_pem, c.key, c.names, c.not_before, c.not_after,
                 c.fingerprint_sha256,
                 coalesce(array_agg(a.target) filter (where a.target is not null), '{}') as used_by
          from certificates c left join certificate_assignments a on a.certificate_id = c.id
          where c.source <> 'csr-pending'
          group by c.id
          order by c.id`,
        versionRows: await this.#versionRows(tx),
      }),
    );
    const now = this.clock();
    const certificates = await Promise.all(rows.map(async (row) => ({
      row,
      tls: {
        name: row.name,
        certPem: row.chain_pem,
        keyPem: privateKeyPem(await this.vault.open(row.key, keyPlacement(row.id))),
        fingerprintSha256: row.fingerprint_sha256,
        notAfter: row.not_after,
      } satisfies TlsCertificate,
    })));
    const preference = (c: typeof certificates[number]) => [
      c.row.not_before <= now && now <= c.row.not_after ? 1 : 0,
      c.row.source === "self-signed" ? 0 : 1,
      c.row.not_after.getTime(),
    ];
    const better = (a: typeof certificates[number], b: typeof certificates[number]) => {
      const [pa, pb] = [preference(a), preference(b)];
      for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return pa[i]! > pb[i]!;
      return false;
    };
    const byName = new Map<string, TlsCertificate>();
    const chosen = new Map<string, typeof certificates[number]>();
    for (const c of certificates) {
      for (const host of c.row.names) {
        if (isIpAddress(host)) continue;
        const current = chosen.get(host);
        if (!current || better(c, current)) chosen.set(host, c);
      }
    }
    for (const [host, c] of chosen) byName.set(host, c.tls);
    const byTarget = new Map<string, TlsCertificate>();
    for (const c of certificates) {
      for (const target of c.row.used_by) {
        if (target.startsWith("sni:")) byName.set(target.slice(4), c.tls);
        else byTarget.set(target, c.tls);
      }
    }
    return { version: await versionOf(versionRows), byTarget, byName };
  }

  /** What `listener` serves now (its assignment, else `default`, and the SNI map). */
  async resolveForListener(listener: TlsListener): Promise<ListenerCertificates> {
    return listenerCertificates(await this.snapshot(), listener);
  }

  /**
   * Calls `onChange` with the new version whenever what listeners serve changes: on
   * `pg_notify` (immediate on PostgreSQL) and by comparing versions every `pollMs` (the
   * embedded database delivers notifications to the notifying connection only, and a
   * notification can be missed while a connection is re-established).
   */
  async watch(
    onChange: (version: string) => void,
    options: { pollMs?: number } = {},
  ): Promise<{ close(): Promise<void> }> {
    let last = await this.version();
    let checking: Promise<void> = Promise.resolve();
    let closed = false;
    const check = () => {
      checking = checking.then(async () => {
        if (closed) return;
        const version = await this.version();
        if (version !== last && !closed) {
          last = version;
          onChange(version);
        }
      }).catch(() => {}); // the next notification or poll tries again
    };
    const { unlisten } = await this.sql.listen(CERTIFICATES_CHANNEL, check);
    const timer = setInterval(check, options.pollMs ?? 30_000);
    return {
      close: async () => {
        closed = true;
        clearInterval(timer);
        await unlisten();
        await checking;
      },
    };
  }

  async #versionRows(tx: TxSql): Promise<VersionRow[]> {
    return await tx<VersionRow[]>`
      select 'c' as kind, name as key, coalesce(fingerprint_sha256, '') || ' ' || source || ' '
             || array_to_string(names, ',') as value
      from certificates where source <> 'csr-pending'
      union all
      select 'a', a.target, c.fingerprint_sha256
      from certificate_assignments a join certificates c on c.id = a.certificate_id
      order by 1, 2`;
  }

  async #assigned(target: string): Promise<CertificateSummary | null> {
    const rows = await this.sql.unsafe<CertificateRow[]>(
      `${SELECT} where c.id = (select certificate_id from certificate_assignments
                               where target = $1) group by c.id`,
      [target],
    );
    return rows[0] ? toSummary(rows[0]) : null;
  }

  async #summary(label: string): Promise<CertificateSummary> {
    const rows = await this.sql.unsafe<CertificateRow[]>(
      `${SELECT} where c.name = $1 group by c.id`,
      [label],
    );
    if (!rows[0]) throw new NotFoundError(`No certificate "${label}"`);
    return toSummary(rows[0]);
  }

  async #keyRow(
    label: string,
  ): Promise<{ id: number; source: CertificateSource; key: Uint8Array } | null> {
    const [row] = await this.sql<{ id: number; source: CertificateSource; key: Uint8Array }[]>`
      select id, source, key from certificates where name = ${label}`;
    return row ?? null;
  }

  async #refuseExisting(label: string): Promise<void> {
    const [row] = await this.sql`select 1 from certificates where name = ${label}`;
    if (row) {
      throw new ConflictError(
        `Certificate "${label}" exists already; choose another name or remove it first`,
      );
    }
  }

  async #nextId(): Promise<number> {
    const [row] = await this.sql<{ id: number }[]>`
      select nextval(pg_get_serial_sequence('certificates', 'id')) as id`;
    return row!.id;
  }

  async #insertNew(
    label: string,
    source: CertificateSource,
    valid: ValidCertificate,
    csrPem: string | null,
  ): Promise<void> {
    const id = await this.#nextId();
    const sealed = await this.vault.seal(null, valid.keyPkcs8, keyPlacement(id));
    await this.sql.begin(async (tx) => {
      await insertCertificate(tx, id, label, source, valid, sealed, csrPem);
      await notify(tx);
    });
  }
}

interface SnapshotRow {
  id: number;
  name: string;
  source: CertificateSource;
  chain_pem: string;
  key: Uint8Array;
  names: string[];
  not_before: Date;
  not_after: Date;
  fingerprint_sha256: string;
  used_by: string[];
}

interface VersionRow {
  kind: string;
  key: string;
  value: string;
}

async function versionOf(rows: readonly VersionRow[]): Promise<string> {
  const text = rows.map((r) => `${r.kind}\t${r.key}\t${r.value}`).join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

async function insertCertificate(
  tx: TxSql,
  id: number,
  label: string,
  source: CertificateSource,
  valid: ValidCertificate,
  sealed: Uint8Array,
  csrPem: string | null,
): Promise<void> {
  const leaf = valid.chain[0]!;
  const [row] = await tx`
    insert into certificates (id, name, source, chain_pem, key, names, not_before, not_after,
                              fingerprint_sha256, csr_pem)
    values (${id}, ${label}, ${source}, ${valid.chainPem}, ${sealed},
            ${leaf.names as string[]}::text[], ${leaf.notBefore}, ${leaf.notAfter},
            ${leaf.fingerprintSha256}, ${csrPem})
    on conflict (name) do nothing
    returning id`;
  if (!row) throw new ConflictError(`Certificate "${label}" exists already`);
}

async function notify(tx: TxSql): Promise<void> {
  await tx`select pg_notify(${CERTIFICATES_CHANNEL}, '')`;
}
