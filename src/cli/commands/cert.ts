/**
 * `fumi cert list|show|import|csr|self-signed|assign|unassign|remove|issue`.
 *
 * Certificates live in the database (src/store/certificates.ts); running listeners reload
 * them after every change, so none of these commands needs a restart. Private keys are never
 * printed: `csr` prints only the request, and `show --pem` only the public chain.
 *
 * `issue` gets a certificate with ACME (src/acme/); the CA's HTTP-01 requests are answered by
 * the HTTP listener of a running `fumi serve` (any node), which reads the tokens this command
 * stores in the database.
 *
 * @module
 */

import { Acme, LETS_ENCRYPT_DIRECTORY } from "../../acme/mod.ts";
import { coversName, formatFingerprint, type KeyAlgorithm } from "../../crypto/x509.ts";
import {
  type CertificateDetails,
  type CertificateSummary,
  normalizeTarget,
  TLS_LISTENERS,
} from "../../store/mod.ts";
import { FumiError, InvalidInputError, UsageError } from "../../util/errors.ts";
import { expectPositional, parseArgs, type ParsedArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { commandLogger, withStore } from "../context.ts";
import type { CliIo } from "../io.ts";

const DAY_MS = 24 * 3600 * 1000;
const TARGETS = `default, ${TLS_LISTENERS.join(", ")}, or a host name for SNI`;

/** `default`, a listener or `sni:<host>`; an invalid target is a usage error. */
function targetArgument(text: string): string {
  try {
    return normalizeTarget(text);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new UsageError(`${error.message}; targets: ${TARGETS}`);
    }
    throw error;
  }
}

/** At least `min` positional arguments, named in the usage line. */
function positionalAtLeast(args: ParsedArgs, min: number, what: string, usage: string): string[] {
  if (args.positional.length < min) throw new UsageError(`Missing ${what}; usage: ${usage}`);
  return [...args.positional];
}

function keyAlgorithm(args: ParsedArgs): KeyAlgorithm {
  return args.booleans.has("rsa") ? "rsa-2048" : "ecdsa-p256";
}

function day(date: Date | null): string {
  return date === null ? "-" : date.toISOString().slice(0, 10);
}

/** Whole days until `notAfter`, "expired", or "-" while a CSR is pending. */
export function daysLeft(notAfter: Date | null, now: Date = new Date()): string {
  if (notAfter === null) return "-";
  const ms = notAfter.getTime() - now.getTime();
  return ms < 0 ? "expired" : String(Math.floor(ms / DAY_MS));
}

