/**
 * The message content of DATA (dot-terminated, RFC 5321 §4.1.1.4) and BDAT (length-delimited,
 * RFC 3030), received sans-IO: feed bytes as they arrive, read back the content, the problem
 * and, for DATA, where the message ended.
 *
 * Invariants:
 * - Only CRLF "." CRLF ends DATA (RFC 5321 §4.1.1.4). A LF without CR before it, or a CR
 *   without LF after it, is a problem the moment it is seen — in "dot" mode a fatal one,
 *   because another server may read the end of the message somewhere else (SMTP smuggling:
 *   `\n.\r\n`, `\r.\r\n`, `\n.\n` hide a second message inside the first).
 * - The outcome depends on the bytes only, never on how they were split into chunks: the state
 *   between two pushes is a handful of flags and counters, and every check is made per octet
 *   position.
 * - Work is linear in the input; each content octet is copied once, into 64 KiB blocks (so a
 *   client that sends one octet per packet cannot make us keep one array per octet).
 * - Buffering is bounded: content beyond `maxSize`, a line beyond `maxLineLength` or a header
 *   beyond `maxHeaderSize` is a problem, after which nothing more is kept (only counted).
 *
 * @module
 */

/** What can be wrong with received content. */
export type DataProblem = "bare-lf" | "bare-cr" | "line-too-long" | "too-big" | "header-too-big";

/** The bounds of one message. */
export interface DataReceiverOptions {
  /** Largest content accepted, in octets after dot-unstuffing (RFC 1870 §6). */
  readonly maxSize: number;
  /** Longest line in octets, CRLF included, a stuffed dot not (RFC 5321 §4.5.3.1.6); 1000. */
  readonly maxLineLength?: number;
  /** Largest header block: the lines before the first empty line, with their CRLFs. */
  readonly maxHeaderSize: number;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets, CRLF included. */
const DEFAULT_MAX_LINE_LENGTH = 1000;
const BLOCK_SIZE = 64 * 1024;

/** What one octet did: stays in the content, is left out, ended the data, or ended the read. */
type Step = typeof KEEP | typeof SKIP | typeof END | typeof FATAL;
const KEEP = 0;
const SKIP = 1;
const END = 2;
const FATAL = 3;

function checkBound(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`DataReceiver option ${name} must be an integer >= ${min}, not ${value}`);
  }
  return value;
}

/**
 * Receives one message's content. In "dot" mode (DATA) it finds the end and removes the
 * transparency dots; in "raw" mode (BDAT) the caller feeds exactly the chunks' octets and calls
 * {@link DataReceiver.finish} after the last one.
 *
 * @example
 * ```ts
 * const receiver = new DataReceiver("dot", { maxSize: 1 << 20, maxHeaderSize: 64 << 10 });
 * const bytes = new TextEncoder().encode("Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
 * receiver.push(bytes); // 25: the rest, "QUIT\r\n", is the next command
 * receiver.done; // true
 * receiver.takeContent(); // ["Subject: hi\r\n\r\n.dot\r\n"] as bytes
 * ```
 */
export class DataReceiver {
  readonly #dot: boolean;
  readonly #maxSize: number;
  /** Content octets a line may have before its CRLF. */
  readonly #maxLine: number;
  readonly #maxHeaderSize: number;

  #done = false;
  #fatal = false;
  #problem: DataProblem | null = null;
  #size = 0;
  /** Content octets of the current line so far (no CR, LF or stuffed dot). */
  #lineLength = 0;
  /** The next octet is the first of a line. */
  #lineStart = true;
  /** The previous octet was a CR. */
  #cr = false;
  /** "dot" mode: this line's first octet was a dot, removed (RFC 5321 §4.5.2). */
  #dotLine = false;
  /** "dot" mode: the pending CR followed a lone dot, so an LF now ends the data. */
  #atEnd = false;
  #inHeader = true;
  #headerSize = 0;

  #chunks: Uint8Array[] = [];
  #block: Uint8Array | null = null;
  #blockLength = 0;

