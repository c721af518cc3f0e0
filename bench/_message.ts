/**
 * Plausible mail for benchmarks: a mailing-list message with trace and DKIM headers and a
 * wrapped plain-text body, exactly `size` bytes long. The subject, Message-ID, date and body
 * text vary with the index; the same index always gives the same bytes.
 *
 * @module
 */

const WORDS = (
  "the a of to and in for on with as by at from that this we our team report quarter budget " +
  "meeting notes review release plan schedule update server mailbox delivery queue storage " +
  "customer support ticket follow up agenda draft final version project milestone deadline " +
  "please find attached summary below thanks regards question answer issue fixed tested " +
  "deployed next week tomorrow monday friday morning afternoon office remote call minutes"
).split(" ");
const TOPICS = ["Weekly update", "Re: Release plan", "Meeting notes", "Fwd: Budget review"];
const LINE_WIDTH = 72;
const BASE_DATE = Date.UTC(2026, 10, 27, 8, 0, 0);
const encoder = new TextEncoder();

/** Returns a function that makes message `index`, `size` bytes of CRLF-terminated ASCII. */
export function messageMaker(size: number): (index: number) => Uint8Array {
  const smallest = build(0, 0).length + 200;
  if (size < smallest) {
    throw new RangeError(`A benchmark message needs at least ${smallest} bytes, got ${size}`);
  }
  return (index) => {
    const bytes = encoder.encode(build(index, size));
    if (bytes.length !== size) throw new Error(`Message ${index} is ${bytes.length} bytes`);
    return bytes;
  };
}

/** FNV-1a, 32 bits: enough to notice a message read back wrong. */
export function checksum(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** The message text; with `size` 0, only the parts that cannot be left out. */
function build(index: number, size: number): string {
  const random = xorshift(index + 1);
  const words = (n: number) => Array.from({ length: n }, () => pick(random, WORDS)).join(" ");
  const date = new Date(BASE_DATE + index * 37_000).toUTCString().replace("GMT", "+0000");
  const relay = index % 8;
  const base64 = (n: number) => btoa(String.fromCharCode(...bytesOf(random, n)));
  const signature = base64(256).match(/.{1,70}/g)!.join("\r\n\t ");
  const header = [
    `Return-Path: <updates-bounces+${index}@lists.example.net>`,
    `Received: from out-${relay}.lists.example.net (out-${relay}.lists.example.net [192.0.2.${
      10 + relay
    }])`,
    `\tby mx.bench.example (Fumi) with ESMTPS id ${hex(random, 12)}`,
    `\tfor <bench@bench.example>; ${date}`,
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=lists.example.net; s=2026a;",
    "\th=from:to:subject:date:message-id:mime-version:content-type;",
    `\tbh=${base64(32)};`,
    `\tb=${signature}`,
    "From: Team Updates <updates@lists.example.net>",
    "To: Bench User <bench@bench.example>",
    `Subject: ${TOPICS[index % TOPICS.length]} #${index + 1}: ${words(4)}`,
    `Date: ${date}`,
    `Message-ID: <${index + 1}.${hex(random, 16)}@lists.example.net>`,
    "List-Id: Team updates <updates.lists.example.net>",
    "List-Unsubscribe: <mailto:unsubscribe@lists.example.net>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8; format=flowed",
    "Content-Transfer-Encoding: 7bit",
    "",
    "Hello,",
    "",
  ].join("\r\n") + "\r\n";
  const signOff = "\r\n-- \r\nTeam Updates, lists.example.net\r\n";
  let text = header;
  // Whole lines while they fit, keeping room for a last line of at least one character.
  for (let n = 0;; n++) {
    const line = n % 7 === 6 ? "" : wrap(words(14));
    if (text.length + line.length + 2 + signOff.length + 3 > size) break;
    text += line + "\r\n";
  }
  const room = size - text.length - signOff.length - 2;
  if (room > 0) text += (words(30).slice(0, room - 1) + ".").slice(-room) + "\r\n";
  return text + signOff;
}

function wrap(line: string): string {
  if (line.length <= LINE_WIDTH) return line;
  return line.slice(0, line.lastIndexOf(" ", LINE_WIDTH));
}

/** xorshift32: a small deterministic generator, seeded per message. */
function xorshift(seed: number): () => number {
  let x = (seed * 0x9e3779b9) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function bytesOf(random: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * 256));
}

function hex(random: () => number, n: number): string {
  return Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
}