/** Formats certificates as an aligned table. */
export function certificateTable(
  certificates: readonly CertificateSummary[],
  now: Date = new Date(),
): string[] {
  const rows = [["NAME", "NAMES", "NOT AFTER", "DAYS LEFT", "SOURCE", "USED BY"]];
  for (const c of certificates) {
    rows.push([
      c.name,
      c.names.join(",") || "-",
      day(c.notAfter),
      daysLeft(c.notAfter, now),
      c.source,
      c.usedBy.join(",") || "-",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

const list: Command = {
  name: "list",
  usage: "fumi cert list",
  summary: "List certificates: names, expiry, source and where each is used.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    expectPositional(args, [], list.usage);
    await withStore(io, args, async (store) => {
      const certificates = await store.certificates.list();
      if (certificates.length === 0) {
        io.out("No certificates; a self-signed one is made when fumi serve first starts.");
        return;
      }
      for (const line of certificateTable(certificates)) io.out(line);
    });
  },
};

/** The lines of `fumi cert show`. */
export function describeCertificate(c: CertificateDetails, now: Date = new Date()): string[] {
  const lines = [
    `Name:         ${c.name}`,
    `Source:       ${c.source}`,
    `Names:        ${c.names.join(", ") || "(none)"}`,
  ];
  const leaf = c.chain[0];
  if (leaf) {
    lines.push(
      `Subject:      ${leaf.subject}`,
      `Issuer:       ${leaf.issuer}`,
      `Serial:       ${leaf.serialNumber}`,
      `Not before:   ${leaf.notBefore.toISOString()}`,
      `Not after:    ${leaf.notAfter.toISOString()} (${
        daysLeft(leaf.notAfter, now).replace(/^(\d+)$/, "$1 days left")
      })`,
      `Fingerprint:  SHA256 ${formatFingerprint(leaf.fingerprintSha256)}`,
      `Key:          ${leaf.keyAlgorithm}`,
      `Chain:        ${c.chain.length} certificate${c.chain.length === 1 ? "" : "s"}`,
    );
    c.chain.forEach((info, i) =>
      lines.push(`  ${i + 1}. ${info.subject}${info.selfIssued ? " (self-signed)" : ""}`)
    );
  } else {
    lines.push(
      `Status:       waiting for the signed certificate: fumi cert import ${c.name} --cert FILE`,
    );
  }
  lines.push(`Used by:      ${c.usedBy.join(", ") || "(nothing)"}`);
  return lines;
}

const show: Command = {
  name: "show",
  usage: "fumi cert show NAME [--pem]",
  summary: "Show a certificate: names, dates, fingerprint, issuer, chain, where it is used.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["pem"], string: ["config"] });
    const [name] = expectPositional(args, ["NAME"], show.usage);
    await withStore(io, args, async (store) => {
      const details = await store.certificates.get(name!);
      for (const line of describeCertificate(details)) io.out(line);
      if (!args.booleans.has("pem")) return;
      const pem = details.chainPem || details.csrPem || "";
      for (const line of pem.replace(/\n$/, "").split("\n")) io.out(line);
    });
  },
};

async function readInput(io: CliIo, path: string, what: string): Promise<string> {
  if (path === "-") return await io.readStdin();
  const full = path.startsWith("/") ? path : `${io.cwd}/${path}`;
  try {
    return await Deno.readTextFile(full);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new FumiError(`Cannot read the ${what} file "${path}": ${reason}`);
  }
}

const importCommand: Command = {
  name: "import",
  usage: "fumi cert import NAME --cert FILE [--key FILE]",
  summary:
    "Store a PEM chain (server certificate first) and its key; an existing NAME is renewed. " +
    "Without --key, completes `fumi cert csr NAME`. FILE - reads standard input.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "cert", "key"] });
    const [name] = expectPositional(args, ["NAME"], importCommand.usage);
    const certPath = args.strings.get("cert");
    const keyPath = args.strings.get("key");
    if (certPath === undefined) {
      throw new UsageError(`Missing --cert FILE; usage: ${importCommand.usage}`);
    }
    if (certPath === "-" && keyPath === "-") {
      throw new UsageError("Only one of --cert and --key can read standard input");
    }
    const chainPem = await readInput(io, certPath, "certificate");
    const keyPem = keyPath === undefined ? undefined : await readInput(io, keyPath, "key");
    await withStore(io, args, async (store) => {
      const { certificate, renewed } = await store.certificates.import(name!, chainPem, keyPem);
      await audit(io, store, renewed ? "cert.renew" : "cert.import", certificate.name, {
        names: certificate.names,
        notAfter: certificate.notAfter?.toISOString() ?? null,
      });
      io.out(
        `${renewed ? "Renewed" : "Imported"} ${certificate.name}: ${
          certificate.names.join(", ") || "no names"
        }, valid until ${day(certificate.notAfter)}.`,
      );
      io.out(
        certificate.usedBy.length > 0
          ? `In use by ${certificate.usedBy.join(", ")}; listeners reload it now.`
          : `Not in use yet; assign it with: fumi cert assign TARGET ${certificate.name}`,
      );
    });
  },
};

const csr: Command = {
  name: "csr",
  usage: "fumi cert csr NAME DNSNAME… [--rsa]",
  summary: "Make a key (kept) and print a CSR for an external CA; import the answer under NAME.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["rsa"], string: ["config"] });
    const [name, ...names] = positionalAtLeast(args, 2, "DNSNAME", csr.usage);
    await withStore(io, args, async (store) => {
      const pem = await store.certificates.createCsr(name!, names, keyAlgorithm(args));
      await audit(io, store, "cert.csr", name!.toLowerCase(), { names });
      for (const line of pem.replace(/\n$/, "").split("\n")) io.out(line);
      // On stderr, so that `fumi cert csr … > request.csr` holds the request alone.
      io.err(
        `Send this request to your CA, then run: fumi cert import ${
          name!.toLowerCase()
        } --cert SIGNED.pem`,
      );
    });
  },
};

const selfSigned: Command = {
  name: "self-signed",
  usage: "fumi cert self-signed NAME DNSNAME… [--days N] [--rsa]",
  summary: "Make and store a self-signed certificate (90 days unless --days).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["rsa"], string: ["config", "days"] });
    const [name, ...names] = positionalAtLeast(args, 2, "DNSNAME", selfSigned.usage);
    const daysText = args.strings.get("days");
    const days = daysText === undefined ? undefined : Number(daysText);
    if (days !== undefined && (!/^\d+$/.test(daysText!) || days < 1 || days > 3650)) {
      throw new UsageError(`Invalid --days "${daysText}": use a whole number from 1 to 3650`);
    }
    await withStore(io, args, async (store) => {
      const certificate = await store.certificates.createSelfSigned(name!, names, {
        keyAlgorithm: keyAlgorithm(args),
        ...(days === undefined ? {} : { validityDays: days }),
      });
      await audit(io, store, "cert.self-signed", certificate.name, { names: certificate.names });
      io.out(
        `Created self-signed ${certificate.name}: ${certificate.names.join(", ")}, valid until ${
          day(certificate.notAfter)
        }.`,
      );
    });
  },
};