  /** @throws {RangeError} for a bound that is not a non-negative integer. */
  constructor(mode: "dot" | "raw", options: DataReceiverOptions) {
    this.#dot = mode === "dot";
    this.#maxSize = checkBound("maxSize", options.maxSize, 0);
    const line = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#maxLine = checkBound("maxLineLength", line, 3) - 2;
    this.#maxHeaderSize = checkBound("maxHeaderSize", options.maxHeaderSize, 0);
  }

  /** "dot" mode: the end-of-data line was seen. "raw" mode: {@link finish} was called. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The first problem seen, or null. "bare-lf"/"bare-cr" in "dot" mode replace any earlier
   * problem and end the read: the caller must stop right away (reply 5xx and close the
   * connection: where the message ends is ambiguous). Other problems: keep feeding until
   * done, then reply (the content is no longer stored).
   */
  get problem(): DataProblem | null {
    return this.#problem;
  }

  /** Octets of message content so far (after dot-unstuffing), counted even after a problem. */
  get size(): number {
    return this.#size;
  }

  /**
   * Feeds received bytes. For "dot" mode returns how many of `chunk`'s bytes belong to the
   * message (including the terminating CRLF.CRLF, or up to the octet that showed a fatal
   * problem); the rest are pipelined commands. Once done or fatal, returns 0. For "raw" mode
   * every byte is consumed. The chunk is not kept: content is copied out of it.
   *
   * @throws {Error} in "raw" mode after {@link finish}.
   */
  push(chunk: Uint8Array): number {
    if (!this.#dot && this.#done) throw new Error("DataReceiver.push() after finish()");
    if (this.#done || this.#fatal) return 0;
    const n = chunk.length;
    let i = 0;
    let runStart = 0; // content from here to i is still to be stored
    let nextCR = -2; // cached positions of the next CR / LF at or after i; -1: none
    let nextLF = -2;
    while (i < n) {
      if (!this.#cr && !this.#lineStart) {
        // Inside a line: everything up to the next CR or LF is plain text.
        if (nextCR !== -1 && nextCR < i) nextCR = chunk.indexOf(CR, i);
        if (nextLF !== -1 && nextLF < i) nextLF = chunk.indexOf(LF, i);
        const stop = Math.min(nextCR === -1 ? n : nextCR, nextLF === -1 ? n : nextLF);
        if (stop > i) {
          this.#text(stop - i);
          i = stop;
          continue;
        }
      }
      const step = this.#octet(chunk[i]!);
      if (step === SKIP) {
        this.#store(chunk, runStart, i);
        runStart = i + 1;
      } else if (step === END || step === FATAL) {
        this.#store(chunk, runStart, i);
        return i + 1;
      }
      i++;
    }
    this.#store(chunk, runStart, n);
    return n;
  }

  /**
   * "raw" mode: call after the LAST BDAT chunk. A final CR without its LF is "bare-cr"; a
   * final line without CRLF is accepted as it is. Calling it again does nothing.
   *
   * @throws {Error} in "dot" mode.
   */
  finish(): void {
    if (this.#dot) throw new Error("DataReceiver.finish() is for raw mode");
    if (this.#done) return;
    this.#done = true;
    // RFC 5321 §2.3.8: CR only as part of CRLF.
    if (this.#cr) this.#report("bare-cr");
    else if (this.#lineLength > 0) this.#endHeaderLine(this.#lineLength);
  }

  /**
   * The message content (dot-unstuffed, CRLF line endings kept, terminator removed), as
   * chunks; each call returns what arrived since the previous one, so content can be streamed
   * out while it arrives. Empty once a problem was seen (content is not kept after one).
   */
  takeContent(): Uint8Array[] {
    if (this.#problem !== null) return [];
    if (this.#block !== null && this.#blockLength > 0) {
      this.#chunks.push(this.#block.slice(0, this.#blockLength));
      this.#blockLength = 0;
    }
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }

  /** One octet that is a CR or LF, follows a CR, or starts a line. */
  #octet(b: number): Step {
    if (this.#cr) {
      this.#cr = false;
      if (b === LF) {
        if (this.#atEnd) { // RFC 5321 §4.1.1.4: CRLF "." CRLF ends the mail data
          this.#done = true;
          return END;
        }
        this.#count(1);
        this.#endLine();
        return KEEP;
      }
      // RFC 5321 §2.3.8: CR may only appear as part of CRLF.
      if (this.#report("bare-cr")) return FATAL;
      // "raw" mode goes on: the CR stays content and `b` is an ordinary octet.
    }
    if (this.#lineStart) {
      this.#lineStart = false;
      // RFC 5321 §4.5.2: a line starting with "." has that dot removed.
      if (this.#dot && b === DOT) {
        this.#dotLine = true;
        return SKIP;
      }
    }
    if (b === CR) {
      this.#cr = true;
      this.#atEnd = this.#dotLine && this.#lineLength === 0;
      if (this.#atEnd) return SKIP; // the terminator's CR (or a fatal bare CR)
      this.#count(1);
      return KEEP;
    }
    if (b === LF) {
      // RFC 5321 §2.3.8: LF may only appear as part of CRLF.
      if (this.#report("bare-lf")) return FATAL;
      this.#count(1);
      this.#endLine();
      return KEEP;
    }
    this.#text(1);
    return KEEP;
  }

  /** `n` content octets that are neither CR nor LF, at the current position. */
  #text(n: number): void {
    const lineRoom = this.#maxLine - this.#lineLength;
    const sizeRoom = this.#maxSize - this.#size;
    this.#lineLength += n;
    this.#size += n;
    if (this.#problem !== null) return;
    // Which bound the run crosses first, as if checked octet by octet (line, then size).
    const overLine = n > lineRoom;
    const overSize = n > sizeRoom;
    // RFC 5321 §4.5.3.1.6: text line length, not counting a stuffed dot.
    if (overLine && (!overSize || lineRoom <= sizeRoom)) this.#report("line-too-long");
    else if (overSize) this.#report("too-big"); // RFC 1870 §6
  }

  /** `n` content octets (CR or LF) that do not count towards the line length. */
  #count(n: number): void {
    this.#size += n;
    if (this.#size > this.#maxSize) this.#report("too-big"); // RFC 1870 §6
  }

  #endLine(): void {
    if (this.#inHeader) {
      // RFC 5322 §2.1: the first empty line ends the header section.
      if (this.#lineLength === 0) this.#inHeader = false;
      else this.#endHeaderLine(this.#lineLength + 2);
    }
    this.#lineLength = 0;
    this.#lineStart = true;
    this.#dotLine = false;
  }

  #endHeaderLine(octets: number): void {
    if (!this.#inHeader) return;
    this.#headerSize += octets;
    if (this.#headerSize > this.#maxHeaderSize) this.#report("header-too-big");
  }

  /** Records a problem; returns true when it ends the read ("dot" mode, bare CR or LF). */
  #report(problem: DataProblem): boolean {
    const fatal = this.#dot && (problem === "bare-lf" || problem === "bare-cr");
    if (this.#problem === null || fatal) {
      this.#problem = problem;
      this.#chunks = [];
      this.#block = null;
      this.#blockLength = 0;
    }
    if (fatal) this.#fatal = true;
    return fatal;
  }

  /** Copies `chunk[start, end)` into the content blocks (nothing after a problem). */
  #store(chunk: Uint8Array, start: number, end: number): void {
    let from = start;
    while (from < end && this.#problem === null) {
      if (this.#block === null) this.#block = new Uint8Array(BLOCK_SIZE);
      const count = Math.min(end - from, BLOCK_SIZE - this.#blockLength);
      this.#block.set(chunk.subarray(from, from + count), this.#blockLength);
      this.#blockLength += count;
      from += count;
      if (this.#blockLength === BLOCK_SIZE) {
        this.#chunks.push(this.#block);
        this.#block = null;
        this.#blockLength = 0;
      }
    }
  }
}
