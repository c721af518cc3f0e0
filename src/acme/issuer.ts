/**
 * Issuing and renewing certificates with ACME, on top of the certificate store.
 *
 * Invariants and security model:
 * - The account key (one per directory) is sealed with the system's data key and opened only
 *   here, for the length of one exchange. A certificate gets a new key at every issue and
 *   renewal; it is stored sealed by {@link Certificates.import} like every other key.
 * - HTTP-01 key authorizations are written to the database before the CA is told to validate,
 *   and removed when validation ends (the HTTP listener of any node answers them:
 *   `http01.ts`).
 * - Issued chains go through {@link Certificates.import} with source `acme`: validated, stored
 *   under the certificate's name (assignments stay), and announced to every node's listeners.
 * - One node at a time: each issue and renewal run holds the session-level advisory lock
 *   {@link ACME_LOCK} on a reserved connection (not a transaction: the exchange takes seconds and
 *   the HTTP listener must read the challenge rows meanwhile), plus an in-process mutex, since
 *   on the embedded database every connection shares one backend session and advisory locks
 *   there do not exclude anybody.
 * - Renewal at two thirds of the lifetime, exponential backoff after failures (`schedule.ts`),
 *   each failure logged as a warning and passed to `onEvent`.
 *
 * @module
 */

import {
  createCsr,
  describeChain,
  type KeyAlgorithm,
  normalizeCertName,
  privateKeyPem,
} from "../crypto/x509.ts";
import type { Logger } from "../ops/log.ts";
import {
  certificateLabel,
  type Certificates,
  type CertificateSummary,
} from "../store/certificates.ts";
import type { Sql } from "../store/db.ts";
import type { Vault } from "../store/vault.ts";
import { formatAddress, parseAddress } from "../util/address.ts";
import { decodeBase64 } from "../util/base64.ts";
import { ConflictError, FumiError, InvalidInputError } from "../util/errors.ts";
import { AcmeClient, type FetchLike, LETS_ENCRYPT_DIRECTORY } from "./client.ts";
import { importAccountKey } from "./jws.ts";
import { identifiersFor, orderCertificate } from "./order.ts";
import { isDue, retryTime } from "./schedule.ts";
import {
  accountKeyPlacement,
  ensureAccount,
  putChallenge,
  recordFailure,
  recordIssued,
  removeChallenges,
  type RenewalRow,
  renewals,
  updateAccount,
} from "./state.ts";

/** Key of the advisory lock held while issuing or renewing ("fuma" in ASCII). */
export const ACME_LOCK = 0x66756d61;
/** How long a published key authorization stays answerable at most. */
const CHALLENGE_TTL_SECONDS = 3600;

/** What happened, for whoever surfaces it (admin UI, metrics, alerts). */
export type AcmeEvent =
  | {
    readonly type: "issued";
    readonly name: string;
    readonly notAfter: Date;
    /** True for a scheduled renewal, false for `fumi cert issue`. */
    readonly renewal: boolean;
  }
  | {
    readonly type: "renewal-failed";
    readonly name: string;
    readonly error: string;
    /** Consecutive failures, this one included. */
    readonly failures: number;
    readonly nextAttemptAt: Date;
    readonly notAfter: Date;
  };

/** How to make the HTTPS transport for a directory: the global fetch, or one with extra roots. */
export type TransportFactory = (caPem: string | null) => { fetch: FetchLike; close(): void };

/** What {@link Acme} is built from. */
export interface AcmeOptions {
  readonly sql: Sql;
  readonly vault: Vault;
  readonly certificates: Certificates;
  readonly log: Logger;
  /** Decides renewal times and what is recorded; the CA's clock still rules validity. */
  readonly clock?: () => Date;
  readonly onEvent?: (event: AcmeEvent) => void;
  readonly transport?: TransportFactory;
  /** How long {@link Acme.issue} waits for another node's run; default 5 min. */
  readonly lockWaitMs?: number;
  readonly pollTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** What {@link Acme.issue} takes besides name and host names. */
export interface IssueOptions {
  /** Default: Let's Encrypt production. */
  readonly directoryUrl?: string;
  /** Contact for the account; kept from earlier runs when not given. */
  readonly email?: string;
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * Extra trust anchors (PEM) for the directory's HTTPS, for a private ACME CA; remembered for
   * renewals. Default: those remembered, else none (the default trust store only).
   */
  readonly caPem?: string;
}

/** The outcome of {@link Acme.issue}. */
export interface IssueResult {
  readonly certificate: CertificateSummary;
  /** True when a certificate of that name existed and was replaced. */
  readonly replaced: boolean;
  readonly accountCreated: boolean;
  /** The CA's terms of service, which registering an account agrees to. */
  readonly termsOfService: string | null;
}

/** The outcome of {@link Acme.renewDue}. */
export interface RenewalReport {
  /** True when another node (or run) held the lock: nothing was looked at. */
  readonly locked: boolean;
  readonly renewed: readonly string[];
  readonly failed: readonly { name: string; error: string; nextAttemptAt: Date }[];
}

/** The global fetch (default trust store) or, with `caPem`, a client that also trusts it. */
export const defaultTransport: TransportFactory = (caPem) => {
  if (caPem === null) return { fetch: (url, init) => fetch(url, init), close: () => {} };
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  return { fetch: (url, init) => fetch(url, { ...init, client }), close: () => client.close() };
};

const LOCKED = Symbol("locked");

/** Issues and renews certificates with ACME. */
export class Acme {
  readonly #options: AcmeOptions;
  readonly #clock: () => Date;
  #tail: Promise<void> = Promise.resolve();
  #busy = 0;

