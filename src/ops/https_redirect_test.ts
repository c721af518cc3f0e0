import { assertEquals } from "../../tests/assert.ts";
import { httpsRedirect, parseHostHeader } from "./https_redirect.ts";

Deno.test("Host headers that name a host: the host, lower-cased, without the port", () => {
  const cases: [string, string][] = [
    ["mail.example.org", "mail.example.org"],
    ["Mail.Example.ORG", "mail.example.org"],
    ["mail.example.org:8080", "mail.example.org"],
    ["mail.example.org:", "mail.example.org"], // RFC 3986 §3.2.3: an empty port is the default
    ["mail.example.org:65535", "mail.example.org"],
    ["mail.example.org.", "mail.example.org."],
    ["localhost", "localhost"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["123.example.org", "123.example.org"],
    [`${"a".repeat(63)}.org`, `${"a".repeat(63)}.org`],
    ["127.0.0.1", "127.0.0.1"],
    ["192.0.2.255:80", "192.0.2.255"],
    ["0.0.0.0", "0.0.0.0"],
    ["[::1]", "[::1]"],
    ["[::1]:8080", "[::1]"],
    ["[::]", "[::]"],
    ["[2001:DB8::1]", "[2001:db8::1]"],
    ["[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7:8]"],
    ["[1::]", "[1::]"],
    ["[::ffff:192.0.2.1]:443", "[::ffff:192.0.2.1]"],
    ["[1:2:3:4:5:6:192.0.2.1]", "[1:2:3:4:5:6:192.0.2.1]"],
  ];
  for (const [header, host] of cases) assertEquals(parseHostHeader(header), host, header);
});

Deno.test("Host headers that do not name a host are refused", () => {
  const cases = [
    "",
    ":8080",
    "mail.example.org:http",
    "mail.example.org:65536",
    "mail.example.org:123456",
    "mail.example.org:80:80",
    "mail.example.org:-1",
    "evil.example/x?",
    "evil.example#x",
    "evil.example\\x",
    "user@evil.example",
    "user:pass@evil.example",
    "a b",
    "mail.example.org\r\nSet-Cookie: x=1",
    "mail.example.org%0d%0a",
    "mail_example.org",
    "-mail.example.org",
    "mail-.example.org",
    "mail..example.org",
    ".example.org",
    ".",
    "é.example",
    `${"a".repeat(64)}.org`,
    `${"abcdefghi.".repeat(25)}example`, // 257 characters
    "999.0.0.1",
    "01.2.3.4",
    "1.2.3",
    "1.2.3.4.5",
    "0x7f.0.0.1",
    "2130706433",
    "1.2.3.4.",
    "example.123",
    "::1",
    "[::1",
    "[::1]x",
    "[::1]:x",
    "[]",
    "[1::2::3]",
    "[1:2:3:4:5:6:7]",
    "[1:2:3:4:5:6:7:8:9]",
    "[1:2:3:4:5:6:7::8]",
    "[:1:2:3:4:5:6:7]",
    "[1:2:3:4:5:6:7:]",
    "[12345::]",
    "[::g]",
    "[1.2.3.4::]",
    "[::1.2.3.4.5]",
    "[::256.0.0.1]",
    "[fe80::1%25eth0]",
    "[v1.future]",
    "[mail.example.org]",
  ];
  for (const header of cases) assertEquals(parseHostHeader(header), null, header);
});

function request(url: string, host: string | null, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  if (host !== null) headers.set("host", host);
  return new Request(url, { ...init, headers });
}

async function redirect(
  url: string,
  host: string | null,
  httpsPort = 443,
  init: RequestInit = {},
): Promise<[number, string | null, string]> {
  const response = httpsRedirect(request(url, host, init), httpsPort);
  return [response.status, response.headers.get("location"), await response.text()];
}

Deno.test("a redirect keeps the host, path and query, and names the HTTPS port unless 443", async () => {
  assertEquals(await redirect("http://mail.example.org/", "mail.example.org"), [
    308,
    "https://mail.example.org/",
    "",
  ]);
  assertEquals(
    await redirect(
      "http://mail.example.org:8080/webmail/inbox?page=2&q=a%20b",
      "Mail.Example.org:8080",
    ),
    [308, "https://mail.example.org/webmail/inbox?page=2&q=a%20b", ""],
  );
  assertEquals(
    (await redirect("http://mail.example.org:8080/a?", "mail.example.org:8080", 8443)).slice(0, 2),
    [308, "https://mail.example.org:8443/a"],
  );
  assertEquals(
    (await redirect("http://127.0.0.1:8080/x?y=1", "127.0.0.1:8080", 8443)).slice(0, 2),
    [308, "https://127.0.0.1:8443/x?y=1"],
  );
  assertEquals(
    (await redirect("http://[2001:db8::1]:8080/x", "[2001:DB8::1]:8080", 8443)).slice(0, 2),
    [308, "https://[2001:db8::1]:8443/x"],
  );
  assertEquals(
    (await redirect("http://[::1]/", "[::1]")).slice(0, 2),
    [308, "https://[::1]/"],
  );
  // Every method is redirected with 308, which keeps the method and body (RFC 9110 §15.4.9).
  for (const method of ["HEAD", "POST", "PUT", "DELETE", "OPTIONS"]) {
    const init = method === "POST" || method === "PUT" ? { method, body: "x=1" } : { method };
    assertEquals(
      (await redirect("http://mail.example.org/form", "mail.example.org", 443, init)).slice(0, 2),
      [308, "https://mail.example.org/form"],
      method,
    );
  }
});

Deno.test("the path of a redirect cannot leave the host or break the header", async () => {
  // A path starting with // stays a path: the host of the Location is the validated one.
  assertEquals(
    (await redirect("http://mail.example.org//evil.example/x", "mail.example.org")).slice(0, 2),
    [308, "https://mail.example.org//evil.example/x"],
  );
  // Spaces, controls and non-ASCII arrive percent-encoded.
  assertEquals(
    (await redirect("http://mail.example.org/a b/é?q=a b&r=%0d%0a", "mail.example.org"))
      .slice(0, 2),
    [308, "https://mail.example.org/a%20b/%C3%A9?q=a%20b&r=%0d%0a"],
  );
});

Deno.test("a missing or invalid Host, or a target naming another host, is a 400", async () => {
  const bad = [400, null, "Bad request: missing or invalid Host\n"];
  assertEquals(await redirect("http://localhost:8080/a", null), bad);
  assertEquals(await redirect("http://localhost:8080/a", ""), bad);
  assertEquals(await redirect("http://user@evil.example/a", "user@evil.example"), bad);
  assertEquals(await redirect("http://evil.example/x?/a", "evil.example/x?"), bad);
  assertEquals(await redirect("http://localhost/", "[fe80::1%25eth0]"), bad);
  // Absolute form (RFC 9112 §3.2.2) with another authority than Host, or another port.
  assertEquals(await redirect("http://other.example/x", "mail.example.org"), bad);
  assertEquals(await redirect("http://mail.example.org:81/x", "mail.example.org:8080"), bad);
  // The same authority written differently is the same.
  assertEquals(
    (await redirect("http://mail.example.org/x", "MAIL.example.org:80")).slice(0, 2),
    [308, "https://mail.example.org/x"],
  );
});
