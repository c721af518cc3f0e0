/**
 * DNS messages (RFC 1035 §4): building a query and reading a response into Fumi's own typed
 * records. The wire format is dns-packet's; nothing outside this file sees its types, so the
 * library can be replaced without touching callers. No I/O here: bytes in, values out.
 *
 * @module
 */

import * as packet from "dns-packet";
import { Buffer } from "node:buffer";

/** The record types Fumi asks for. */
export const RECORD_TYPES = [
  "A",
  "AAAA",
  "MX",
  "TXT",
  "PTR",
  "TLSA",
  "CNAME",
  "NS",
  "SOA",
] as const;
/** A record type Fumi asks for. */
export type RecordType = typeof RECORD_TYPES[number];

/** Fields every record has. Names are lower case, without the trailing dot; TTLs in seconds. */
interface RecordBase {
  readonly name: string;
  readonly ttl: number;
}
/** An IPv4 address record (RFC 1035 §3.4.1). */
export interface ARecord extends RecordBase {
  readonly type: "A";
  readonly address: string;
}
/** An IPv6 address record (RFC 3596 §2.2). */
export interface AaaaRecord extends RecordBase {
  readonly type: "AAAA";
  readonly address: string;
}
/** A mail exchanger (RFC 1035 §3.3.9); `exchange` is "" for the null MX of RFC 7505. */
export interface MxRecord extends RecordBase {
  readonly type: "MX";
  readonly preference: number;
  readonly exchange: string;
}
/**
 * A TXT record (RFC 1035 §3.3.14). `strings` are its character-strings as sent; `text` is
 * them joined with nothing between (RFC 7208 §3.3, RFC 6376 §3.6.2.2), decoded as UTF-8.
 */
export interface TxtRecord extends RecordBase {
  readonly type: "TXT";
  readonly strings: readonly Uint8Array[];
  readonly text: string;
}
/** A name pointer (RFC 1035 §3.3.12), as used for reverse lookups. */
export interface PtrRecord extends RecordBase {
  readonly type: "PTR";
  readonly target: string;
}
/** An alias (RFC 1035 §3.3.1). */
export interface CnameRecord extends RecordBase {
  readonly type: "CNAME";
  readonly target: string;
}
/** A name server (RFC 1035 §3.3.11). */
export interface NsRecord extends RecordBase {
  readonly type: "NS";
  readonly target: string;
}
/** A TLSA record for DANE (RFC 6698 §2.1). */
export interface TlsaRecord extends RecordBase {
  readonly type: "TLSA";
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  readonly data: Uint8Array;
}
/** A zone's start of authority (RFC 1035 §3.3.13); `minimum` bounds negative caching. */
export interface SoaRecord extends RecordBase {
  readonly type: "SOA";
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly minimum: number;
}

/** Any record Fumi reads. */
export type DnsRecord =
  | ARecord
  | AaaaRecord
  | MxRecord
  | TxtRecord
  | PtrRecord
  | CnameRecord
  | NsRecord
  | TlsaRecord
  | SoaRecord;

/** The record of one type. */
export type RecordOf<T extends RecordType> = Extract<DnsRecord, { type: T }>;

/** Response codes (RFC 1035 §4.1.1, RFC 6895 §2.3). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** The name of a response code, or `RCODE<n>` for one without a name here. */
export function rcodeName(rcode: number): string {
  const entry = Object.entries(RCODE).find(([, value]) => value === rcode);
  return entry ? entry[0] : `RCODE${rcode}`;
}

/** What a query asks. */
export interface Question {
  readonly name: string;
  readonly type: RecordType;
}

/** A response, read. */
export interface Response {
  readonly id: number;
  readonly rcode: number;
  /** TC: the answer did not fit; ask again over TCP (RFC 1035 §4.2.1, RFC 7766 §5). */
  readonly truncated: boolean;
  /** AD: the server says it validated the answer with DNSSEC (RFC 4035 §3.2.3). */
  readonly authenticated: boolean;
  readonly question: Question | null;
  readonly answers: readonly DnsRecord[];
  readonly authorities: readonly DnsRecord[];
}

/** How a query is built. */
export interface QueryOptions {
  /** Set EDNS0's DO bit, asking for DNSSEC records and the AD bit (RFC 3225 §3, RFC 6840 §5.7). */
  readonly dnssec?: boolean;
  /** The largest UDP answer we accept (RFC 6891 §6.2.5); 1232 avoids fragmentation. */
  readonly udpPayloadSize?: number;
}

