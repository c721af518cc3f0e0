/**
 * Reverse-paths and forward-paths of MAIL and RCPT (RFC 5321 §4.1.1.2, §4.1.1.3, §4.1.2):
 * finding the `<…>` after `FROM:` / `TO:`, and turning its content into an address. Internal
 * to smtp/proto; command.ts is the public surface.
 *
 * @module
 */

import { type MailAddress, tryParseAddress } from "../../util/address.ts";
import { refuse } from "./_errors.ts";

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, "<" and ">" included. */
export const MAX_PATH_OCTETS = 256;

/** Which command a path belongs to: the replies differ (RFC 3463 X.1.7 versus X.1.3). */
export type PathRole = "sender" | "recipient";

/** A path split from its command's arguments. */
export interface SplitPath {
  /** What was between "<" and ">". */
  readonly inner: string;
  /** The ESMTP parameters after the path ("" when there are none). */
  readonly params: string;
}

const encoder = new TextEncoder();

/** The enhanced code for a bad address in this role (RFC 3463 §3.2). */
export function badAddressCode(role: PathRole): string {
  return role === "sender" ? "5.1.7" : "5.1.3";
}

/**
 * Splits `FROM:<path> params` (or `TO:…`). `prefix` is matched case-insensitively (RFC 5321
 * §2.4: verbs and argument keywords are case-insensitive). Spaces between the colon and "<"
 * are tolerated: RFC 5321 §4.1.2 has none, but clients send them and Postfix accepts them.
 */
export function splitPath(args: string, prefix: string, role: PathRole, usage: string): SplitPath {
  if (args.slice(0, prefix.length).toUpperCase() !== prefix) refuse(501, "5.5.2", usage);
  let start = prefix.length;
  while (args[start] === " ") start++;
  if (args[start] !== "<") refuse(501, "5.5.2", usage);
  // The closing ">" is the first one outside a quoted local part (RFC 5321 §4.1.2
  // Quoted-string; "\" escapes one character inside it, quoted-pairSMTP).
  let end = -1;
  let quoted = false;
  for (let i = start + 1; i < args.length; i++) {
    const ch = args[i];
    if (quoted && ch === "\\") i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ">") {
      end = i;
      break;
    }
  }
  if (end < 0) refuse(501, "5.5.2", usage);
  const path = args.slice(start, end + 1);
  if (encoder.encode(path).length > MAX_PATH_OCTETS) {
    refuse(501, badAddressCode(role), `Path too long (at most ${MAX_PATH_OCTETS} octets)`);
  }
  const rest = args.slice(end + 1);
  // RFC 5321 §4.1.1.2: Mail-parameters follow the path after a space.
  if (rest !== "" && rest[0] !== " ") refuse(501, "5.5.2", usage);
  return { inner: path.slice(1, -1), params: rest.replace(/^ +| +$/g, "") };
}

// RFC 5321 §4.1.2: A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain. The route's
// domains are not looked at beyond their shape (they are dropped), but they may be U-labels.
const SOURCE_ROUTE = /^@[^\s@,:<>]+(?:,@[^\s@,:<>]+)*:/u;

/**
 * The mailbox of a path's content (not empty, not `Postmaster`), as an address. A source
 * route is accepted and dropped (RFC 5321 §4.1.1.3: "SHOULD ... ignore the route"; Appendix
 * C). The percent hack is not interpreted: `user%other@host` is a local part with a "%" in it.
 *
 * @param utf8 whether non-ASCII is allowed in the address (RFC 6531 §3.3)
 */
export function parseMailbox(inner: string, role: PathRole, utf8: boolean): MailAddress {
  const code = badAddressCode(role);
  let mailbox = inner;
  if (mailbox.startsWith("@")) {
    const route = SOURCE_ROUTE.exec(mailbox);
    if (route === null) refuse(501, code, "Syntax error in the source route");
    mailbox = mailbox.slice(route[0].length);
  }
  // RFC 6531 §3.5: without SMTPUTF8, a non-ASCII address is refused with X.6.7 — 550 for the
  // sender, 553 for a recipient.
  if (!utf8 && /[^\p{ASCII}]/u.test(mailbox)) {
    refuse(
      role === "sender" ? 550 : 553,
      "5.6.7",
      "Non-ASCII addresses need the SMTPUTF8 parameter",
    );
  }
  // RFC 5321 §4.1.2 allows an address literal as the domain (user@[192.0.2.1]). Fumi hosts
  // named domains only and util/address.ts parses no literals, so such an address is refused
  // as one that is not allowed (553), not as a syntax error.
  const at = mailbox.lastIndexOf("@");
  if (at >= 0 && mailbox[at + 1] === "[") {
    refuse(553, code, "Address literals are not accepted as a mail domain");
  }
  const address = tryParseAddress(mailbox);
  if (address === null) {
    refuse(553, code, role === "sender" ? "Bad sender address syntax" : "Bad recipient address");
  }
  return address;
}
