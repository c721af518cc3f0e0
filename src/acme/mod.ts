/**
 * ACME (RFC 8555): certificates from Let's Encrypt or any ACME CA, validated over HTTP-01,
 * stored in the certificate store, renewed at two thirds of their lifetime.
 *
 * - `client.ts`   the protocol: directory, nonces, JWS-signed requests, account, orders
 * - `wire.ts`     the JSON objects and problem documents, parsed and bounded
 * - `jws.ts`      ES256 JWS, JWK thumbprints, key authorizations
 * - `order.ts`    one order from identifiers to chain, challenges through a solver
 * - `issuer.ts`   {@link Acme}: issue and renew under the advisory lock, backoff, events
 * - `schedule.ts` when a certificate is due, how long to back off — pure
 * - `renewal.ts`  the loop the server starts ({@link startRenewal})
 * - `http01.ts`   the handler the HTTP listener mounts for `/.well-known/acme-challenge/`
 * - `state.ts`    the rows (migrations/0004_acme.sql)
 *
 * Security model:
 * - Account keys (ECDSA P-256, one per directory) and certificate keys are sealed with the
 *   system's data key; neither is logged or printed.
 * - The CA is reached over HTTPS only, with Deno's default trust store; a private CA's root can
 *   be added per directory (`fumi cert issue --ca FILE`), never process-wide.
 * - Everything the CA sends is bounded (time, size) and parsed before use.
 * - Key authorizations are public by design (the CA fetches them over plain HTTP); they live in
 *   the database only while a validation runs.
 *
 * | standard                                           | status                                       |
 * | -------------------------------------------------- | -------------------------------------------- |
 * | RFC 8555 ACME: account, order, authz, finalize     | yes                                          |
 * | RFC 8555 §8.3 HTTP-01                              | yes                                          |
 * | RFC 8555 §8.4 DNS-01, RFC 8737 TLS-ALPN-01         | no (wildcards therefore unsupported)         |
 * | RFC 8555 §7.3.4 external account binding           | no                                           |
 * | RFC 8555 §7.6 revocation, §7.3.5 key roll-over     | no                                           |
 * | RFC 8738 IP identifiers                            | yes                                          |
 * | RFC 7515 JWS (ES256), RFC 7638 JWK thumbprint      | yes                                          |
 * | RFC 9773 ACME renewal information (ARI)            | no: renewal at two thirds of the lifetime    |
 *
 * @module
 */

export {
  AcmeClient,
  AcmeError,
  LETS_ENCRYPT_DIRECTORY,
  LETS_ENCRYPT_STAGING_DIRECTORY,
} from "./client.ts";
export { CHALLENGE_PREFIX, http01Handler, storedChallenges } from "./http01.ts";
export {
  Acme,
  ACME_LOCK,
  type AcmeEvent,
  type AcmeOptions,
  defaultTransport,
  type IssueOptions,
  type IssueResult,
  type RenewalReport,
  type TransportFactory,
} from "./issuer.ts";
export { type RenewalLoop, type RenewalLoopOptions, startRenewal } from "./renewal.ts";
export { backoffMs, isDue, renewalTime, retryTime } from "./schedule.ts";