/** The UDP payload size advertised by default (DNS flag day 2020). */
export const DEFAULT_UDP_PAYLOAD = 1232;

/** Lower case, no trailing dot: the form names are compared and cached in. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Encodes a recursive query with EDNS0 (RFC 6891). */
export function encodeQuery(
  id: number,
  question: Question,
  options: QueryOptions = {},
): Uint8Array {
  const flags = packet.RECURSION_DESIRED | (options.dnssec ? packet.AUTHENTIC_DATA : 0);
  const bytes = packet.encode({
    type: "query",
    id,
    flags,
    questions: [{ name: canonicalName(question.name), type: question.type, class: "IN" }],
    additionals: [{
      type: "OPT",
      name: ".",
      udpPayloadSize: options.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: options.dnssec ? packet.DNSSEC_OK : 0,
      flag_do: options.dnssec ?? false,
      options: [],
    }],
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A datagram or TCP message that is not a well-formed DNS response. */
export class MalformedResponseError extends Error {}

/**
 * Decodes a response; throws {@link MalformedResponseError} for bytes that are not one. Records
 * of other types or classes than Fumi reads are left out.
 */
export function decodeResponse(bytes: Uint8Array): Response {
  try {
    return read(packet.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  } catch (error) {
    if (error instanceof MalformedResponseError) throw error;
    // A peer's bytes: whatever dns-packet or the reading below trips over is their fault.
    throw new MalformedResponseError(`Cannot decode DNS message: ${String(error)}`);
  }
}

function read(decoded: packet.DecodedPacket): Response {
  if (!decoded.flag_qr) throw new MalformedResponseError("DNS message is a query");
  const flags = decoded.flags ?? 0;
  const first = decoded.questions?.[0];
  const question = first && isRecordType(first.type)
    ? { name: canonicalName(first.name), type: first.type }
    : null;
  return {
    id: decoded.id ?? 0,
    rcode: flags & 0xf, // RFC 1035 §4.1.1; extended RCODEs (RFC 6891 §6.1.3) are not read
    truncated: decoded.flag_tc,
    authenticated: decoded.flag_ad,
    question,
    answers: records(decoded.answers),
    authorities: records(decoded.authorities),
  };
}

/** True when a response answers this query: same ID and the same question (RFC 5452 §4). */
export function answersQuery(response: Response, id: number, question: Question): boolean {
  return response.id === id && response.question !== null &&
    response.question.type === question.type &&
    response.question.name === canonicalName(question.name);
}

function isRecordType(type: string): type is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(type);
}

function records(answers: packet.Answer[] | undefined): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const answer of answers ?? []) {
    if (answer.type === "OPT" || (answer.class !== undefined && answer.class !== "IN")) continue;
    const record = toRecord(answer);
    if (record !== null) out.push(record);
  }
  return out;
}

function toRecord(answer: packet.Answer): DnsRecord | null {
  if (answer.type === "OPT") return null;
  const base = { name: canonicalName(answer.name), ttl: answer.ttl ?? 0 };
  switch (answer.type) {
    case "A":
    case "AAAA":
      return { ...base, type: answer.type, address: answer.data };
    case "PTR":
    case "CNAME":
    case "NS":
      return { ...base, type: answer.type, target: canonicalName(answer.data) };
    case "MX":
      return {
        ...base,
        type: "MX",
        preference: answer.data.preference ?? 0,
        exchange: canonicalName(answer.data.exchange),
      };
    case "TXT": {
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      const strings = parts.map((part) =>
        typeof part === "string" ? new TextEncoder().encode(part) : new Uint8Array(part)
      );
      return { ...base, type: "TXT", strings, text: joinStrings(strings) };
    }
    case "TLSA":
      return {
        ...base,
        type: "TLSA",
        usage: answer.data.usage,
        selector: answer.data.selector,
        matchingType: answer.data.matchingType,
        data: new Uint8Array(answer.data.certificate),
      };
    case "SOA":
      return {
        ...base,
        type: "SOA",
        mname: canonicalName(answer.data.mname),
        rname: canonicalName(answer.data.rname),
        serial: answer.data.serial ?? 0,
        minimum: answer.data.minimum ?? 0,
      };
    default:
      return null;
  }
}

// RFC 7208 §3.3: the character-strings of one TXT record are concatenated without spaces.
function joinStrings(strings: readonly Uint8Array[]): string {
  const joined = new Uint8Array(strings.reduce((sum, s) => sum + s.length, 0));
  let offset = 0;
  for (const s of strings) {
    joined.set(s, offset);
    offset += s.length;
  }
  return new TextDecoder().decode(joined);
}
