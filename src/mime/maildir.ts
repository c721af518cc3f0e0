/**
 * Maildir names, flags and folders, as Dovecot writes them: what `fumi import-maildir` needs to
 * read a Maildir into IMAP flags and mailbox names. Pure: names and file contents in, values out.
 *
 * - A message file's name is `UNIQUE[:2,FLAGS]`. UNIQUE starts with the delivery time in
 *   seconds (`1700000000.M1P2.host`) and may carry Dovecot's `,S=size` (the file's size) and
 *   `,W=size` (the size with CRLF line ends). The info separator is ":" (";" or "!" where ":"
 *   cannot be used in file names). FLAGS (cr.yp.to/proto/maildir.html): D draft, F flagged,
 *   P passed, R replied, S seen, T trashed; Dovecot adds a–z for keywords 0–25 of the folder's
 *   `dovecot-keywords` file.
 * - IMAP flags: D \Draft, F \Flagged, P $Forwarded (RFC 5788 registry), R \Answered, S \Seen,
 *   T \Deleted; keyword letters by the folder's keywords file (unknown letters are dropped).
 * - Folders: Maildir++ keeps each as a directory `.A.B` beside cur/new/tmp (hierarchy "A/B"),
 *   Dovecot's LAYOUT=fs as nested directories `A/B`; names are modified UTF-7 (RFC 3501
 *   §5.1.3) unless Dovecot was told UTF8, which the caller decodes.
 *
 * @module
 */

/** What a Maildir file name says. */
export interface MaildirName {
  /** Flag letters after `:2,`, "" when the message was never seen by a client (`new/`). */
  readonly flags: string;
  /** Dovecot's `S=`: the file's size, or null. */
  readonly size: number | null;
  /** Dovecot's `W=`: the size with CRLF line ends, or null. */
  readonly virtualSize: number | null;
  /** The delivery time from the name's leading number, or null. */
  readonly time: Date | null;
}

/** Reads a Maildir file name. */
export function parseMaildirName(name: string): MaildirName {
  const info = /[:;!]2,([A-Za-z]*)$/.exec(name);
  const unique = info ? name.slice(0, info.index) : name;
  const part = (letter: string) => {
    const match = new RegExp(`,${letter}=(\\d+)`).exec(unique);
    return match ? Number(match[1]) : null;
  };
  const seconds = /^(\d{9,11})\./.exec(unique);
  return {
    flags: info ? info[1]! : "",
    size: part("S"),
    virtualSize: part("W"),
    time: seconds ? new Date(Number(seconds[1]) * 1000) : null,
  };
}

const LETTERS: Readonly<Record<string, string>> = {
  D: "\\Draft",
  F: "\\Flagged",
  P: "$Forwarded",
  R: "\\Answered",
  S: "\\Seen",
  T: "\\Deleted",
};

/** IMAP flags of a file's flag letters; `keywords[i]` names lowercase letter i (a = 0). */
export function maildirFlags(letters: string, keywords: readonly (string | undefined)[]): string[] {
  const flags = new Set<string>();
  for (const letter of letters) {
    const system = LETTERS[letter];
    if (system) {
      flags.add(system);
    } else if (letter >= "a" && letter <= "z") {
      const keyword = keywords[letter.charCodeAt(0) - 0x61];
      if (keyword) flags.add(keyword);
    }
  }
  return [...flags].sort();
}

/** Parses Dovecot's `dovecot-keywords` (lines `INDEX NAME`) into names by index. */
export function parseDovecotKeywords(text: string): (string | undefined)[] {
  const keywords: (string | undefined)[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^(\d+) (\S+)$/.exec(line.trim());
    if (!match) continue;
    const index = Number(match[1]);
    if (index < 26) keywords[index] = match[2];
  }
  return keywords;
}

/**
 * The hierarchy of a Maildir++ folder directory (`.Sent` → ["Sent"], `.A.B` → ["A", "B"]);
 * null for names that are not folders (`cur`, `..`, files without the leading dot).
 */
export function maildirPlusPlusFolder(dirName: string): string[] | null {
  if (!dirName.startsWith(".") || dirName === "." || dirName === "..") return null;
  const parts = dirName.slice(1).split(".");
  return parts.every((p) => p !== "") ? parts : null;
}

/** The message with every bare LF made CRLF (Maildir files use the host's LF line ends). */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) bare++;
  }
  if (bare === 0) return bytes;
  const out = new Uint8Array(bytes.length + bare);
  let at = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) out[at++] = 0x0d;
    out[at++] = bytes[i]!;
  }
  return out;
}
