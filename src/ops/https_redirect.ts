/**
 * HTTP → HTTPS: the HTTP listener answers what it serves itself (ACME HTTP-01, `/healthz`) and
 * redirects every other request to the same host, path and query over HTTPS.
 *
 * The redirect is `308 Permanent Redirect` (RFC 9110 §15.4.9) for every method: unlike 301 it
 * keeps the method and body, so a form POSTed to an `http://` address is not silently turned
 * into a GET, and every client still in use understands it (RFC 7538, 2015).
 *
 * Security: the Location is built only from parts that cannot be forged into something else.
 * - The host comes from the Host header (RFC 9110 §7.2) and must be a DNS host name (RFC 1123
 *   §2.1 labels), a dotted-quad IPv4 address or a bracketed IPv6 address (RFC 3986 §3.2.2),
 *   with at most a numeric port, which is dropped. Anything else — no Host, an empty one,
 *   user info, a path, a zone id, IPvFuture, octal or shortened IPv4 — is a 400 (RFC 9112
 *   §3.2), and the value is never echoed back.
 * - A request whose target names another authority than its Host (absolute form, RFC 9112
 *   §3.2.2) is a 400 too: browsers never send one, and a guess would be a redirect the client
 *   did not ask for.
 * - The path and query come from the URL parser's serialisation, which percent-encodes
 *   controls, spaces and non-ASCII: no CR or LF can reach the header. A target such as
 *   `//evil.example/` stays a path under the validated host.
 *
 * @module
 */

/** The HTTPS port that needs no `:port` in a URL (RFC 9110 §4.2.2). */
const DEFAULT_HTTPS_PORT = 443;

/** RFC 1123 §2.1: letters, digits and inner hyphens, 1 to 63 characters. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-f]{1,4}$/;

/**
 * The host of a Host header value, without its port and lower-cased (IPv6 in brackets), or
 * null when it is not a host name or IP literal with an optional numeric port.
 *
 * @example
 * ```ts
 * parseHostHeader("Mail.Example.org:8080"); // "mail.example.org"
 * parseHostHeader("[2001:db8::1]:80"); // "[2001:db8::1]"
 * parseHostHeader("evil.example/x?"); // null
 * ```
 */
export function parseHostHeader(value: string): string | null {
  const text = value.toLowerCase();
  let host: string;
  let rest: string;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    host = text.slice(0, end + 1);
    rest = text.slice(end + 1);
    if (!isIpv6(host.slice(1, -1))) return null;
  } else {
    const colon = text.indexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? "" : text.slice(colon);
    if (!isHostName(host)) return null;
  }
  // RFC 3986 §3.2.3: port = *DIGIT (an empty port means the default).
  if (rest === "" || rest === ":") return host;
  const port = /^:([0-9]{1,5})$/.exec(rest)?.[1];
  return port !== undefined && Number(port) <= 65535 ? host : null;
}

/**
 * The redirect of `request` to HTTPS on `httpsPort` (`:port` left out for 443), or a 400 when
 * its Host is missing or invalid, or disagrees with its target.
 *
 * @example
 * ```ts
 * const request = new Request("http://mail.example.org:8080/a?b", {
 *   headers: { host: "mail.example.org:8080" },
 * });
 * httpsRedirect(request, 443).headers.get("location"); // "https://mail.example.org/a?b"
 * ```
 */
export function httpsRedirect(request: Request, httpsPort: number): Response {
  const header = request.headers.get("host");
  const host = header === null ? null : parseHostHeader(header);
  if (header === null || host === null) return badRequest();
  // Deno's request.url is "http://" + Host + the target, or the target itself in absolute form.
  const url = URL.parse(request.url);
  if (url === null || url.host !== new URL(`http://${header}`).host) return badRequest();
  const port = httpsPort === DEFAULT_HTTPS_PORT ? "" : `:${httpsPort}`;
  return new Response(null, {
    status: 308,
    headers: { location: `https://${host}${port}${url.pathname}${url.search}` },
  });
}

/** RFC 9112 §3.2: a missing or invalid Host is a 400. The value is not repeated. */
export function badRequest(): Response {
  return new Response("Bad request: missing or invalid Host\n", {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

function isHostName(host: string): boolean {
  const name = host.endsWith(".") ? host.slice(0, -1) : host; // a fully qualified "name."
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  if (!labels.every((label) => LABEL.test(label))) return false;
  // A name ending in a number is an IPv4 address (RFC 3986 §3.2.2 prefers IPv4 over reg-name),
  // and only the dotted quad is accepted: no octal, hexadecimal or shortened forms.
  return !/^[0-9]+$/.test(labels.at(-1)!) || (host === name && isIpv4(name));
}

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p) && Number(p) <= 255);
}

/** RFC 4291 §2.2: eight groups, "::" once for a run of zeros, a dotted quad at the end. */
function isIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => half === "" ? [] : half.split(":"));
  const endsInGroup = halves.length === 1 || halves[1] !== "";
  let count = 0;
  for (const [i, group] of groups.entries()) {
    if (i === groups.length - 1 && endsInGroup && group.includes(".")) {
      if (!isIpv4(group)) return false;
      count += 2;
    } else if (IPV6_GROUP.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}
