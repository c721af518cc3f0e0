/**
 * node:http's request and response, as the Fetch API's: the glue between the HTTPS listener
 * (node:https, for SNI contexts that follow certificate reloads) and the Hono app.
 *
 * Bounds, enforced here before the app sees a request: the header section's size (431), the
 * body's size (413) and the time to receive the body (408). A client that goes away aborts the
 * request's signal and cancels the response body (a server-sent event stream stops then).
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";

/** Limits of one request. */
export interface RequestLimits {
  /** Most octets of request line and header fields. */
  readonly maxHeaderBytes: number;
  /** Most octets of body. */
  readonly maxBodyBytes: number;
  /** Most time to receive the body. */
  readonly bodyTimeoutMs: number;
}

/** What the app is told about the connection. */
export interface ClientInfo {
  /** The peer's address as the socket reports it. */
  readonly ip: string;
}

/** The app's entry point. */
export type FetchHandler = (request: Request, client: ClientInfo) => Promise<Response>;

class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A node:http request listener that calls `handler` with Fetch API objects. */
export function nodeListener(
  handler: FetchHandler,
  limits: RequestLimits,
  onError: (error: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    serve(req, res, handler, limits).catch((error) => {
      onError(error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "text/plain; charset=utf-8");
        res.end("Internal error\n");
      } else {
        res.destroy();
      }
    });
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: FetchHandler,
  limits: RequestLimits,
): Promise<void> {
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  let request: Request;
  try {
    request = await toRequest(req, limits, abort.signal);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    res.statusCode = error.status;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.setHeader("connection", "close");
    res.end(`${error.message}\n`);
    req.resume();
    return;
  }
  // A socket that no longer knows its peer (closed meanwhile) is not served: the app and the
  // brute-force defence need a real address.
  const ip = req.socket.remoteAddress;
  if (ip === undefined) {
    res.destroy();
    return;
  }
  const response = await handler(request, { ip });
  await writeResponse(response, res);
}

async function toRequest(
  req: IncomingMessage,
  limits: RequestLimits,
  signal: AbortSignal,
): Promise<Request> {
  let headerBytes = (req.method ?? "").length + (req.url ?? "").length + 12;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    headerBytes += raw[i]!.length + raw[i + 1]!.length + 4;
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      throw new Refusal(400, "Malformed header field");
    }
  }
  if (headerBytes > limits.maxHeaderBytes) {
    throw new Refusal(431, "Request header fields too large");
  }
  const path = req.url ?? "/";
  if (!path.startsWith("/")) throw new Refusal(400, "Malformed request target");
  const host = headers.get("host") ?? "localhost";
  let url: URL;
  try {
    url = new URL(path, `https://${host}`);
  } catch {
    throw new Refusal(400, "Malformed host");
  }
  const method = req.method ?? "GET";
  const init: RequestInit = { method, headers, signal };
  if (method !== "GET" && method !== "HEAD") {
    init.body = await readBody(req, limits);
  }
  return new Request(url, init);
}

function readBody(req: IncomingMessage, limits: RequestLimits): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limits.maxBodyBytes) {
    return Promise.reject(new Refusal(413, "Request body too large"));
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      done(new Refusal(408, "Request body took too long"));
    }, limits.bodyTimeoutMs);
    const done = (error: Error | null) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onFail);
      if (error) return reject(error);
      const body = new Uint8Array(size);
      let at = 0;
      for (const chunk of chunks) {
        body.set(chunk, at);
        at += chunk.length;
      }
      resolve(body);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) return done(new Refusal(413, "Request body too large"));
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onFail = (error: Error) => done(error);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onFail);
  });
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") continue;
    res.setHeader(name, value);
  }
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const closed = new Promise<void>((resolve) => res.once("close", resolve));
  let gone = false;
  closed.then(() => {
    gone = true;
    reader.cancel().catch(() => {});
  });
  try {
    // Server-sent events are written as they come; everything else too (no buffering here).
    if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
      res.flushHeaders();
    }
    while (!gone) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await Promise.race([new Promise((resolve) => res.once("drain", resolve)), closed]);
      }
    }
  } catch (error) {
    if (!gone) throw error;
  } finally {
    if (!gone) res.end();
  }
}
