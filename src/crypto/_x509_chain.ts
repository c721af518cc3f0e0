/**
 * The order of a certificate chain for x509.ts: each certificate is issued by the next (its
 * issuer is the next one's subject, and the next one's key signed it), the chain ends in a
 * self-signed root with a good signature or in an intermediate the clients know, and a lone
 * certificate is self-signed. Refusals are {@link InvalidInputError}s that say how to fix the
 * file. No trust store is consulted.
 *
 * Pure: Web Crypto and @peculiar/x509, no `Deno.*`, no `node:*`. Internal to src/crypto: other
 * modules import x509.ts.
 *
 * @module
 */

import type * as x509 from "@peculiar/x509";
import { InvalidInputError } from "../util/errors.ts";

/** RFC 5280 §6.1: each certificate's issuer is the next one's subject, and its key signed it. */
export async function checkChainOrder(
  certificates: readonly x509.X509Certificate[],
): Promise<void> {
  for (let i = 0; i + 1 < certificates.length; i++) {
    const child = certificates[i]!;
    if (await issued(certificates[i + 1]!, child)) continue;
    for (let j = 0; j < certificates.length; j++) {
      if (j !== i && j !== i + 1 && await issued(certificates[j]!, child)) {
        throw new InvalidInputError(
          `The certificates are out of order: certificate ${j + 1} ("${
            certificates[j]!.subject
          }") issued certificate ${
            i + 1
          }; put the server's certificate first, then each issuer in turn`,
        );
      }
    }
    throw new InvalidInputError(
      `Certificate ${i + 2} ("${certificates[i + 1]!.subject}") did not issue certificate ${
        i + 1
      } (issuer "${child.issuer}"): an intermediate certificate is missing or does not belong`,
    );
  }
  const last = certificates.at(-1)!;
  if (last.subject !== last.issuer) {
    if (certificates.length === 1) {
      throw new InvalidInputError(
        `Missing intermediate certificate: the file holds only the server's certificate, issued by "${last.issuer}"; append the CA's intermediate certificate(s) (its "full chain" file)`,
      );
    }
    return; // an intermediate whose root the clients hold
  }
  if (!(await issued(last, last))) {
    throw new InvalidInputError(
      `The self-signed certificate "${last.subject}" has a wrong signature`,
    );
  }
}

async function issued(issuer: x509.X509Certificate, child: x509.X509Certificate): Promise<boolean> {
  if (issuer.subject !== child.issuer) return false;
  try {
    return await child.verify({ publicKey: issuer.publicKey, signatureOnly: true }, crypto);
  } catch {
    return false; // a signature algorithm Web Crypto lacks counts as not verified
  }
}