  constructor(options: AcmeOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
  }

  /**
   * Gets a certificate for `names` and stores it as `name` (replacing one of that name: its
   * assignments stay). HTTP-01 is answered by the HTTP listener of whichever node the CA
   * reaches; it must be on port 80 of every name. Waits while another node renews.
   */
  async issue(
    name: string,
    names: readonly string[],
    options: IssueOptions = {},
  ): Promise<IssueResult> {
    const label = certificateLabel(name);
    if (names.length === 0) throw new InvalidInputError("A certificate needs at least one name");
    const normalized = [...new Set(names.map(normalizeCertName))];
    identifiersFor(normalized); // refuses wildcards before anything is stored or sent
    const directoryUrl = checkDirectoryUrl(options.directoryUrl ?? LETS_ENCRYPT_DIRECTORY);
    const email = options.email === undefined ? undefined : contactAddress(options.email);
    if (options.caPem !== undefined) await describeChain(options.caPem); // parses, or says why not
    const result = await this.#exclusive("wait", () =>
      this.#issueLocked(label, normalized, {
        directoryUrl,
        keyAlgorithm: options.keyAlgorithm ?? "ecdsa-p256",
        ...(email === undefined ? {} : { email }),
        ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
      }, false));
    if (result === LOCKED) {
      throw new ConflictError(
        "Another node is issuing or renewing certificates; try again in a few minutes",
        { temporary: true },
      );
    }
    return result;
  }

  /**
   * Renews every ACME certificate due at `now` (two thirds of its lifetime, and past any
   * backoff). Does nothing when another node holds the lock. A failure is recorded with its
   * next attempt time, logged as a warning and sent to `onEvent`; it does not stop the others.
   */
  async renewDue(now: Date = this.#clock()): Promise<RenewalReport> {
    const result = await this.#exclusive("try", async () => {
      const renewed: string[] = [];
      const failed: { name: string; error: string; nextAttemptAt: Date }[] = [];
      // Read under the lock: another node may have just renewed.
      for (const row of await renewals(this.#options.sql)) {
        if (!isDue(row, now)) continue;
        try {
          await this.#renewOne(row);
          renewed.push(row.name);
        } catch (error) {
          failed.push(await this.#recordFailure(row, now, error));
        }
      }
      return { locked: false, renewed, failed };
    });
    return result === LOCKED ? { locked: true, renewed: [], failed: [] } : result;
  }

  /** The ACME certificates with their renewal state, by name. */
  async renewals(): Promise<RenewalRow[]> {
    return await renewals(this.#options.sql);
  }

  async #renewOne(row: RenewalRow): Promise<void> {
    await this.#issueLocked(row.name, row.names, {
      directoryUrl: row.directoryUrl,
      keyAlgorithm: row.keyAlgorithm,
    }, true);
  }

  async #recordFailure(
    row: RenewalRow,
    now: Date,
    error: unknown,
  ): Promise<{ name: string; error: string; nextAttemptAt: Date }> {
    const message = error instanceof FumiError
      ? error.message
      : `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    const failures = row.failures + 1;
    const nextAttemptAt = retryTime(failures, now, row.notAfter);
    await recordFailure(
      this.#options.sql,
      row.certificateId,
      failures,
      now,
      nextAttemptAt,
      message,
    );
    this.#options.log.warn("ACME renewal failed", {
      event: "acme_renewal_failed",
      certificate: row.name,
      failures,
      next_attempt_at: nextAttemptAt.toISOString(),
      not_after: row.notAfter.toISOString(),
      error: message,
    });
    this.#options.onEvent?.({
      type: "renewal-failed",
      name: row.name,
      error: message,
      failures,
      nextAttemptAt,
      notAfter: row.notAfter,
    });
    return { name: row.name, error: message, nextAttemptAt };
  }

  async #issueLocked(
    label: string,
    names: readonly string[],
    options: { directoryUrl: string; keyAlgorithm: KeyAlgorithm; email?: string; caPem?: string },
    renewal: boolean,
  ): Promise<IssueResult> {
    const { sql, vault, certificates, log } = this.#options;
    const account = await ensureAccount(sql, vault, options.directoryUrl);
    const caPem = options.caPem ?? account.caPem;
    const transport = (this.#options.transport ?? defaultTransport)(caPem);
    try {
      const pkcs8 = await vault.open(account.sealedKey, accountKeyPlacement(account.id));
      const accountKey = await importAccountKey(pkcs8);
      pkcs8.fill(0);
      const client = new AcmeClient({
        directoryUrl: options.directoryUrl,
        accountKey,
        fetch: transport.fetch,
        ...(this.#options.pollTimeoutMs ? { pollTimeoutMs: this.#options.pollTimeoutMs } : {}),
        ...(this.#options.requestTimeoutMs
          ? { requestTimeoutMs: this.#options.requestTimeoutMs }
          : {}),
      });
      const email = options.email ?? account.email;
      const contact = email === null ? [] : [`mailto:${email}`];
      // RFC 8555 §7.3: registering agrees to the terms of service the directory names.
      const registered = await client.account({ contact, termsOfServiceAgreed: true });
      if (
        !registered.created && options.email !== undefined && !sameList(registered.contact, contact)
      ) {
        await client.updateContact(contact);
      }
      await updateAccount(sql, account.id, { accountUrl: registered.url, email, caPem });
      const termsOfService = (await client.directory()).meta?.termsOfService ?? null;

      const request = await createCsr(names, options.keyAlgorithm);
      const chainPem = await orderCertificate(client, request.names, csrDer(request.csrPem), {
        present: (token, keyAuthorization) =>
          putChallenge(sql, token, keyAuthorization, CHALLENGE_TTL_SECONDS),
        cleanup: (tokens) => removeChallenges(sql, tokens),
      });
      const keyPem = privateKeyPem(request.keyPkcs8);
      request.keyPkcs8.fill(0);
      const { certificate, renewed } = await certificates.import(label, chainPem, keyPem, {
        source: "acme",
      });
      await recordIssued(
        sql,
        certificate.id,
        options.directoryUrl,
        options.keyAlgorithm,
        this.#clock(),
      );
      log.info(renewal ? "renewed certificate with ACME" : "issued certificate with ACME", {
        certificate: label,
        names: certificate.names.join(","),
        not_after: certificate.notAfter?.toISOString(),
        directory: options.directoryUrl,
      });
      this.#options.onEvent?.({
        type: "issued",
        name: label,
        notAfter: certificate.notAfter!,
        renewal,
      });
      return {
        certificate,
        replaced: renewed,
        accountCreated: registered.created,
        termsOfService,
      };
    } finally {
      transport.close();
    }
  }

  /**
   * Runs `fn` holding the in-process mutex and the advisory lock. "try" gives up at once when
   * either is taken; "wait" waits up to `lockWaitMs`.
   */
  async #exclusive<T>(mode: "try" | "wait", fn: () => Promise<T>): Promise<T | typeof LOCKED> {
    // Counted before the first await, so a "try" that comes while another run waits or runs
    // gives up rather than queueing behind it.
    if (mode === "try" && this.#busy > 0) return LOCKED;
    this.#busy++;
    const previous = this.#tail;
    let release = () => {};
    this.#tail = new Promise((resolve) => (release = resolve));
    try {
      await previous;
      const connection = await this.#options.sql.reserve();
      try {
        const deadline = Date.now() + (mode === "try" ? 0 : this.#options.lockWaitMs ?? 300_000);
        for (;;) {
          const [row] = await connection<{ locked: boolean }[]>`
            select pg_try_advisory_lock(${ACME_LOCK}) as locked`;
          if (row?.locked) break;
          if (Date.now() >= deadline) return LOCKED;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        try {
          return await fn();
        } finally {
          await connection`select pg_advisory_unlock(${ACME_LOCK})`;
        }
      } finally {
        connection.release();
      }
    } finally {
      this.#busy--;
      release();
    }
  }
}

/** The DER of a CSR PEM (RFC 8555 §7.4 sends it base64url-encoded). */
function csrDer(csrPem: string): Uint8Array {
  const body = csrPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, "");
  const der = decodeBase64(body);
  if (der === null) throw new FumiError("The certificate request does not decode");
  return der;
}

/** The account contact: an ASCII mail address (RFC 8555 §7.3 `mailto:` URL). */
function contactAddress(input: string): string {
  const address = formatAddress(parseAddress(input.trim()));
  if (!/^[\x21-\x7e]+$/.test(address) || /[?#%]/.test(address)) {
    throw new InvalidInputError(
      `Cannot use "${input}" as the ACME contact: give a plain ASCII address`,
    );
  }
  return address;
}

function checkDirectoryUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new InvalidInputError(`Invalid ACME directory URL "${input}"`);
  }
  // RFC 8555 §6.1: HTTPS only.
  if (url.protocol !== "https:") {
    throw new InvalidInputError(`The ACME directory URL "${input}" must start with https://`);
  }
  return url.href;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
