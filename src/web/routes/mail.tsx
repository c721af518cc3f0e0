/**
 * Reading mail: the folder list with unread counts, a folder's messages (newest first, 50 a
 * page, found by UID so that a page of a large mailbox costs what the first does), one message
 * (headers, its text escaped, its HTML sanitised and shown in a sandboxed frame served by
 * {@link MESSAGE_BODY_PATH} under its own CSP), and the actions on it: flag,
 * unflag, mark read or unread, move to Trash, mark as junk or not junk. Every change goes
 * through the store's methods (flags with a new modseq, MOVE as IMAP's), so IMAP clients see
 * it as if another client had made it.
 *
 * @module
 */

import { Hono } from "hono";
import { z } from "zod";
import { type AddressItem, decodedName, decodeTransfer, parseStructure } from "../../mime/mod.ts";
import type { Mailbox } from "../../store/mod.ts";
import { type WebDeps, type WebEnv, WebError } from "../context.ts";
import {
  findMessage,
  type FolderEntry,
  folders,
  messagePage,
  type MessageRow,
} from "../mail_pages.ts";
import { RenderCache, type RenderedMessage } from "../message_view.ts";
import { ATTACHMENT_PATH, MESSAGE_BODY_PATH, messageBodyCsp } from "../middleware/security.ts";
import { contentDisposition, partAt } from "../attachment.ts";
import { FRAME_SANDBOX, messageParts } from "../render/mod.ts";
import { requireSession } from "../middleware/session.ts";
import type { Assets } from "../static_files.ts";
import { Page, type SignedInChrome } from "../views/layout.tsx";
import { problemsOf } from "./validation.ts";

const folderName = z.string({ error: "Choose a folder" }).min(1, "Choose a folder").max(
  1000,
  "The folder name is too long",
);
const uid = z.coerce.number({ error: "The message number is missing" }).int(
  "The message number is not a whole number",
).min(1, "The message number must be positive").max(2 ** 32 - 1, "The message number is too large");

const position = z.coerce.number({ error: "The position in the list must be a number" }).int(
  "The position in the list must be a whole number",
).min(1, "The position in the list must be positive").max(
  2 ** 32,
  "The position in the list is too large",
);
const listQuery = z.object({
  folder: folderName.default("INBOX"),
  before: position.optional(),
  after: position.optional(),
}).refine((q) => q.before === undefined || q.after === undefined, {
  error: "Ask for older or newer messages, not both",
});
const messageQuery = z.object({ folder: folderName, uid, remote: z.enum(["0", "1"]).optional() });
const partQuery = z.object({
  folder: folderName,
  uid,
  part: z.string({ error: "The part number is missing" }).regex(
    /^\d{1,4}(?:\.\d{1,4}){0,31}$/,
    "The part number is malformed",
  ),
});

/** What the action form may ask for. */
export const ACTIONS = ["flag", "unflag", "read", "unread", "trash", "junk", "not-junk"] as const;
const actionForm = z.object({
  folder: folderName,
  uid,
  action: z.enum(ACTIONS, { error: "Unknown action" }),
});

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new WebError(400, problemsOf(parsed.error).join("; "));
  return parsed.data;
}

function listUrl(folder: string, cursor: { before?: number; after?: number } = {}): string {
  const query = new URLSearchParams({ folder });
  if (cursor.before !== undefined) query.set("before", String(cursor.before));
  if (cursor.after !== undefined) query.set("after", String(cursor.after));
  return `/mail?${query}`;
}

