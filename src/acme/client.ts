/**
 * An ACME client (RFC 8555): directory, nonces, account, orders, authorizations, HTTP-01
 * challenges, finalisation and certificate download. Transport only — what to store and when to
 * renew is decided in `issuer.ts`.
 *
 * Why not the acme-client package: it does not load under Fumi's permission set (its `debug`
 * dependency enumerates the whole environment, which `--allow-env=FUMI_*` refuses), and it
 * takes extra trust anchors only through a process-wide axios agent. This client uses `fetch`,
 * whose trust can be given per client (`Deno.createHttpClient({ caCerts })`), and Web Crypto.
 *
 * Hostile-server bounds: every request has a timeout, every response body a size limit, every
 * poll a deadline; every URL the server hands out must be https; responses are parsed with zod
 * before use; redirects are not followed.
 *
 * @module
 */

import { type AccountKey, base64url, signJws } from "./jws.ts";
import {
  accountSchema,
  AcmeError,
  type Authorization,
  authorizationSchema,
  type Directory,
  directorySchema,
  ERROR_PREFIX,
  type Identifier,
  type Order,
  orderSchema,
  parse,
  parseRetryAfter,
  problemError,
  readLimited,
  readProblem,
  requireHttps,
} from "./wire.ts";

export {
  AcmeError,
  type Authorization,
  type Challenge,
  describeProblem,
  type Directory,
  type Identifier,
  type Order,
  parseRetryAfter,
  type Problem,
} from "./wire.ts";

/** The shortest wait between two polls of an order or authorization. */
const MIN_POLL_MS = 250;
/** Let's Encrypt's production directory, the default of `fumi cert issue`. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt's staging directory (untrusted certificates, generous rate limits). */
export const LETS_ENCRYPT_STAGING_DIRECTORY =
  "https://acme-staging-v02.api.letsencrypt.org/directory";

/** The fetch function the client uses (the global one, or one with its own trust). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Largest JSON response read (directories, orders and authorizations are a few KiB). */
const MAX_JSON_BYTES = 256 * 1024;
/** Largest certificate chain read (matches MAX_CHAIN_PEM_LENGTH of crypto/x509.ts). */
const MAX_CHAIN_BYTES = 256 * 1024;
/** RFC 8555 §6.5: retry a request refused for its nonce, a few times. */
const MAX_BAD_NONCE_RETRIES = 5;
const USER_AGENT = "Fumi (ACME client; RFC 8555)";

/** What {@link AcmeClient} is built from. */
export interface AcmeClientOptions {
  readonly directoryUrl: string;
  readonly accountKey: AccountKey;
  /** Defaults to the global fetch (Deno's default trust store). */
  readonly fetch?: FetchLike;
  /** Waits between polls; replaceable in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Per request; default 30 s. */
  readonly requestTimeoutMs?: number;
  /** How long an authorization or order may stay pending or processing; default 2 min. */
  readonly pollTimeoutMs?: number;
}

interface Reply {
  readonly response: Response;
  readonly body: Uint8Array;
}

/** One account's conversation with one ACME server. */
export class AcmeClient {
  readonly directoryUrl: string;
  readonly accountKey: AccountKey;
  readonly #fetch: FetchLike;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #requestTimeoutMs: number;
  readonly #pollTimeoutMs: number;
  #directory: Directory | null = null;
  #nonce: string | null = null;
  #accountUrl: string | null = null;

  constructor(options: AcmeClientOptions) {
    this.directoryUrl = requireHttps(options.directoryUrl, "directory");
    this.accountKey = options.accountKey;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#pollTimeoutMs = options.pollTimeoutMs ?? 120_000;
  }

  /** The account URL (`kid`) once {@link account} has run. */
  get accountUrl(): string | null {
    return this.#accountUrl;
  }

