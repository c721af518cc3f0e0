/**
 * A test PKI made with openssl: a CA, and leaf certificates it signs with realistic lifetimes
 * and SANs, so TLS tests (and testssl.sh, given the CA) judge the server, not the certificate.
 *
 * @module
 */

import type { CertificatePair } from "../src/net/tls_contexts.ts";

/** A CA and a way to issue leaves from it. */
export interface TestPki {
  readonly dir: string;
  readonly caPem: string;
  readonly caFile: string;
  /** Issues a leaf for DNS names and IP addresses (the first is the CN). */
  issue(names: readonly string[], days?: number): Promise<CertificatePair & { certFile: string }>;
  remove(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Creates a CA in a temporary folder. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-pki-" });
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "365",
    "-subj",
    "/CN=Fumi Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  let serial = 0;
  return {
    dir,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    caFile: `${dir}/ca.pem`,
    issue: async (names, days = 90) => {
      const n = ++serial;
      const san = names.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`))
        .join(",");
      await Deno.writeTextFile(
        `${dir}/leaf${n}.ext`,
        // CRL and OCSP addresses as real CAs give them (testssl.sh flags certificates without).
        `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n` +
          `subjectAltName=${san}\ncrlDistributionPoints=URI:http://127.0.0.1:9/ca.crl\n` +
          `authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n`,
      );
      await openssl([
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `leaf${n}.key`,
        "-out",
        `leaf${n}.csr`,
        "-subj",
        `/CN=${names[0]}`,
      ], dir);
      await openssl([
        "x509",
        "-req",
        "-in",
        `leaf${n}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `leaf${n}.pem`,
        "-days",
        String(days),
        "-extfile",
        `leaf${n}.ext`,
      ], dir);
      const leaf = await Deno.readTextFile(`${dir}/leaf${n}.pem`);
      await Deno.writeTextFile(`${dir}/chain${n}.pem`, leaf);
      return {
        certPem: leaf,
        keyPem: await Deno.readTextFile(`${dir}/leaf${n}.key`),
        certFile: `${dir}/chain${n}.pem`,
      };
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
