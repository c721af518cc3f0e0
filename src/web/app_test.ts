/**
 * The web app through `app.request()`: security headers, cookie flags, sign-in with and
 * without the second factor, CSRF refusals, session timeouts and revocation, validation
 * messages, reading and the actions on a message, and the new-mail event stream.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/assert.ts";
import { enableTwoFactor, GOOD_PASSWORD, sampleMessage } from "../../tests/store.ts";
import { totpCode } from "../crypto/totp.ts";
import { createLogger } from "../ops/log.ts";
import { ORIGIN, withWeb } from "./_test_support.ts";
import { type MessageRenderer, sanitisedRenderer } from "./message_view.ts";
import { MAX_SANITISED_BYTES } from "./render/mod.ts";
import { MAX_STREAMS_PER_SESSION } from "./routes/events.ts";
import { CODE_FAILED, SIGN_IN_FAILED } from "./routes/sign_in.tsx";
import { DEFAULT_ABSOLUTE_MS, DEFAULT_IDLE_MS, SECOND_FACTOR_TTL_MS } from "./sessions.ts";

const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

Deno.test("every page carries HSTS, the strict CSP, no framing, nosniff and no referrer", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    for (const path of ["/login", "/nothing-here"]) {
      const response = await browser.request(path);
      await response.body?.cancel();
      const h = response.headers;
      assertEquals(h.get("content-security-policy"), PAGE_CSP, path);
      assertEquals(h.get("strict-transport-security"), "max-age=63072000; includeSubDomains");
      assertEquals(h.get("x-frame-options"), "DENY");
      assertEquals(h.get("x-content-type-options"), "nosniff");
      assertEquals(h.get("referrer-policy"), "no-referrer");
    }
    for (const host of ["localhost:8443", "127.0.0.1:8443", "[::1]:8443"]) {
      const local = await browser.request("/login", { headers: { host } });
      await local.body?.cancel();
      assertEquals(local.headers.get("strict-transport-security"), null, host);
      assertEquals(local.headers.get("content-security-policy"), PAGE_CSP, host);
    }
    const page = await (await browser.request("/login")).text();
    assert(!/<script(?![^>]*\bsrc=)/.test(page), "no inline script");
    assert(!/\sstyle=/.test(page) && !/<style/.test(page), "no inline style");
    const js = await browser.request(/src="(\/static\/webmail\.js\?v=[0-9a-f]+)"/.exec(page)![1]!);
    assertEquals(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assertEquals(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    await js.body?.cancel();
  });
});

Deno.test("error answers of the body and attachment routes carry a sandboxing CSP", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    for (
      const path of [
        "/mail/body?folder=INBOX&uid=99&remote=0",
        "/mail/body?folder=Nowhere&uid=1",
        "/mail/part?folder=INBOX&uid=99&part=2",
      ]
    ) {
      const response = await browser.request(path);
      await response.body?.cancel();
      assertEquals(response.status, 404, path);
      assertEquals(
        response.headers.get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'self'; sandbox",
        path,
      );
    }
  });
});

Deno.test("sign-in sets a __Host- cookie: Secure, HttpOnly, SameSite=Strict, Path=/", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    const response = await browser.post("/login", {
      address: "Alice@Example.org",
      password: GOOD_PASSWORD,
    });
    await response.body?.cancel();
    assertEquals(response.status, 303);
    assertEquals(response.headers.get("location"), "/mail");
    const [cookie] = response.headers.getSetCookie();
    assertMatch(cookie!, /^__Host-fumi=[A-Za-z0-9_-]{43}; /);
    const attributes = cookie!.split("; ").slice(1).map((a) => a.toLowerCase()).sort();
    assertEquals(attributes, ["httponly", "path=/", "samesite=strict", "secure"]);
    const mail = await browser.request("/mail");
    assertEquals(mail.status, 200);
    assertStringIncludes(await mail.text(), "alice@example.org");
    // Stored hashed: the cookie's value is nowhere in the table.
    const rows = await w.store.sql<{ id_sha256: Uint8Array }[]>`select id_sha256 from web_sessions`;
    assertEquals(rows.length, 1);
    assertEquals(rows[0]!.id_sha256.length, 32);
  });
});

Deno.test("an unknown address and a wrong password get the same answer, and are counted", async () => {
  await withWeb(async (w) => {
    const answers: string[] = [];
    for (const address of ["alice@example.org", "nobody@example.org"]) {
      const response = await w.browser().post("/login", { address, password: "wrong horse" });
      const body = await response.text();
      assertStringIncludes(body, SIGN_IN_FAILED);
      answers.push(`${response.status} ${body.replace(address, "ADDRESS")}`);
      assertEquals(response.headers.getSetCookie(), []);
    }
    assertEquals(answers[0], answers[1]);
    const failures = await w.store.sql<{ reason: string }[]>`
      select reason from auth_failures where protocol = 'web' order by id`;
    assertEquals(failures.map((f) => f.reason), ["bad-password", "unknown-account"]);
    assertEquals(w.delays.length, 2);
  });
});

Deno.test("with 2FA on, the password leads to the code form; only the right code signs in", async () => {
  await withWeb(async (w) => {
    const secret = await enableTwoFactor(w.store, w.alice.id);
    const browser = w.browser();
    const first = await browser.post("/login", {
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    await first.body?.cancel();
    assertEquals(first.headers.get("location"), "/login/code");
    const pending = browser.cookies.get("__Host-fumi")!;
    // A password-only session opens no mail.
    const mail = await browser.request("/mail");
    await mail.body?.cancel();
    assertEquals(mail.status, 303);
    assertEquals(mail.headers.get("location"), "/login");
    const form = await (await browser.request("/login/code")).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)![1]!;
    // A wrong code: refused, counted as a failure of the second factor.
    const wrong = await browser.post("/login/code", { _csrf: csrf, code: "000000" });
    assertEquals(wrong.status, 401);
    assertStringIncludes(await wrong.text(), CODE_FAILED);
    const [failure] = await w.store.sql<{ reason: string }[]>`
      select reason from auth_failures where protocol = 'web'`;
    assertEquals(failure?.reason, "bad-second-factor");
    // The next step's code (the current one confirmed the enrolment and cannot be used again).
    const code = totpCode(secret, Date.now() + 30_000);
    const right = await browser.post("/login/code", { _csrf: csrf, code });
    await right.body?.cancel();
    assertEquals(right.headers.get("location"), "/mail");
    const signedIn = browser.cookies.get("__Host-fumi")!;
    assert(signedIn !== pending, "a new session id after the second factor");
    const ok = await browser.request("/mail");
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    // The same code again, on a new password-only session: refused (RFC 6238 §5.2).
    const again = w.browser();
    await (await again.post("/login", { address: "alice@example.org", password: GOOD_PASSWORD }))
      .body?.cancel();
    const csrf2 = /name="_csrf" value="([^"]+)"/.exec(
      await (await again.request("/login/code")).text(),
    )![1]!;
    const replay = await again.post("/login/code", { _csrf: csrf2, code });
    await replay.body?.cancel();
    assertEquals(replay.status, 401);
  });
});

Deno.test("a password-only session ends after five wrong codes or five minutes", async () => {
  await withWeb(async (w) => {
    await enableTwoFactor(w.store, w.alice.id);
    const browser = w.browser();
    const signIn = async () => {
      await (await browser.post("/login", {
        address: "alice@example.org",
        password: GOOD_PASSWORD,
      })).body?.cancel();
      return /name="_csrf" value="([^"]+)"/.exec(
        await (await browser.request("/login/code")).text(),
      )![1]!;
    };
    const csrf = await signIn();
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await browser.post("/login/code", { _csrf: csrf, code: "000000" });
      await last.body?.cancel();
    }
    assertEquals(last!.status, 303);
    assertEquals(last!.headers.get("location"), "/login?notice=too-many-codes");
    await signIn();
    w.advance(SECOND_FACTOR_TTL_MS);
    const late = await browser.request("/login/code");
    await late.body?.cancel();
    assertEquals(late.headers.get("location"), "/login");
  });
});

Deno.test("parallel codes on one password-only session: five are checked, the rest refused unchecked", async () => {
  await withWeb(async (w) => {
    await enableTwoFactor(w.store, w.alice.id);
    const browser = w.browser();
    await (await browser.post("/login", { address: "alice@example.org", password: GOOD_PASSWORD }))
      .body?.cancel();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(
      await (await browser.request("/login/code")).text(),
    )![1]!;
    const cookie = browser.cookies.get("__Host-fumi")!;
    const answers = await Promise.all(Array.from({ length: 19 }, async () => {
      const b = w.browser();
      b.cookies.set("__Host-fumi", cookie);
      const r = await b.post("/login/code", { _csrf: csrf, code: "000000" });
      const text = await r.text();
      if (r.status === 401 && text.includes(CODE_FAILED)) return "wrong code";
      // Refused unchecked: attempts used up (the session is ended, 303 to sign in), or the
      // session had ended already when the request came (401), as concurrency decides.
      if (r.status === 303 || text === "Sign in first\n") return "refused";
      return `${r.status} ${text.slice(0, 80)}`;
    }));
    // Every code checked is a failure recorded; only five were checked.
    const [row] = await w.store.sql<{ n: number }[]>`
      select count(*)::int as n from auth_failures where reason = 'bad-second-factor'`;
    assertEquals(row?.n, 5);
    // Four checked codes are answered "wrong"; the fifth ends the session (303), the rest are
    // refused unchecked.
    assertEquals(answers.filter((a) => a === "wrong code").length, 4, answers.join(", "));
    assertEquals(answers.filter((a) => a !== "wrong code" && a !== "refused"), []);
  });
});

Deno.test("an account gets ten wrong codes an hour, whatever the sessions and networks", async () => {
  await withWeb(async (w) => {
    const secret = await enableTwoFactor(w.store, w.alice.id);
    const wrong = async (ip: string) => {
      const b = w.browser(ip);
      await (await b.post("/login", { address: "alice@example.org", password: GOOD_PASSWORD }))
        .body?.cancel();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(
        await (await b.request("/login/code")).text(),
      )![1]!;
      return { b, csrf };
    };
    // Ten clients on ten networks, one wrong code each, in parallel.
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const { b, csrf } = await wrong(`2001:db8:${i}::1`);
      const r = await b.post("/login/code", { _csrf: csrf, code: "000000" });
      await r.body?.cancel();
      assertEquals(r.status, 401);
    }));
    // Now even the right code is refused unchecked, from yet another network.
    const { b, csrf } = await wrong("203.0.113.50");
    const code = totpCode(secret, Date.now() + 30_000);
    const refused = await b.post("/login/code", { _csrf: csrf, code });
    assertEquals(refused.status, 401);
    await refused.body?.cancel();
    const reasons = await w.store.sql<{ reason: string; n: number }[]>`
      select reason, count(*)::int as n from auth_failures group by reason order by reason`;
    assertEquals(reasons.map((r) => [r.reason, r.n]), [
      ["bad-second-factor", 10],
      ["second-factor-locked", 1],
    ]);
  });
});

Deno.test("a state-changing request without the session's token, or from another site, is refused", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const token = await browser.csrfToken();
    const fields = { folder: "INBOX", uid: "1", action: "flag" };
    const refused = [
      await browser.post("/mail/action", fields),
      await browser.post("/mail/action", { ...fields, _csrf: "x".repeat(43) }),
      await browser.post("/mail/action", { ...fields, _csrf: token }, {
        origin: "https://evil.example",
      }),
      await browser.post("/mail/action", { ...fields, _csrf: token }, {
        "sec-fetch-site": "cross-site",
      }),
      await browser.post("/logout/everywhere", {}),
      await browser.post("/login", { address: "alice@example.org", password: GOOD_PASSWORD }, {
        "sec-fetch-site": "same-site",
      }),
    ];
    for (const response of refused) {
      assertEquals(response.status, 403);
      assertStringIncludes(await response.text(), "Refused");
    }
    // `Origin: null` (a form post under Referrer-Policy no-referrer) only with the browser's
    // word that the request is same-origin.
    const opaque = await browser.post("/mail/action", { ...fields, _csrf: token }, {
      origin: "null",
    });
    assertEquals(opaque.status, 403);
    await opaque.body?.cancel();
    // Still signed in; with the token the same request is done.
    for (const headers of [{}, { origin: "null", "sec-fetch-site": "same-origin" }]) {
      const ok = await browser.post("/mail/action", { ...fields, _csrf: token }, headers);
      await ok.body?.cancel();
      assertEquals(ok.status, 404); // no message 1: past the CSRF checks, into the route
    }
  });
});

Deno.test("a sign-in POST with neither Origin nor Sec-Fetch-Site is refused (login CSRF)", async () => {
  await withWeb(async (w) => {
    const body = new URLSearchParams({ address: "alice@example.org", password: GOOD_PASSWORD });
    const send = (headers: Record<string, string>) =>
      w.app.request("https://mail.example.org/login", {
        method: "POST",
        headers: {
          host: "mail.example.org",
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: body.toString(),
        redirect: "manual",
      }, { ip: "192.0.2.10" });
    const bare = await send({});
    assertEquals(bare.status, 403);
    assertStringIncludes(await bare.text(), "Refused");
    assertEquals(bare.headers.getSetCookie().length, 0);
    for (const headers of [{ "sec-fetch-site": "same-origin" }, { origin: ORIGIN }]) {
      const ok = await send(headers);
      await ok.body?.cancel();
      assertEquals(ok.status, 303);
      assertEquals(ok.headers.get("location"), "/mail");
    }
  });
});

Deno.test("sessions end after 30 idle minutes and after 12 hours however busy", async () => {
  await withWeb(async (w) => {
    const idle = w.browser();
    await idle.signIn();
    w.advance(DEFAULT_IDLE_MS - 60_000);
    assertEquals((await idle.request("/mail")).status, 200);
    w.advance(DEFAULT_IDLE_MS);
    const gone = await idle.request("/mail");
    await gone.body?.cancel();
    assertEquals(gone.headers.get("location"), "/login");

    const busy = w.browser();
    await busy.signIn();
    for (let t = 0; t < DEFAULT_ABSOLUTE_MS - 20 * 60_000; t += 20 * 60_000) {
      w.advance(20 * 60_000);
      const page = await busy.request("/mail");
      await page.body?.cancel();
      assertEquals(page.status, 200);
    }
    w.advance(20 * 60_000);
    const over = await busy.request("/mail");
    await over.body?.cancel();
    assertEquals(over.headers.get("location"), "/login");
  });
});

Deno.test("a page's background refreshes do not keep an unattended session alive", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    for (let i = 0; i < 4; i++) {
      w.advance(10 * 60_000);
      const refresh = await browser.request("/mail", { headers: { "x-fumi-background": "1" } });
      await refresh.body?.cancel();
      assertEquals(refresh.status, i < 2 ? 200 : 303, `refresh ${i}`);
    }
    // A request of the user's own does count.
    const active = w.browser();
    await active.signIn();
    for (let i = 0; i < 4; i++) {
      w.advance(10 * 60_000);
      const page = await active.request("/mail");
      await page.body?.cancel();
      assertEquals(page.status, 200);
    }
  });
});

Deno.test("sign out ends one session; sign out everywhere ends them all", async () => {
  await withWeb(async (w) => {
    const laptop = w.browser();
    const phone = w.browser("198.51.100.7");
    await laptop.signIn();
    await phone.signIn();
    const stolen = new Map(phone.cookies);
    const token = await laptop.csrfToken();
    const out = await laptop.post("/logout/everywhere", { _csrf: token });
    await out.body?.cancel();
    assertEquals(out.headers.get("location"), "/login?notice=everywhere");
    assertEquals(laptop.cookies.size, 0);
    const thief = w.browser("203.0.113.9");
    for (const [k, v] of stolen) thief.cookies.set(k, v);
    const page = await thief.request("/mail");
    await page.body?.cancel();
    assertEquals(page.headers.get("location"), "/login");
    const api = await thief.request("/events", { headers: { accept: "text/event-stream" } });
    assertEquals(api.status, 401);
    await api.body?.cancel();

    const again = w.browser();
    await again.signIn();
    const t2 = await again.csrfToken();
    await (await again.post("/logout", { _csrf: t2 })).body?.cancel();
    const after = await again.request("/mail");
    await after.body?.cancel();
    assertEquals(after.status, 303);
  });
});

Deno.test("each sign-out leaves one web session line: id, user, reason, duration, no token", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const cookie = [...browser.cookies.values()].join(" ");
    await (await browser.post("/logout", { _csrf: await browser.csrfToken() })).body?.cancel();
    const phone = w.browser("198.51.100.7");
    await phone.signIn();
    await (await phone.post("/logout/everywhere", { _csrf: await phone.csrfToken() })).body
      ?.cancel();
    const ends = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "web session");
    assertEquals(ends.map((l) => [l.user, l.reason, typeof l.session, typeof l.ms]), [
      ["alice@example.org", "signed-out", "number", "number"],
      ["alice@example.org", "signed-out-everywhere", "number", "number"],
    ]);
    assertEquals(ends[1].revoked, 1);
    assertEquals(lines.some((l) => cookie.length > 0 && l.includes(cookie)), false);
  }, { log });
});

Deno.test("signed-in answers are never cached; signing out clears the browser's cache", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    await w.store.messages.deliver(sampleMessage("cached?"), [{ accountId: w.alice.id }]);
    const list = await browser.request("/mail");
    const page = await list.text();
    assertEquals(list.headers.get("cache-control"), "no-store");
    const read = /href="(\/mail\/read\?[^"]+)"/.exec(page)![1]!.replaceAll("&amp;", "&");
    const message = await browser.request(read);
    await message.body?.cancel();
    assertEquals(message.status, 200);
    assertEquals(message.headers.get("cache-control"), "no-store");
    const token = await browser.csrfToken();
    const out = await browser.post("/logout", { _csrf: token });
    await out.body?.cancel();
    assertEquals(out.headers.get("clear-site-data"), '"cache"');
    await browser.signIn();
    const everywhere = await browser.post("/logout/everywhere", {
      _csrf: await browser.csrfToken(),
    });
    await everywhere.body?.cancel();
    assertEquals(everywhere.headers.get("clear-site-data"), '"cache"');
  });
});

Deno.test("inputs are validated with sentences a user can act on", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    const empty = await browser.post("/login", {});
    assertEquals(empty.status, 400);
    const text = await empty.text();
    assertStringIncludes(text, "Enter your email address");
    assertStringIncludes(text, "Enter your password");
    await browser.signIn();
    for (
      const [path, sentence] of [
        ["/mail?before=abc", "The position in the list must be a number"],
        ["/mail?after=0", "The position in the list must be positive"],
        ["/mail?before=5&after=2", "Ask for older or newer messages, not both"],
        ["/mail/read?folder=INBOX&uid=-4", "The message number must be positive"],
        ["/mail/read?folder=INBOX", "The message number is missing"],
        ["/mail?folder=Nope", "There is no folder"],
      ]
    ) {
      const response = await browser.request(path!);
      const body = await response.text();
      assert(response.status === 400 || response.status === 404, `${path}: ${response.status}`);
      assertStringIncludes(body, sentence!, path);
    }
    const token = await browser.csrfToken();
    const bad = await browser.post("/mail/action", {
      _csrf: token,
      folder: "INBOX",
      uid: "1",
      action: "explode",
    });
    assertEquals(bad.status, 400);
    assertStringIncludes(await bad.text(), "Unknown action");
  });
});

Deno.test("a message is listed, read (and marked read), flagged, moved to Trash, as IMAP sees it", async () => {
  await withWeb(async (w) => {
    const html = new TextEncoder().encode(
      [
        "From: Bob <bob@remote.example>",
        "To: alice@example.org",
        "Subject: =?utf-8?q?Caf=C3=A9?= <b>news</b>",
        "Date: Fri, 27 Nov 2026 12:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "",
        '<p onclick="alert(1)">Hello <script>alert(2)</script><img src="https://tracker.example/x.png"></p>',
        "",
      ].join("\r\n"),
    );
    await w.store.messages.deliver(sampleMessage("zebra"), [{ accountId: w.alice.id }]);
    await w.store.messages.deliver(html, [{ accountId: w.alice.id }]);
    const inbox = await w.store.mailboxes.get(w.alice.id, "INBOX");
    const browser = w.browser();
    await browser.signIn();
    const list = await (await browser.request("/mail")).text();
    // Newest first, escaped, unread counted.
    assert(list.indexOf("Café &lt;b&gt;news&lt;/b&gt;") < list.indexOf("Secret subject zebra"));
    assertMatch(list, /aria-label="2 unread"/);
    const read = await browser.request("/mail/read?folder=INBOX&uid=2");
    const page = await read.text();
    assertStringIncludes(page, "Bob &lt;bob@remote.example&gt;");
    assertStringIncludes(page, 'sandbox="allow-popups allow-popups-to-escape-sandbox"');
    assertStringIncludes(page, "Remote images are blocked");
    const flags = async () =>
      Object.fromEntries((await w.store.messages.list(inbox.id)).map((m) => [m.uid, m.flags]));
    assertEquals((await flags())[2], ["\\Seen"]);
    const body = await browser.request("/mail/body?folder=INBOX&uid=2&remote=0");
    const csp = body.headers.get("content-security-policy")!;
    assertStringIncludes(csp, "default-src 'none'");
    assertStringIncludes(csp, "img-src data:;");
    assertStringIncludes(csp, "sandbox allow-popups allow-popups-to-escape-sandbox");
    assertStringIncludes(csp, "frame-ancestors 'self'");
    assertEquals(body.headers.get("x-frame-options"), "SAMEORIGIN");
    const doc = await body.text();
    assert(!doc.includes("<script") && !doc.includes("onclick") && !doc.includes("tracker"), doc);
    assertStringIncludes(doc, "Hello");

    const token = await browser.csrfToken();
    const act = async (action: string, uid = "2") => {
      const response = await browser.post("/mail/action", {
        _csrf: token,
        folder: "INBOX",
        uid,
        action,
      });
      await response.body?.cancel();
      assertEquals(response.status, 303, action);
      return response.headers.get("location");
    };
    await act("flag");
    assertEquals((await flags())[2], ["\\Flagged", "\\Seen"]);
    assertEquals(await act("unread"), "/mail?folder=INBOX");
    assertEquals((await flags())[2], ["\\Flagged"]);
    await act("trash");
    assertEquals(Object.keys(await flags()), ["1"]);
    const trash = await w.store.mailboxes.get(w.alice.id, "Trash");
    assertEquals((await w.store.messages.list(trash.id)).length, 1);
    await act("junk", "1");
    const junk = await w.store.mailboxes.get(w.alice.id, "Junk");
    assertEquals((await w.store.messages.list(junk.id)).length, 1);
    const plain = await (await browser.request("/mail/read?folder=Junk&uid=1")).text();
    assertStringIncludes(plain, "Not junk");
  });
});

Deno.test("the event stream says which folder changed when mail arrives", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const response = await browser.request("/events", { headers: { accept: "text/event-stream" } });
    assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const first = await reader.read();
    seen += first.value ?? "";
    assertStringIncludes(seen, "retry: 5000");
    await w.store.messages.deliver(sampleMessage("new"), [{ accountId: w.alice.id }]);
    while (!seen.includes("event: change")) {
      const next = await reader.read();
      if (next.done) break;
      seen += next.value;
    }
    assertStringIncludes(seen, 'event: change\ndata: {"folder":"INBOX"}');
    await reader.cancel();
    assertEquals(w.store.changes.watched, 0);
  });
});

Deno.test("an open event stream ends with sign out everywhere; a session has at most five", async () => {
  await withWeb(async (w) => {
    const laptop = w.browser();
    const phone = w.browser("198.51.100.7");
    await laptop.signIn();
    await phone.signIn();
    const streams = [];
    for (let i = 0; i < MAX_STREAMS_PER_SESSION; i++) {
      const r = await phone.request("/events", { headers: { accept: "text/event-stream" } });
      assertEquals(r.status, 200);
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      assertStringIncludes((await reader.read()).value ?? "", "retry: 5000");
      streams.push(reader);
    }
    const extra = await phone.request("/events", { headers: { accept: "text/event-stream" } });
    assertEquals(extra.status, 429);
    await extra.body?.cancel();
    const token = await laptop.csrfToken();
    await (await laptop.post("/logout/everywhere", { _csrf: token })).body?.cancel();
    // Every stream of the phone's session ends now, not at its next ping.
    for (const reader of streams) {
      const rest = await reader.read();
      assertEquals(rest.done, true);
    }
    await w.store.messages.deliver(sampleMessage("after"), [{ accountId: w.alice.id }]);
    assertEquals(w.store.changes.watched, 0);
  });
});

Deno.test("a message is rendered once for its page and its frame; a huge one not at all", async () => {
  let renders = 0;
  const counting: MessageRenderer = {
    render(raw, options) {
      renders++;
      return sanitisedRenderer.render(raw, options);
    },
  };
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const html = (body: string) =>
      new TextEncoder().encode(
        "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: Big\r\n" +
          "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body,
      );
    await w.store.messages.deliver(html("<p>Hello</p>\r\n"), [{ accountId: w.alice.id }]);
    const read = await browser.request("/mail/read?folder=INBOX&uid=1");
    assertStringIncludes(await read.text(), "/mail/body?");
    const body = await browser.request("/mail/body?folder=INBOX&uid=1&remote=0");
    assertStringIncludes(await body.text(), "Hello");
    assertEquals(renders, 1);

    // Over the sanitiser's limit: a notice, and no frame to load.
    const huge = "<p>" + "x".repeat(MAX_SANITISED_BYTES) + "</p>\r\n";
    await w.store.messages.deliver(html(huge), [{ accountId: w.alice.id }]);
    const started = performance.now();
    const page = await (await browser.request("/mail/read?folder=INBOX&uid=2")).text();
    assertStringIncludes(page, "too large to show here");
    assert(!page.includes("/mail/body?"));
    const frame = await browser.request("/mail/body?folder=INBOX&uid=2&remote=0");
    await frame.body?.cancel();
    assertEquals(frame.status, 404);
    assert(performance.now() - started < 2000, "the huge part was not sanitised");
  }, { render: counting });
});

Deno.test("a message opened from another site of the same site is shown but not marked read", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    await w.store.messages.deliver(sampleMessage("linked"), [{ accountId: w.alice.id }]);
    const seen = async () => {
      const [row] = await w.store.sql<{ flags: string[] }[]>`
        select mm.flags from mailbox_messages mm join mailboxes m on m.id = mm.mailbox_id
        where m.account_id = ${w.alice.id} and m.name = 'INBOX' and mm.uid = 1`;
      return row!.flags.includes("\\Seen");
    };
    const linked = await browser.request("/mail/read?folder=INBOX&uid=1", {
      headers: { "sec-fetch-site": "same-site" },
    });
    await linked.body?.cancel();
    assertEquals(linked.status, 200);
    assertEquals(await seen(), false);
    const opened = await browser.request("/mail/read?folder=INBOX&uid=1", {
      headers: { "sec-fetch-site": "same-origin" },
    });
    await opened.body?.cancel();
    assertEquals(await seen(), true);
  });
});

Deno.test("a folder made after the event stream opened is watched from the next ping", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const response = await browser.request("/events", { headers: { accept: "text/event-stream" } });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = (await reader.read()).value ?? "";
    await w.store.mailboxes.create(w.alice.id, "Projects");
    // A ping finds the new folder and announces it…
    while (!seen.includes('"folder":"Projects"')) seen += (await reader.read()).value ?? "";
    seen = "";
    // …and mail filed into it is heard.
    await w.store.messages.deliver(sampleMessage("filed"), [{
      accountId: w.alice.id,
      mailbox: "Projects",
    }]);
    while (!seen.includes('"folder":"Projects"')) seen += (await reader.read()).value ?? "";
    await reader.cancel();
  }, { eventPingMs: 50 });
});

Deno.test("an event stream whose session another node revoked ends at the next ping", async () => {
  await withWeb(async (w) => {
    const browser = w.browser();
    await browser.signIn();
    const response = await browser.request("/events", { headers: { accept: "text/event-stream" } });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    // Not through this process's WebSessions: as another node's sign out would.
    await w.store.sql`update web_sessions set revoked_at = now()`;
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
    }
    assertEquals(w.store.changes.watched, 0);
  }, { eventPingMs: 50 });
});

Deno.test("a folder is paged by UID, 50 messages a page, with older and newer links", async () => {
  await withWeb(async (w) => {
    for (let i = 1; i <= 55; i++) {
      await w.store.messages.deliver(sampleMessage(`m${i}x`), [{ accountId: w.alice.id }]);
    }
    const browser = w.browser();
    await browser.signIn();
    const uids = (page: string) => [...page.matchAll(/data-uid="(\d+)"/g)].map((m) => Number(m[1]));
    const first = await (await browser.request("/mail")).text();
    assertEquals(uids(first), Array.from({ length: 50 }, (_, i) => 55 - i));
    assert(!first.includes('rel="prev"'), "no newer page from the newest");
    const older = /href="([^"]+)" rel="next"/.exec(first)![1]!.replaceAll("&amp;", "&");
    assertEquals(older, "/mail?folder=INBOX&before=6");
    const second = await (await browser.request(older)).text();
    assertEquals(uids(second), [5, 4, 3, 2, 1]);
    assert(!second.includes('rel="next"'), "no older page from the oldest");
    const newer = /href="([^"]+)" rel="prev"/.exec(second)![1]!.replaceAll("&amp;", "&");
    assertEquals(newer, "/mail?folder=INBOX&after=5");
    const back = await (await browser.request(newer)).text();
    assertEquals(uids(back), Array.from({ length: 50 }, (_, i) => 55 - i));
    assert(back.includes('rel="next"') && !back.includes('rel="prev"'));
  });
});

Deno.test("attachments are listed and downloaded as attachments, never shown", async () => {
  await withWeb(async (w) => {
    const raw = new TextEncoder().encode(
      [
        "From: Bob <bob@remote.example>",
        "To: alice@example.org",
        "Subject: Files",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "See attached.",
        "--b1",
        'Content-Type: text/html; name="page.html"',
        'Content-Disposition: attachment; filename="../évil \\"page\\".html"',
        "Content-Transfer-Encoding: base64",
        "",
        btoa("<script>alert(1)</script>"),
        "--b1--",
        "",
      ].join("\r\n"),
    );
    await w.store.messages.deliver(raw, [{ accountId: w.alice.id }]);
    const browser = w.browser();
    await browser.signIn();
    const page = await (await browser.request("/mail/read?folder=INBOX&uid=1")).text();
    const link = /href="([^"]*\/mail\/part\?[^"]+)"/.exec(page)![1]!.replaceAll("&amp;", "&");
    assertEquals(link, "/mail/part?folder=INBOX&uid=1&part=2");
    const download = await browser.request(link);
    assertEquals(download.status, 200);
    assertEquals(await download.text(), "<script>alert(1)</script>");
    const h = download.headers;
    assertEquals(h.get("content-type"), "application/octet-stream");
    assertEquals(
      h.get("content-disposition"),
      `attachment; filename="_vil _page_.html"; filename*=UTF-8''%C3%A9vil%20%22page%22.html`,
    );
    assertEquals(h.get("x-content-type-options"), "nosniff");
    assertEquals(h.get("content-security-policy"), "default-src 'none'; sandbox");
    for (const [part, status] of [["3", 404], ["1.1", 404], ["x", 400], ["", 400]] as const) {
      const response = await browser.request(`/mail/part?folder=INBOX&uid=1&part=${part}`);
      await response.body?.cancel();
      assertEquals(response.status, status, part);
    }
  });
});
