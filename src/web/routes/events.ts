/**
 * New mail without a reload: a server-sent event stream (HTML Living Standard §9.2) of "this
 * folder changed" for the signed-in account's folders, fed by the store's change
 * announcements (src/store/changes.ts: this process's writes and, on PostgreSQL, LISTEN —
 * the feed of IMAP IDLE). An event carries only the folder's name; the page fetches what
 * changed. A comment line every 25 s keeps proxies and the listener's idle timeout from
 * closing a quiet stream; the subscription ends when the client goes away.
 *
 * A stream lives no longer than its session: it closes at once when the session is revoked in
 * this process (sign out, sign out everywhere: WebSessions.onEnd), and at the next ping when it
 * has ended otherwise (another node's revocation, a disabled account, the idle or absolute
 * timeout: WebSessions.isLive, which records no use). A session has at most
 * {@link MAX_STREAMS_PER_SESSION} streams open here. At each ping the account's folders are
 * listed again, so a folder made since the stream opened is watched too.
 *
 * @module
 */

import { Hono } from "hono";
import type { WebDeps, WebEnv } from "../context.ts";
import { requireSession } from "../middleware/session.ts";

/** Time between keep-alive comments (and checks that the session is still live). */
export const PING_MS = 25_000;
/** Open streams one session may have in this process. */
export const MAX_STREAMS_PER_SESSION = 5;

/** The events route (`GET /events`). */
export function eventRoutes(deps: WebDeps, options: { pingMs?: number } = {}): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get("/", requireSession(deps.sessions), async (c) => {
    const session = c.get("session");
    if (deps.sessions.listeners(session.id) >= MAX_STREAMS_PER_SESSION) {
      return c.text("Too many open event streams\n", 429, { "cache-control": "no-store" });
    }
    const boxes = await deps.store.mailboxes.list(session.accountId);
    const signal = c.req.raw.signal;
    const encoder = new TextEncoder();
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            stop();
          }
        };
        const changed = (folder: string) =>
          send(`event: change\ndata: ${JSON.stringify({ folder })}\n\n`);
        const watched = new Map<number, () => void>();
        const watch = (box: { id: number; name: string }) =>
          watched.set(box.id, deps.store.changes.subscribe(box.id, () => changed(box.name)));
        for (const box of boxes) watch(box);
        let stopped = false;
        // Folders made (by IMAP, say) since the stream opened are watched from the next ping on,
        // and announced as changed; deleted ones are no longer watched.
        const rewatch = async () => {
          const now = await deps.store.mailboxes.list(session.accountId);
          if (stopped) return;
          const ids = new Set(now.map((box) => box.id));
          for (const [id, off] of watched) {
            if (!ids.has(id)) {
              off();
              watched.delete(id);
            }
          }
          for (const box of now) {
            if (!watched.has(box.id)) {
              watch(box);
              changed(box.name);
            }
          }
        };
        const ping = setInterval(() => {
          deps.sessions.isLive(session.id).then(async (live) => {
            if (!live) return onAbort();
            await rewatch();
            send(": ping\n\n");
          }).catch(() => onAbort());
        }, options.pingMs ?? PING_MS);
        stop = () => {
          stopped = true;
          clearInterval(ping);
          for (const off of watched.values()) off();
          watched.clear();
          offEnd();
          signal.removeEventListener("abort", onAbort);
        };
        const onAbort = () => {
          stop();
          try {
            controller.close();
          } catch {
            // closed already
          }
        };
        const offEnd = deps.sessions.onEnd(session.id, onAbort);
        signal.addEventListener("abort", onAbort);
        send("retry: 5000\n: connected\n\n");
      },
      cancel() {
        stop();
      },
    });
    return c.body(body, 200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
  });
  return app;
}
