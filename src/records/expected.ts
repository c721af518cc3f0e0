/**
 * The DNS records a hosted domain publishes so that other servers deliver its mail to Fumi and
 * trust the mail Fumi sends for it, in zone-file form: what `fumi domain dns` prints and what
 * `fumi domain check` looks for (check.ts).
 *
 * @module
 */

import { type DkimAlgorithm, dkimRecordName, dkimRecordText, zoneStrings } from "../dkim/mod.ts";

/** A published DKIM key, as the store lists it. */
export interface DkimPublication {
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  readonly publicKey: Uint8Array;
}

/** What a domain's records are made from. */
export interface DomainSetup {
  /** The hosted domain (A-labels). */
  readonly domain: string;
  /** This server's host name: the MX target and the name its PTR must give. */
  readonly hostname: string;
  readonly dkim: readonly DkimPublication[];
  /** The id of the MTA-STS policy we serve for it (src/mtasts/publish.ts); null: none. */
  readonly mtaStsId: string | null;
}

/** The kinds of record, each checked in its own way (check.ts). */
export type RecordKind =
  | "address"
  | "mx"
  | "spf"
  | "dkim"
  | "dmarc"
  | "mta-sts"
  | "mta-sts-host"
  | "tls-rpt"
  | "ptr";

/** One record to publish. */
export interface ExpectedRecord {
  readonly kind: RecordKind;
  /** The owner name, without the final dot. */
  readonly name: string;
  readonly type: "A" | "CNAME" | "MX" | "TXT" | "PTR";
  /** The value in zone-file form. */
  readonly value: string;
  /** Where it comes from, for the zone-file comment. */
  readonly note: string;
  /** Not strictly needed for mail to flow, but recommended: a finding is a warning only. */
  readonly recommended?: boolean;
}

/** The address clients must reach, shown as a documentation address (RFC 5737) to replace. */
export const ADDRESS_PLACEHOLDER = "192.0.2.1";

/** The records of `setup`, in the order an administrator would publish them. */
export function expectedRecords(setup: DomainSetup): ExpectedRecord[] {
  const { domain, hostname } = setup;
  return [
    {
      kind: "address",
      name: hostname,
      type: "A",
      value: ADDRESS_PLACEHOLDER,
      note: "the server's IPv4 address (and AAAA for IPv6)",
    },
    {
      kind: "ptr",
      name: `(reverse of the server's address)`,
      type: "PTR",
      value: `${hostname}.`,
      // Receivers check FCrDNS (RFC 8601 §3 iprev); only the address's owner can set it.
      note: "ask your hosting provider; receivers check that it names the server",
      recommended: true,
    },
    { kind: "mx", name: domain, type: "MX", value: `10 ${hostname}.`, note: "RFC 5321 §5.1" },
    { kind: "spf", name: domain, type: "TXT", value: '"v=spf1 mx -all"', note: "RFC 7208" },
    ...setup.dkim.map((key): ExpectedRecord => ({
      kind: "dkim",
      name: dkimRecordName(key.selector, domain),
      type: "TXT",
      value: zoneStrings(dkimRecordText(key.algorithm, key.publicKey)),
      note: key.algorithm === "ed25519-sha256" ? "RFC 8463" : "RFC 6376",
    })),
    {
      kind: "dmarc",
      name: `_dmarc.${domain}`,
      type: "TXT",
      value: `"v=DMARC1; p=reject; rua=mailto:postmaster@${domain}"`,
      note: "RFC 7489",
    },
    ...(setup.mtaStsId === null ? [] : [
      {
        kind: "mta-sts",
        name: `_mta-sts.${domain}`,
        type: "TXT",
        value: `"v=STSv1; id=${setup.mtaStsId}"`,
        note: "RFC 8461 §3.1",
        recommended: true,
      } as const,
      {
        kind: "mta-sts-host",
        name: `mta-sts.${domain}`,
        type: "CNAME",
        value: `${hostname}.`,
        note: "serves the policy over HTTPS (RFC 8461 §3.3)",
        recommended: true,
      } as const,
    ]),
    {
      kind: "tls-rpt",
      name: `_smtp._tls.${domain}`,
      type: "TXT",
      value: `"v=TLSRPTv1; rua=mailto:postmaster@${domain}"`,
      note: "RFC 8460",
      recommended: true,
    },
  ];
}

/**
 * The records as zone-file lines with a comment each, the short ones aligned (DKIM keys, a few
 * hundred characters long, are not padded to each other); the PTR as a comment only.
 */
export function zoneLines(records: readonly ExpectedRecord[]): string[] {
  const short = records.filter((r) => r.kind !== "ptr" && r.kind !== "dkim");
  const width = (field: (r: ExpectedRecord) => string) =>
    Math.max(...short.map((r) => field(r).length));
  const [name, type, value] = [
    width((r) => `${r.name}.`),
    width((r) => r.type),
    width((r) => r.value),
  ];
  const lines = records.filter((r) => r.kind !== "ptr").map((r) =>
    r.kind === "dkim"
      ? `${r.name}.  ${r.type}  ${r.value}  ; ${r.note}`
      : `${`${r.name}.`.padEnd(name)}  ${r.type.padEnd(type)}  ${
        r.value.padEnd(value)
      }  ; ${r.note}`
  );
  for (const ptr of records.filter((r) => r.kind === "ptr")) {
    lines.push(`; PTR of the server's address → ${ptr.value}  (${ptr.note})`);
  }
  return lines;
}