  /** The directory (RFC 8555 §7.1.1), read once. */
  async directory(): Promise<Directory> {
    if (this.#directory) return this.#directory;
    const reply = await this.#send(this.directoryUrl, { method: "GET" }, MAX_JSON_BYTES);
    if (reply.response.status !== 200) {
      throw problemError(
        "Cannot read the ACME directory",
        readProblem(reply.body),
        reply.response.status,
      );
    }
    const directory = parse(directorySchema, reply.body, "directory");
    for (const url of [directory.newNonce, directory.newAccount, directory.newOrder]) {
      requireHttps(url, "directory entry");
    }
    this.#directory = directory;
    return directory;
  }

  /**
   * Finds or creates the account of this key (RFC 8555 §7.3). An existing account is returned
   * as it is (§7.3.1); use {@link updateContact} to change its contact.
   */
  async account(
    options: { contact: readonly string[]; termsOfServiceAgreed: boolean },
  ): Promise<{ url: string; created: boolean; contact: readonly string[] }> {
    const directory = await this.directory();
    if (directory.meta?.externalAccountRequired) {
      throw new AcmeError(
        "This ACME server requires external account binding, which Fumi does not support",
        { temporary: false },
      );
    }
    const reply = await this.#post(directory.newAccount, {
      termsOfServiceAgreed: options.termsOfServiceAgreed,
      contact: options.contact,
    }, { jwk: true, what: "Cannot register the ACME account" });
    const url = reply.response.headers.get("location");
    if (!url) throw new AcmeError("The ACME server named no account URL (Location)");
    this.#accountUrl = requireHttps(url, "account");
    const account = parse(accountSchema, reply.body, "account");
    if (account.status !== "valid") {
      throw new AcmeError(`The ACME account is ${account.status}`, { temporary: false });
    }
    return {
      url: this.#accountUrl,
      created: reply.response.status === 201,
      contact: account.contact ?? [],
    };
  }

  /** Replaces the account's contact addresses (RFC 8555 §7.3.2). */
  async updateContact(contact: readonly string[]): Promise<void> {
    await this.#post(this.#kid(), { contact }, { what: "Cannot update the ACME account" });
  }

  /** Places an order (RFC 8555 §7.4); returns its URL and the order. */
  async newOrder(identifiers: readonly Identifier[]): Promise<{ url: string; order: Order }> {
    const directory = await this.directory();
    const reply = await this.#post(directory.newOrder, { identifiers }, {
      what: "The ACME server refused the order",
    });
    const url = reply.response.headers.get("location");
    if (!url) throw new AcmeError("The ACME server named no order URL (Location)");
    return { url: requireHttps(url, "order"), order: this.#order(reply) };
  }

  /** Reads an order (POST-as-GET, RFC 8555 §6.3). */
  async getOrder(url: string): Promise<Order> {
    return this.#order(await this.#post(url, null, { what: "Cannot read the order" }));
  }

  /** Reads an authorization (RFC 8555 §7.5). */
  async getAuthorization(url: string): Promise<Authorization> {
    const reply = await this.#post(url, null, { what: "Cannot read the authorization" });
    const authorization = parse(authorizationSchema, reply.body, "authorization");
    for (const challenge of authorization.challenges) requireHttps(challenge.url, "challenge");
    return authorization;
  }

  /** Tells the server the challenge can be validated now (RFC 8555 §7.5.1). */
  async respondToChallenge(url: string): Promise<void> {
    await this.#post(url, {}, { what: "The ACME server refused the challenge response" });
  }

  /**
   * Polls an authorization until it leaves `pending` (RFC 8555 §7.5.1), honouring Retry-After;
   * returns it (valid, invalid, …).
   */
  async waitForAuthorization(url: string): Promise<Authorization> {
    return await this.#poll(url, "authorization", ["pending"], (reply) => {
      const authorization = parse(authorizationSchema, reply.body, "authorization");
      return { status: authorization.status, value: authorization };
    });
  }

  /** Polls an order while its status is one of `waiting` (RFC 8555 §7.4). */
  async waitForOrder(url: string, waiting: readonly string[]): Promise<Order> {
    return await this.#poll(url, "order", waiting, (reply) => {
      const order = this.#order(reply);
      return { status: order.status, value: order };
    });
  }

  /** Sends the CSR (DER) to the order's finalize URL (RFC 8555 §7.4). */
  async finalize(url: string, csrDer: Uint8Array): Promise<Order> {
    return this.#order(
      await this.#post(url, { csr: base64url(csrDer) }, {
        what: "The ACME server refused to finalise the order",
      }),
    );
  }

  /** Downloads the certificate chain, PEM, leaf first (RFC 8555 §7.4.2). */
  async downloadCertificate(url: string): Promise<string> {
    const reply = await this.#post(url, null, {
      what: "Cannot download the certificate",
      accept: "application/pem-certificate-chain",
      maxBytes: MAX_CHAIN_BYTES,
    });
    return new TextDecoder().decode(reply.body);
  }

  #kid(): string {
    if (this.#accountUrl === null) throw new Error("AcmeClient.account() must run first");
    return this.#accountUrl;
  }

  #order(reply: Reply): Order {
    const order = parse(orderSchema, reply.body, "order");
    requireHttps(order.finalize, "finalize");
    for (const url of order.authorizations) requireHttps(url, "authorization");
    if (order.certificate !== undefined) requireHttps(order.certificate, "certificate");
    return order;
  }

  async #poll<T>(
    url: string,
    what: string,
    waiting: readonly string[],
    read: (reply: Reply) => { status: string; value: T },
  ): Promise<T> {
    const deadline = Date.now() + this.#pollTimeoutMs;
    let delay = MIN_POLL_MS;
    for (;;) {
      const reply = await this.#post(url, null, { what: `Cannot read the ${what}` });
      const { status, value } = read(reply);
      if (!waiting.includes(status)) return value;
      const retryAfter = parseRetryAfter(reply.response.headers.get("retry-after"));
      // Retry-After is a lower bound on our own growing backoff: a server that keeps answering 0
      // (or a date in the past) still gets polls further and further apart.
      const wait = Math.min(Math.max(retryAfter ?? 0, delay), 60_000);
      if (Date.now() + wait > deadline) {
        throw new AcmeError(
          `The ${what} is still ${status} after ${Math.round(this.#pollTimeoutMs / 1000)} s`,
        );
      }
      await this.#sleep(wait);
      delay = Math.min(delay * 2, 5_000);
    }
  }

  /** A signed POST (RFC 8555 §6.2), retried on badNonce (§6.5). `payload` null: POST-as-GET. */
  async #post(
    url: string,
    payload: unknown,
    options: { what: string; jwk?: boolean; accept?: string; maxBytes?: number },
  ): Promise<Reply> {
    for (let attempt = 0;; attempt++) {
      const nonce = await this.#takeNonce();
      const jws = await signJws(
        this.accountKey,
        options.jwk ? { url, nonce } : { url, nonce, kid: this.#kid() },
        payload,
      );
      const reply = await this.#send(url, {
        method: "POST",
        headers: {
          "content-type": "application/jose+json",
          ...(options.accept ? { accept: options.accept } : {}),
        },
        body: JSON.stringify(jws),
      }, options.maxBytes ?? MAX_JSON_BYTES);
      if (reply.response.status < 400) return reply;
      const problem = readProblem(reply.body);
      if (problem.type === `${ERROR_PREFIX}badNonce` && attempt < MAX_BAD_NONCE_RETRIES) continue;
      throw problemError(options.what, problem, reply.response.status);
    }
  }

  /** A nonce from the last response, else a fresh one (RFC 8555 §7.2). */
  async #takeNonce(): Promise<string> {
    const saved = this.#nonce;
    this.#nonce = null;
    if (saved !== null) return saved;
    const directory = await this.directory();
    const reply = await this.#send(directory.newNonce, { method: "HEAD" }, 0);
    const nonce = this.#nonce as string | null;
    this.#nonce = null;
    if (!reply.response.ok || nonce === null) {
      throw new AcmeError(`The ACME server gave no nonce (HTTP ${reply.response.status})`);
    }
    return nonce;
  }

  async #send(url: string, init: RequestInit, maxBytes: number): Promise<Reply> {
    requireHttps(url, "request");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#requestTimeoutMs);
    try {
      const response = await this.#fetch(url, {
        ...init,
        headers: { "user-agent": USER_AGENT, ...(init.headers as Record<string, string>) },
        redirect: "manual",
        signal: controller.signal,
      });
      // RFC 8555 §6.5: every response carries a fresh nonce; keep the last one.
      const nonce = response.headers.get("replay-nonce");
      if (nonce !== null && /^[A-Za-z0-9_-]{1,256}$/.test(nonce)) this.#nonce = nonce;
      const body = await readLimited(response, maxBytes, url);
      return { response, body };
    } catch (error) {
      if (error instanceof AcmeError) throw error;
      const reason = controller.signal.aborted
        ? `no answer in ${this.#requestTimeoutMs / 1000} s`
        : failureReason(error);
      throw new AcmeError(`Cannot reach the ACME server at ${new URL(url).origin}: ${reason}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Deno's fetch says only "fetch failed" and puts the reason (refused connection, untrusted
 * certificate) in `cause`: show the most specific part.
 */
function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : "";
  const detail = cause.split(/: (?=[a-z])/).slice(-2).join(": ");
  return detail === "" ? error.message : detail;
}
