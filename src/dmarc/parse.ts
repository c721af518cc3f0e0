/**
 * Reading aggregate reports others send us (RFC 7489 §7.2, Appendix C): the report files in a
 * message (gzip, zip or plain XML attachments, §7.2.1.1), decompressed under limits, and the
 * `feedback` XML turned into a {@link ReceivedReport}.
 *
 * Everything here reads hostile input and is bounded:
 * - a message part is looked at only when its decoded size is at most
 *   {@link MAX_COMPRESSED_SIZE}, and decompression stops (the report is refused) past
 *   {@link MAX_XML_SIZE} octets of output: a zip bomb costs at most that much memory;
 * - zip archives are read from their central directory, one entry, stored or deflated only;
 * - XML with a document type declaration is refused before it is parsed (no entity
 *   expansion, internal or external), and fast-xml-parser runs with entities off;
 * - at most {@link MAX_RECORDS} records, strings cut to 255 characters, counts checked.
 *
 * Functions return null (or nothing) for what they cannot read; they never throw for input.
 *
 * @module
 */

import { XMLParser } from "fast-xml-parser";
import { type BodyPart, decodeBase64, getParam, parseStructure } from "../mime/mod.ts";
import { tryParseIp } from "../net/cidr.ts";
import type { DkimAuth, ReceivedReport, ReceivedRow, SpfAuth } from "../store/dmarc_reports.ts";

/** The largest attachment (after transfer decoding) read as a report. */
export const MAX_COMPRESSED_SIZE = 5 * 2 ** 20;
/** The largest report XML, after decompression. */
export const MAX_XML_SIZE = 10 * 2 ** 20;
/** The most records read from one report. */
export const MAX_RECORDS = 10_000;
/** The most report files looked at in one message. */
const MAX_FILES = 4;

/** A report file found in a message. */
export interface ReportFile {
  readonly kind: "gzip" | "zip" | "xml";
  readonly name: string;
  readonly data: Uint8Array;
}

const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip"]);
const ZIP_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/x-zip"]);
const XML_TYPES = new Set(["text/xml", "application/xml"]);

/** The parts of a message that look like report files (by media type or file name). */
export function reportFiles(raw: Uint8Array): ReportFile[] {
  const out: ReportFile[] = [];
  const visit = (part: BodyPart) => {
    if (out.length >= MAX_FILES) return;
    if (part.parts !== undefined) {
      for (const child of part.parts) visit(child);
      return;
    }
    const type = `${part.type}/${part.subtype}`;
    const name = (part.disposition ? getParam(part.disposition.params, "filename") : null) ??
      getParam(part.params, "name") ?? "";
    const lower = name.toLowerCase();
    const kind = GZIP_TYPES.has(type) || lower.endsWith(".gz")
      ? "gzip"
      : ZIP_TYPES.has(type) || lower.endsWith(".zip")
      ? "zip"
      : XML_TYPES.has(type) || lower.endsWith(".xml")
      ? "xml"
      : null;
    if (kind === null) return;
    // Base64 grows by a third; more than that cannot decode to an acceptable size.
    if (part.size > MAX_COMPRESSED_SIZE * 1.4) return;
    const body = raw.subarray(part.bodyStart, part.end);
    const data = part.encoding === "base64"
      ? decodeBase64(new TextDecoder("latin1").decode(body))
      : body;
    if (data.length > MAX_COMPRESSED_SIZE) return;
    out.push({ kind, name, data });
  };
  visit(parseStructure(raw));
  return out;
}

/** Decompresses `data` (gzip, or raw deflate of a zip entry), or null past `limit` or on error. */
export async function inflate(
  data: Uint8Array,
  format: "gzip" | "deflate-raw",
  limit = MAX_XML_SIZE,
): Promise<Uint8Array | null> {
  const reader = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream(format)).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } catch {
    return null;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * The first `.xml` entry of a zip archive (PKWARE APPNOTE 4.3: end of central directory,
 * central directory, local header), stored or deflated, or null.
 */
export async function unzip(data: Uint8Array, limit = MAX_XML_SIZE): Promise<Uint8Array | null> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (at: number) => at + 2 <= data.length ? view.getUint16(at, true) : -1;
  const u32 = (at: number) => at + 4 <= data.length ? view.getUint32(at, true) : -1;
  // APPNOTE 4.3.16: the end record is in the last 22 + 65535 octets.
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 0xffff); at--) {
    if (u32(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end === -1) return null;
  const entries = u16(end + 10);
  let at = u32(end + 16);
  for (let i = 0; i < entries && i < 64; i++) {
    if (u32(at) !== 0x02014b50) return null;
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const compressed = u32(at + 20);
    const nameLength = u16(at + 28);
    const skip = nameLength + u16(at + 30) + u16(at + 32);
    const local = u32(at + 42);
    const name = new TextDecoder().decode(data.subarray(at + 46, at + 46 + nameLength));
    at += 46 + skip;
    if (!name.toLowerCase().endsWith(".xml")) continue;
    // Zip64 (0xffffffff) and encrypted entries are not reports we read.
    if (compressed === 0xffffffff || (flags & 1) === 1) return null;
    if (u32(local) !== 0x04034b50) return null;
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > data.length) return null;
    const body = data.subarray(start, start + compressed);
    if (method === 0) return body.length <= limit ? body : null;
    if (method === 8) return await inflate(body, "deflate-raw", limit);
    return null;
  }
  return null;
}

