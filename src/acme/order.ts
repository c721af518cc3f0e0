/**
 * One certificate order from start to chain (RFC 8555 §7.4–§7.5, §8.3): place the order,
 * answer each pending authorization's HTTP-01 challenge through a solver, finalise with the CSR,
 * download the chain.
 *
 * Only HTTP-01 is used: a wildcard name (which needs DNS-01, RFC 8555 §7.1.3) is refused before
 * anything is ordered. Every token a solver was given is cleaned up, whatever happens.
 *
 * @module
 */

import { isIpAddress } from "../crypto/x509.ts";
import {
  type AcmeClient,
  AcmeError,
  type Authorization,
  describeProblem,
  type Identifier,
} from "./client.ts";
import { keyAuthorization } from "./jws.ts";

/** Publishes and withdraws HTTP-01 key authorizations (RFC 8555 §8.3). */
export interface Http01Solver {
  /** Makes `http://NAME/.well-known/acme-challenge/TOKEN` answer `keyAuthorization`. */
  present(token: string, keyAuthorization: string): Promise<void>;
  /** Withdraws tokens given to {@link present}. */
  cleanup(tokens: readonly string[]): Promise<void>;
}

/** RFC 8555 §8.1: tokens are base64url, at least 128 bits of entropy. */
const TOKEN = /^[A-Za-z0-9_-]{22,256}$/;

/** The identifiers for certificate names: `ip` for addresses (RFC 8738 §3), else `dns`. */
export function identifiersFor(names: readonly string[]): Identifier[] {
  return names.map((value) => {
    if (value.startsWith("*.")) {
      throw new AcmeError(
        `Cannot get "${value}" over HTTP-01: wildcard names need DNS-01, which Fumi does not support`,
        { temporary: false },
      );
    }
    return { type: isIpAddress(value) ? "ip" : "dns", value };
  });
}

/**
 * Orders a certificate for `names` with the CSR `csrDer` and returns the chain (PEM, leaf
 * first). `client.account()` must have run.
 */
export async function orderCertificate(
  client: AcmeClient,
  names: readonly string[],
  csrDer: Uint8Array,
  solver: Http01Solver,
): Promise<string> {
  const { url: orderUrl, order } = await client.newOrder(identifiersFor(names));
  if (order.status === "invalid") {
    throw new AcmeError(
      `The order is invalid: ${order.error ? describeProblem(order.error) : "?"}`,
    );
  }
  const presented: string[] = [];
  try {
    const pending: { url: string; authorization: Authorization }[] = [];
    for (const url of order.authorizations) {
      const authorization = await client.getAuthorization(url);
      // RFC 8555 §7.1.4: a valid authorization (reused by the server) needs nothing more.
      if (authorization.status === "valid") continue;
      if (authorization.status !== "pending") {
        throw new AcmeError(
          `The authorization for ${authorization.identifier.value} is ${authorization.status}`,
        );
      }
      pending.push({ url, authorization });
    }
    for (const { authorization } of pending) {
      const challenge = authorization.challenges.find((c) => c.type === "http-01");
      const name = authorization.identifier.value;
      if (!challenge) {
        throw new AcmeError(`The ACME server offers no HTTP-01 challenge for ${name}`, {
          temporary: false,
        });
      }
      if (challenge.token === undefined || !TOKEN.test(challenge.token)) {
        throw new AcmeError(`The ACME server sent an invalid HTTP-01 token for ${name}`);
      }
      await solver.present(challenge.token, keyAuthorization(challenge.token, client.accountKey));
      presented.push(challenge.token);
      if (challenge.status === "pending") await client.respondToChallenge(challenge.url);
    }
    await Promise.all(pending.map(async ({ url }) => {
      const done = await client.waitForAuthorization(url);
      if (done.status === "valid") return;
      const failed = done.challenges.find((c) => c.type === "http-01" && c.error);
      throw new AcmeError(
        `Validation of ${done.identifier.value} failed: ${
          failed?.error ? describeProblem(failed.error) : done.status
        }`,
      );
    }));
  } finally {
    if (presented.length > 0) await solver.cleanup(presented);
  }
  // RFC 8555 §7.4: once every authorization is valid the order becomes "ready".
  const ready = await client.waitForOrder(orderUrl, ["pending"]);
  if (ready.status !== "ready" && ready.status !== "valid") {
    throw new AcmeError(
      `The order is ${ready.status}${ready.error ? `: ${describeProblem(ready.error)}` : ""}`,
    );
  }
  if (ready.status === "ready") await client.finalize(ready.finalize, csrDer);
  const issued = await client.waitForOrder(orderUrl, ["ready", "processing"]);
  if (issued.status !== "valid" || issued.certificate === undefined) {
    throw new AcmeError(
      `The order ended ${issued.status}${issued.error ? `: ${describeProblem(issued.error)}` : ""}`,
    );
  }
  return await client.downloadCertificate(issued.certificate);
}