function messageUrl(path: string, folder: string, uid: number, extra = {}): string {
  return `${path}?${new URLSearchParams({ folder, uid: String(uid), ...extra })}`;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

function Folders(props: { entries: readonly FolderEntry[]; current: string }) {
  return (
    <nav class="folders" id="folders" aria-label="Folders">
      <ul>
        {props.entries.map(({ mailbox, unseen }) => (
          <li>
            <a
              href={listUrl(mailbox.name)}
              aria-current={mailbox.name === props.current ? "page" : undefined}
            >
              <span class="name">{mailbox.name}</span>
              {unseen > 0 && <span class="count" aria-label={`${unseen} unread`}>{unseen}</span>}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Row(props: { folder: string; row: MessageRow }) {
  const { row } = props;
  const unread = !row.flags.includes("\\Seen");
  const flagged = row.flags.includes("\\Flagged");
  return (
    <li class={unread ? "message unread" : "message"} data-uid={String(row.uid)}>
      <a href={messageUrl("/mail/read", props.folder, row.uid)}>
        <span class="from">{row.from || "(no sender)"}</span>
        <span class="subject">{row.subject || "(no subject)"}</span>
        <span class="marks">
          {unread && <span class="mark" title="Unread" aria-label="Unread">●</span>}
          {flagged && <span class="mark flag" title="Flagged" aria-label="Flagged">⚑</span>}
          {row.hasAttachment && (
            <span class="mark" title="Has attachments" aria-label="Has attachments">📎</span>
          )}
        </span>
        <time datetime={row.date.toISOString()}>{dateFormat.format(row.date)}</time>
      </a>
    </li>
  );
}

function Shell(
  props: {
    assets: Assets;
    title: string;
    chrome: SignedInChrome;
    entries: readonly FolderEntry[];
    current: string;
    mailboxId: number;
    children?: unknown;
  },
) {
  return (
    <Page title={props.title} assets={props.assets} chrome={props.chrome}>
      <div class="mail" data-events={`/events?${new URLSearchParams({ folder: props.current })}`}>
        <Folders entries={props.entries} current={props.current} />
        <section class="pane">{props.children}</section>
      </div>
    </Page>
  );
}

function ActionButton(
  props: { csrf: string; folder: string; uid: number; action: string; label: string },
) {
  return (
    <form method="post" action="/mail/action">
      <input type="hidden" name="_csrf" value={props.csrf} />
      <input type="hidden" name="folder" value={props.folder} />
      <input type="hidden" name="uid" value={String(props.uid)} />
      <input type="hidden" name="action" value={props.action} />
      <button type="submit">{props.label}</button>
    </form>
  );
}

function addressLine(list: AddressItem[] | null): string {
  if (!list) return "";
  return list
    .filter((a) => a.mailbox !== null && a.host !== null)
    .map((a) => {
      const name = decodedName(a);
      return name ? `${name} <${a.mailbox}@${a.host}>` : `${a.mailbox}@${a.host}`;
    })
    .join(", ");
}

function size(octets: number): string {
  if (octets < 1024) return `${octets} B`;
  if (octets < 1024 * 1024) return `${(octets / 1024).toFixed(1)} KiB`;
  return `${(octets / 1024 / 1024).toFixed(1)} MiB`;
}

/** The mail routes. */
export function mailRoutes(deps: WebDeps, assets: Assets): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const { store } = deps;
  // /mail/read and /mail/body share one rendering of a message.
  const rendered = new RenderCache(deps.render);
  app.use("*", requireSession(deps.sessions));

  const mailboxOf = async (accountId: number, name: string): Promise<Mailbox> => {
    const mailbox = await store.mailboxes.find(accountId, name);
    if (!mailbox) throw new WebError(404, `There is no folder "${name}"`);
    return mailbox;
  };
  const specialUse = async (accountId: number, use: "\\Trash" | "\\Junk"): Promise<Mailbox> => {
    const found = (await store.mailboxes.list(accountId)).find((b) => b.specialUse === use);
    if (!found) throw new WebError(409, `There is no ${use.slice(1)} folder`);
    return found;
  };

  app.get("/", async (c) => {
    const session = c.get("session");
    const query = parse(listQuery, c.req.query());
    const mailbox = await mailboxOf(session.accountId, query.folder);
    const [entries, page] = await Promise.all([
      folders(store, store.sql, session.accountId),
      messagePage(
        store,
        session.accountId,
        mailbox,
        query.after !== undefined
          ? { after: query.after }
          : query.before !== undefined
          ? { before: query.before }
          : {},
      ),
    ]);
    const chrome = { address: session.address, csrfToken: session.csrfToken };
    return c.html(
      <Shell
        assets={assets}
        title={mailbox.name}
        chrome={chrome}
        entries={entries}
        current={mailbox.name}
        mailboxId={mailbox.id}
      >
        <h1>{mailbox.name}</h1>
        <div id="list">
          {page.rows.length === 0
            ? <p class="empty">No messages.</p>
            : (
              <ul class="messages" aria-label={`Messages in ${mailbox.name}`}>
                {page.rows.map((row) => <Row key={row.uid} folder={mailbox.name} row={row} />)}
              </ul>
            )}
          {(page.newer !== null || page.older !== null) && (
            <nav class="pages" aria-label="Pages">
              {page.newer !== null && (
                <a href={listUrl(mailbox.name, { after: page.newer })} rel="prev">← Newer</a>
              )}
              {page.older !== null && (
                <a href={listUrl(mailbox.name, { before: page.older })} rel="next">Older →</a>
              )}
            </nav>
          )}
        </div>
      </Shell>,
    );
  });

  app.get("/read", async (c) => {
    const session = c.get("session");
    const query = parse(messageQuery, c.req.query());
    const mailbox = await mailboxOf(session.accountId, query.folder);
    const found = await findMessage(store.sql, mailbox.id, query.uid);
    if (!found) throw new WebError(404, "The message is not there any more");
    const cache = await store.messages.readCache(session.accountId, found.messageId);
    // Opening a message marks it read, as IMAP's FETCH BODY[] does (RFC 9051 §6.4.5) — when
    // the user opened it: from our own pages or the address bar, not from a link on another
    // site of the same site (Fetch Metadata: same-site passes SameSite=Strict).
    const site = c.req.header("sec-fetch-site");
    const ownDoing = site === undefined || site === "same-origin" || site === "none";
    let flags = found.flags;
    if (ownDoing && !flags.includes("\\Seen")) {
      await store.messages.setFlags(mailbox.id, [query.uid], "add", ["\\Seen"]);
      flags = [...flags, "\\Seen"];
    }
    const remote = query.remote === "1";
    const shown: RenderedMessage = await rendered.render(
      { accountId: session.accountId, messageId: found.messageId },
      { remoteImages: remote },
      () => store.messages.read(session.accountId, found.messageId),
    );
    const entries = await folders(store, store.sql, session.accountId);
    const env = cache.envelope;
    const subject = cache.summary.subject || "(no subject)";
    const csrf = session.csrfToken;
    const act = (action: string, label: string) => (
      <ActionButton
        csrf={csrf}
        folder={mailbox.name}
        uid={query.uid}
        action={action}
        label={label}
      />
    );
    const date = cache.summary.date !== null ? new Date(cache.summary.date) : found.internalDate;
    return c.html(
      <Shell
        assets={assets}
        title={subject}
        chrome={{ address: session.address, csrfToken: csrf }}
        entries={entries}
        current={mailbox.name}
        mailboxId={mailbox.id}
      >
        <article class="reader" aria-labelledby="subject">
          <p>
            <a href={listUrl(mailbox.name)} data-back="">← {mailbox.name}</a>
          </p>
          <h1 id="subject">{subject}</h1>
          <dl class="headers">
            <dt>From</dt>
            <dd>{addressLine(env.from)}</dd>
            <dt>To</dt>
            <dd>{addressLine(env.to)}</dd>
            {env.cc && <dt>Cc</dt>}
            {env.cc && <dd>{addressLine(env.cc)}</dd>}
            <dt>Date</dt>
            <dd>
              <time datetime={date.toISOString()}>{dateFormat.format(date)}</time>
            </dd>
          </dl>
          <div class="actions" role="toolbar" aria-label="Message actions">
            {flags.includes("\\Flagged") ? act("unflag", "Unflag") : act("flag", "Flag")}
            {act("unread", "Mark unread")}
            {mailbox.specialUse === "\\Junk" ? act("not-junk", "Not junk") : act("junk", "Junk")}
            {act("trash", mailbox.specialUse === "\\Trash" ? "Delete for good" : "Move to Trash")}
          </div>
          {shown.html !== null
            ? (
              <>
                {!remote && shown.remoteBlocked > 0 && (
                  <p class="notice">
                    Remote images are blocked.{" "}
                    <a href={messageUrl("/mail/read", mailbox.name, query.uid, { remote: "1" })}>
                      Show them for this message
                    </a>
                  </p>
                )}
                <iframe
                  class="body"
                  title="Message body"
                  sandbox={FRAME_SANDBOX}
                  referrerpolicy="no-referrer"
                  src={messageUrl(MESSAGE_BODY_PATH, mailbox.name, query.uid, {
                    remote: remote ? "1" : "0",
                  })}
                >
                </iframe>
              </>
            )
            : shown.tooLarge
            ? (
              <p class="notice" role="status">
                This message is too large to show here; read it in a mail app.
              </p>
            )
            : <pre class="text">{shown.text ?? ""}</pre>}
          {shown.attachments.length > 0 && (
            <section class="attachments" aria-label="Attachments">
              <h2>Attachments</h2>
              <ul>
                {shown.attachments.map((a) => (
                  <li key={a.partId}>
                    <a
                      href={messageUrl(ATTACHMENT_PATH, mailbox.name, query.uid, {
                        part: a.partId,
                      })}
                      download={a.filename || `part-${a.partId}`}
                    >
                      {a.filename || "(unnamed)"}
                    </a>{" "}
                    <span class="meta">{a.contentType}, {size(a.size)}</span>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </article>
      </Shell>,
    );
  });

  // The sanitised HTML, alone, under the message policy of src/web/middleware/security.ts.
  app.get("/body", async (c) => {
    const session = c.get("session");
    const query = parse(messageQuery, c.req.query());
    const mailbox = await mailboxOf(session.accountId, query.folder);
    const found = await findMessage(store.sql, mailbox.id, query.uid);
    if (!found) throw new WebError(404, "The message is not there any more");
    const shown = await rendered.render(
      { accountId: session.accountId, messageId: found.messageId },
      { remoteImages: query.remote === "1" },
      () => store.messages.read(session.accountId, found.messageId),
    );
    if (shown.html === null) throw new WebError(404, "The message has no body to show");
    c.header("content-security-policy", messageBodyCsp(query.remote === "1"));
    c.header("cache-control", "private, no-store");
    return c.html(shown.html);
  });

  // One part, decoded, as a download only (src/web/attachment.ts).
  app.get("/part", async (c) => {
    const session = c.get("session");
    const query = parse(partQuery, c.req.query());
    const mailbox = await mailboxOf(session.accountId, query.folder);
    const found = await findMessage(store.sql, mailbox.id, query.uid);
    if (!found) throw new WebError(404, "The message is not there any more");
    const raw = await store.messages.read(session.accountId, found.messageId);
    const root = parseStructure(raw);
    const part = partAt(root, query.part);
    if (part === null) throw new WebError(404, "The message has no such part");
    const listed = messageParts(root, raw).attachments.find((a) => a.partId === query.part);
    const body = decodeTransfer(raw.subarray(part.bodyStart, part.end), part.encoding);
    return c.body(body.slice(), 200, {
      "content-type": "application/octet-stream",
      "content-disposition": contentDisposition(listed?.filename || `part-${query.part}`),
      "content-security-policy": "default-src 'none'; sandbox",
      "cache-control": "private, no-store",
    });
  });

  app.post("/action", async (c) => {
    const session = c.get("session");
    const form = parse(actionForm, await c.req.parseBody());
    const mailbox = await mailboxOf(session.accountId, form.folder);
    if (!(await findMessage(store.sql, mailbox.id, form.uid))) {
      throw new WebError(404, "The message is not there any more");
    }
    const ids = [form.uid];
    let back = messageUrl("/mail/read", mailbox.name, form.uid);
    switch (form.action) {
      case "flag":
        await store.messages.setFlags(mailbox.id, ids, "add", ["\\Flagged"]);
        break;
      case "unflag":
        await store.messages.setFlags(mailbox.id, ids, "remove", ["\\Flagged"]);
        break;
      case "read":
        await store.messages.setFlags(mailbox.id, ids, "add", ["\\Seen"]);
        break;
      case "unread":
        await store.messages.setFlags(mailbox.id, ids, "remove", ["\\Seen"]);
        back = listUrl(mailbox.name);
        break;
      case "trash": {
        const trash = await specialUse(session.accountId, "\\Trash");
        if (trash.id === mailbox.id) {
          // In Trash already: gone for good, as an IMAP client's STORE \Deleted + UID EXPUNGE.
          await store.messages.setFlags(mailbox.id, ids, "add", ["\\Deleted"]);
          await store.messages.expunge(mailbox.id, ids);
        } else {
          await store.messages.move(mailbox.id, ids, trash.id);
        }
        back = listUrl(mailbox.name);
        break;
      }
      case "junk": {
        const junk = await specialUse(session.accountId, "\\Junk");
        if (junk.id !== mailbox.id) await store.messages.move(mailbox.id, ids, junk.id);
        back = listUrl(mailbox.name);
        break;
      }
      case "not-junk": {
        const inbox = await mailboxOf(session.accountId, "INBOX");
        if (inbox.id !== mailbox.id) await store.messages.move(mailbox.id, ids, inbox.id);
        back = listUrl(mailbox.name);
        break;
      }
    }
    return c.redirect(back, 303);
  });

  return app;
}