/** The report XML of a file, decompressed under the limits, or null. */
export async function reportXml(file: ReportFile): Promise<string | null> {
  const bytes = file.kind === "gzip"
    ? await inflate(file.data, "gzip")
    : file.kind === "zip"
    ? await unzip(file.data)
    : file.data.length <= MAX_XML_SIZE
    ? file.data
    : null;
  if (bytes === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  processEntities: false,
  trimValues: true,
});

/** XML 1.0 §4.6 predefined entities and character references, decoded in a value. */
function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (_, name: string) => {
    switch (name.toLowerCase()) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const code = name[1] === "x" || name[1] === "X"
      ? parseInt(name.slice(2), 16)
      : parseInt(name.slice(1), 10);
    return code > 0x1f && code <= 0x10ffff ? String.fromCodePoint(code) : "";
  });
}

function node(value: unknown): Node | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Node
    : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function text(value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number") return "";
  // deno-lint-ignore no-control-regex -- controls never reach the database or a terminal
  return decodeEntities(String(value)).replace(/[\x00-\x1f\x7f]/g, "").trim().slice(0, 255);
}

function integer(value: unknown, max: number): number | null {
  const t = text(value);
  if (!/^\d{1,15}$/.test(t)) return null;
  const n = Number(t);
  return n <= max ? n : null;
}

/**
 * Parses a `feedback` document (RFC 7489 Appendix C) into a report, or null when it is not
 * one: no DOCTYPE, the required metadata present, every record's source IP an IP address.
 */
export function parseAggregateReport(xml: string): ReceivedReport | null {
  if (xml.length > MAX_XML_SIZE) return null;
  // No document type declaration: no entities to expand, internal or external.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return null;
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch {
    return null;
  }
  const feedback = node(document.feedback);
  const metadata = node(feedback?.report_metadata);
  const range = node(metadata?.date_range);
  const policy = node(feedback?.policy_published);
  if (feedback === null || metadata === null || range === null || policy === null) return null;
  const orgName = text(metadata.org_name);
  const reportId = text(metadata.report_id);
  const domain = text(policy.domain).toLowerCase().replace(/\.$/, "");
  const begin = integer(range.begin, 2 ** 40);
  const end = integer(range.end, 2 ** 40);
  if (orgName === "" || reportId === "" || begin === null || end === null) return null;
  if (!/^[a-z0-9_.-]+$/.test(domain)) return null;
  const records = list(feedback.record);
  if (records.length > MAX_RECORDS) return null;
  const rows: ReceivedRow[] = [];
  for (const item of records) {
    const record = node(item);
    const row = node(record?.row);
    const evaluated = node(row?.policy_evaluated);
    if (record === null || row === null || evaluated === null) return null;
    const sourceIp = text(row.source_ip);
    const count = integer(row.count, 2 ** 40);
    if (tryParseIp(sourceIp) === null || count === null) return null;
    const auth = node(record.auth_results);
    const dkim: DkimAuth[] = list(auth?.dkim).map(node).filter((d) => d !== null).map((d) => ({
      domain: text(d.domain).toLowerCase(),
      selector: text(d.selector),
      result: text(d.result).toLowerCase(),
    }));
    const spf: SpfAuth[] = list(auth?.spf).map(node).filter((s) => s !== null).map((s) => ({
      domain: text(s.domain).toLowerCase(),
      scope: text(s.scope).toLowerCase() || "mfrom",
      result: text(s.result).toLowerCase(),
    }));
    rows.push({
      sourceIp,
      count,
      disposition: text(evaluated.disposition).toLowerCase(),
      dkim: text(evaluated.dkim).toLowerCase(),
      spf: text(evaluated.spf).toLowerCase(),
      headerFrom: text(node(record.identifiers)?.header_from).toLowerCase(),
      auth: { dkim: dkim.slice(0, 32), spf: spf.slice(0, 32) },
    });
  }
  const published: Record<string, string> = {};
  for (const name of ["p", "sp", "pct", "adkim", "aspf", "fo"]) {
    const value = text(policy[name]);
    if (value !== "") published[name] = value;
  }
  return {
    orgName,
    email: text(metadata.email),
    reportId,
    domain,
    begin: new Date(begin * 1000),
    end: new Date(end * 1000),
    policy: published,
    rows,
  };
}

/** Every aggregate report in a message: its files, decompressed and parsed. */
export async function reportsInMessage(raw: Uint8Array): Promise<ReceivedReport[]> {
  const out: ReceivedReport[] = [];
  for (const file of reportFiles(raw)) {
    const xml = await reportXml(file);
    const report = xml === null ? null : parseAggregateReport(xml);
    if (report !== null) out.push(report);
  }
  return out;
}