const assign: Command = {
  name: "assign",
  usage: "fumi cert assign TARGET NAME",
  summary: `Serve certificate NAME on TARGET: ${TARGETS}.`,
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [targetText, name] = expectPositional(args, ["TARGET", "NAME"], assign.usage);
    const target = targetArgument(targetText!);
    await withStore(io, args, async (store) => {
      await store.certificates.assign(target, name!);
      await audit(io, store, "cert.assign", target, { certificate: name!.toLowerCase() });
      const certificate = await store.certificates.get(name!);
      io.out(`Assigned ${certificate.name} to ${target}; listeners reload it now.`);
      const host = target.startsWith("sni:") ? target.slice(4) : null;
      const valid = host === null || certificate.names.includes(host) ||
        (!host.startsWith("*.") && coversName(certificate.names, host));
      if (!valid) {
        io.out(
          `Warning: ${certificate.name} is not valid for ${host} (it names ${
            certificate.names.join(", ") || "nothing"
          }); clients will refuse it.`,
        );
      }
    });
  },
};

const unassign: Command = {
  name: "unassign",
  usage: "fumi cert unassign TARGET",
  summary: "Stop serving a certificate on TARGET (not default: assign another one instead).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [targetText] = expectPositional(args, ["TARGET"], unassign.usage);
    const target = targetArgument(targetText!);
    await withStore(io, args, async (store) => {
      await store.certificates.unassign(target);
      await audit(io, store, "cert.unassign", target);
      io.out(
        target.startsWith("sni:")
          ? `Unassigned ${target}; clients asking for it get the certificate naming it, or the listener's.`
          : `Unassigned ${target}; it serves the default certificate now.`,
      );
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi cert remove NAME",
  summary: "Delete a certificate and its key (refused while it is assigned).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [name] = expectPositional(args, ["NAME"], remove.usage);
    await withStore(io, args, async (store) => {
      await store.certificates.remove(name!);
      await audit(io, store, "cert.remove", name!.toLowerCase());
      io.out(`Removed certificate ${name!.toLowerCase()} and its key.`);
    });
  },
};

const issue: Command = {
  name: "issue",
  usage: "fumi cert issue NAME DNSNAME… [--directory URL] [--email ADDRESS] [--ca FILE] [--rsa]",
  summary:
    "Get a certificate over ACME (Let's Encrypt unless --directory) and renew it automatically. " +
    "The CA checks http://DNSNAME/.well-known/acme-challenge/, answered by fumi serve's HTTP " +
    "listener (port 80). --ca FILE: extra root for a private CA's HTTPS.",
  run: async (io, argv) => {
    const args = parseArgs(argv, {
      boolean: ["rsa"],
      string: ["config", "directory", "email", "ca"],
    });
    const [name, ...names] = positionalAtLeast(args, 2, "DNSNAME", issue.usage);
    const directoryUrl = args.strings.get("directory") ?? LETS_ENCRYPT_DIRECTORY;
    if (!/^https:\/\/[^/]/i.test(directoryUrl) || !URL.canParse(directoryUrl)) {
      throw new UsageError(
        `Invalid --directory "${directoryUrl}": give the https:// URL of an ACME directory`,
      );
    }
    const email = args.strings.get("email");
    const caPath = args.strings.get("ca");
    const caPem = caPath === undefined ? undefined : await readInput(io, caPath, "CA certificate");
    await withStore(io, args, async (store) => {
      const acme = new Acme({
        sql: store.sql,
        vault: store.vault,
        certificates: store.certificates,
        log: commandLogger(io),
      });
      const result = await acme.issue(name!, names, {
        directoryUrl,
        keyAlgorithm: keyAlgorithm(args),
        ...(email === undefined ? {} : { email }),
        ...(caPem === undefined ? {} : { caPem }),
      });
      const certificate = result.certificate;
      await audit(io, store, "cert.issue", certificate.name, {
        names: certificate.names,
        directory: directoryUrl,
      });
      if (result.accountCreated) {
        io.out(
          `Registered an ACME account with ${directoryUrl}${
            result.termsOfService
              ? `, accepting its terms of service: ${result.termsOfService}`
              : ""
          }.`,
        );
      }
      io.out(
        `${result.replaced ? "Replaced" : "Issued"} ${certificate.name}: ${
          certificate.names.join(", ")
        }, valid until ${day(certificate.notAfter)}; renewed automatically.`,
      );
      io.out(
        certificate.usedBy.length > 0
          ? `In use by ${certificate.usedBy.join(", ")}; listeners reload it now.`
          : `Not in use yet; assign it with: fumi cert assign TARGET ${certificate.name}`,
      );
    });
  },
};

/** `fumi cert`. */
export const certCommand = group("cert", "Manage TLS certificates.", [
  list,
  show,
  importCommand,
  csr,
  selfSigned,
  assign,
  unassign,
  remove,
  issue,
]);
