/**
 * The commands that manage mailboxes by name: CREATE (RFC 9051 §6.3.4, with USE of
 * SPECIAL-USE, RFC 6154 §3), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 §6.3.5-8) and
 * the quota queries GETQUOTA and GETQUOTAROOT (RFC 9208 §4.2).
 *
 * Names are returned as UTF-8, INBOX in any case as "INBOX"; `..`, `%`, `*`, controls (from
 * a literal) and hierarchy rules are the server's to judge.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import type { Reader } from "./_lexer.ts";

/** `CREATE mailbox [(USE (attributes))]`. */
export interface CreateCommand {
  readonly name: "CREATE";
  readonly mailbox: string;
  /**
   * Special-use attributes asked for (RFC 6154 §3): the seven of RFC 6154 §2 in their
   * canonical case (`\Sent`), others as written; empty when USE was not given.
   */
  readonly specialUse: readonly string[];
}

/** A command whose one argument is a mailbox name. */
export interface MailboxCommand {
  readonly name: "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE" | "GETQUOTAROOT";
  readonly mailbox: string;
}

/** `RENAME from to`. */
export interface RenameCommand {
  readonly name: "RENAME";
  readonly from: string;
  readonly to: string;
}

/** `GETQUOTA root`. */
export interface GetQuotaCommand {
  readonly name: "GETQUOTA";
  /** The quota root (RFC 9208 §4.2.1: astring, "" being common), as UTF-8. */
  readonly root: string;
}

// RFC 6154 §6: use-attr = "\All" / "\Archive" / "\Drafts" / "\Flagged" / "\Junk" /
// "\Sent" / "\Trash" / use-attr-ext
const SPECIAL_USE = new Map(
  ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"].map((a) => [
    a.toUpperCase(),
    a,
  ]),
);

/** Parses CREATE's arguments. */
export function parseCreate(r: Reader): CreateCommand {
  // RFC 9051 §9: create = "CREATE" SP mailbox; RFC 4466 §2.2: [create-params]
  r.sp("mailbox name");
  const mailbox = r.mailbox();
  let specialUse: string[] = [];
  if (r.more()) {
    r.sp("CREATE parameters");
    let seen = false;
    r.list("CREATE parameters", () => {
      const param = r.keyword("CREATE parameter");
      // RFC 6154 §6: create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"
      if (param !== "USE") r.fail(`Unknown CREATE parameter ${quote(param)}`);
      if (seen) r.fail("USE is given twice");
      seen = true;
      r.sp("special-use attributes");
      specialUse = r.list("special-use attributes", () => {
        const attribute = r.flag("special-use attribute");
        if (!attribute.startsWith("\\")) {
          r.fail(`A special-use attribute starts with "\\": ${quote(attribute)}`);
        }
        return SPECIAL_USE.get(attribute.toUpperCase()) ?? attribute;
      }, true);
    }, false);
  }
  return { name: "CREATE", mailbox, specialUse };
}

/** Parses the one mailbox name of DELETE, SUBSCRIBE, UNSUBSCRIBE and GETQUOTAROOT. */
export function parseMailboxCommand(r: Reader, name: MailboxCommand["name"]): MailboxCommand {
  r.sp("mailbox name");
  return { name, mailbox: r.mailbox() };
}

/** Parses RENAME's arguments. */
export function parseRename(r: Reader): RenameCommand {
  // RFC 9051 §9: rename = "RENAME" SP mailbox SP mailbox
  r.sp("mailbox name");
  const from = r.mailbox();
  r.sp("new mailbox name");
  return { name: "RENAME", from, to: r.mailbox("new mailbox name") };
}

/** Parses GETQUOTA's argument. */
export function parseGetQuota(r: Reader): GetQuotaCommand {
  // RFC 9208 §4.2.1: getquota = "GETQUOTA" SP quota-root-name; quota-root-name = astring
  r.sp("quota root");
  return { name: "GETQUOTA", root: r.astring("quota root") };
}
