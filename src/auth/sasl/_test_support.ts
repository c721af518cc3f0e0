/**
 * Test support for the SASL tests: a small SCRAM-SHA-256 client (RFC 5802 §3, §5), written
 * from the RFC apart from src/crypto/scram.ts so that each checks the other, and a recording
 * logger, and the sign-in services over a test store.
 *
 * @module
 */

import { createLogger, type Logger } from "../../ops/log.ts";
import type { Store } from "../../store/mod.ts";
import { Bans, type BansOptions } from "../bans.ts";
import { Login, sqlCredentials } from "../login.ts";
import { type ScramCredentialLookup, ScramLogin, sqlScramCredentials } from "../scram_login.ts";
import type { SaslStep } from "./_common.ts";
import { Sasl } from "./mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `bytes` as UTF-8 text. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A logger writing text lines to `lines`. */
export function recordingLogger(lines: string[], now = () => new Date(0)): Logger {
  return createLogger({ level: "info", format: "text", write: (line) => lines.push(line), now });
}

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array(data)));
}

/** What the client makes of a server-first-message. */
export interface ClientFinal {
  /** client-final-message-without-proof + ",p=" + proof. */
  readonly message: string;
  /** The ServerSignature the server must send (`v=` value, base64). */
  readonly expectedSignature: string;
  /** The attributes of server-first-message. */
  readonly nonce: string;
  readonly salt: Uint8Array;
  readonly iterations: number;
}

/** One client side of a SCRAM-SHA-256 exchange without channel binding. */
export class ScramClient {
  readonly #password: string;
  readonly #clientNonce: string;
  readonly #bare: string;
  readonly #gs2Header: string;

  /** `user` is sent as given (a saslname: "," and "=" must already be escaped). */
  constructor(user: string, password: string, options: { nonce?: string; gs2?: string } = {}) {
    this.#password = password;
    this.#clientNonce = options.nonce ??
      crypto.getRandomValues(new Uint8Array(18)).toBase64();
    this.#gs2Header = options.gs2 ?? "n,,";
    this.#bare = `n=${user},r=${this.#clientNonce}`;
  }

  /** client-first-message (RFC 5802 §5.1). */
  first(): string {
    return this.#gs2Header + this.#bare;
  }

  /**
   * client-final-message for `serverFirst` (RFC 5802 §3: ClientProof := ClientKey XOR
   * HMAC(H(ClientKey), AuthMessage)). Throws when the server's nonce does not extend ours.
   */
  async final(serverFirst: string): Promise<ClientFinal> {
    const attrs = new Map(serverFirst.split(",").map((a) => [a.slice(0, 1), a.slice(2)]));
    const nonce = attrs.get("r") ?? "";
    const salt = Uint8Array.fromBase64(attrs.get("s") ?? "");
    const iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(this.#clientNonce) || nonce === this.#clientNonce) {
      throw new Error(`The server nonce ${nonce} does not extend ${this.#clientNonce}`);
    }
    const without = `c=${bytes(this.#gs2Header).toBase64()},r=${nonce}`;
    const authMessage = bytes(`${this.#bare},${serverFirst},${without}`);
    const passwordKey = await crypto.subtle.importKey(
      "raw",
      bytes(this.#password.normalize("NFC")) as Uint8Array<ArrayBuffer>,
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const salted = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(salt), iterations },
        passwordKey,
        256,
      ),
    );
    const clientKey = await hmac(salted, bytes("Client Key"));
    const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
    const clientSignature = await hmac(storedKey, authMessage);
    const proof = clientKey.map((b, i) => b ^ clientSignature[i]!);
    const serverKey = await hmac(salted, bytes("Server Key"));
    const serverSignature = await hmac(serverKey, authMessage);
    return {
      message: `${without},p=${proof.toBase64()}`,
      expectedSignature: serverSignature.toBase64(),
      nonce,
      salt,
      iterations,
    };
  }
}

/** The sign-in services over `store`, recording log lines and delays. */
export function services(
  store: Store,
  options: BansOptions & { credentials?: ScramCredentialLookup } = {},
) {
  const { credentials, ...policy } = options;
  const lines: string[] = [];
  const sleeps: number[] = [];
  const log = recordingLogger(lines);
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  const bans = new Bans(store.sql, { log, ...policy });
  const login = new Login({ bans, credentials: sqlCredentials(store.sql), log, sleep });
  const scram = new ScramLogin({
    bans,
    credentials: credentials ?? sqlScramCredentials(store.sql),
    log,
    sleep,
  });
  return { lines, sleeps, bans, login, scram, sasl: new Sasl({ login, scram }) };
}

/** The failures recorded, as "account reason" lines. */
export async function failures(store: Store): Promise<string[]> {
  const rows = await store.sql<{ account: string; reason: string }[]>`
    select account, reason from auth_failures order by id`;
  return rows.map((r) => `${r.account} ${r.reason}`);
}

/** A step as plain data for assertEquals: challenge data as text. */
export function show(step: SaslStep): Record<string, unknown> {
  switch (step.kind) {
    case "challenge":
      return { kind: "challenge", text: text(step.data) };
    case "success":
      return {
        kind: "success",
        address: step.account.address,
        ...(step.data ? { text: text(step.data) } : {}),
      };
    case "failure":
      return { kind: "failure", reason: step.reason };
  }
}
