import { assert, assertEquals, assertStringIncludes } from "../../../tests/assert.ts";
import { BLOCKED_IMAGE, MAX_SANITISED_BYTES, renderMessage, snippet } from "./mod.ts";

/** A message from a template: LF line ends become CRLF, as stored. */
function message(text: string): Uint8Array {
  return new TextEncoder().encode(text.replace(/\r?\n/g, "\r\n"));
}

/** Base64 of bytes in lines of 76 (RFC 2045 §6.8). */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/.{76}/g, "$&\n");
}

const ALTERNATIVE = message(`From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>
To: alice@example.com, "Bob, Jr." <bob@example.com>
Cc: Undisclosed:;
Subject: =?iso-8859-1?q?R=E9union_=E0_8h?=
Date: Tue, 2 Jan 2024 08:30:00 +0100
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

R=E9union demain =E0 8h, salle =AB Bleue =BB. Ordre du jour : https://ex=
ample.com/agenda?id=3D7.
--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

${
  base64(
    new TextEncoder().encode(
      '<p onclick="steal()">Réunion <b>demain</b> à 8h</p><script>steal()</script><img src="https://tracker.example/open.gif">',
    ),
  )
}
--alt--
`);

Deno.test("multipart/alternative: the HTML sanitised, the text decoded (quoted-printable, Latin-1)", () => {
  const shown = renderMessage(ALTERNATIVE, { allowRemote: false });
  assertEquals(
    shown.text,
    "Réunion demain à 8h, salle « Bleue ». Ordre du jour : https://example.com/agenda?id=7.",
  );
  assertEquals(
    shown.html,
    `<p>Réunion <b>demain</b> à 8h</p><img src="${BLOCKED_IMAGE}" title="Remote image blocked" />`,
  );
  assertEquals(shown.remoteBlocked, 1);
  assertEquals(shown.attachments, []);
});

Deno.test("display headers: encoded words decoded, names with addresses, groups left out", () => {
  const { headers } = renderMessage(ALTERNATIVE, { allowRemote: false });
  assertEquals(headers, {
    from: "Jörg Müller <joerg@example.org>",
    to: "alice@example.com, Bob, Jr. <bob@example.com>",
    cc: "",
    date: "Tue, 2 Jan 2024 08:30:00 +0100",
    dateMs: Date.UTC(2024, 0, 2, 7, 30),
    subject: "Réunion à 8h",
  });
});

Deno.test("display headers: controls and bidi overrides cannot disguise a sender or subject", () => {
  const raw = message(
    "From: =?utf-8?b?" +
      btoa(String.fromCharCode(...new TextEncoder().encode("PayPal\u202e moc.live"))) +
      "?= <x@evil.example>\nSubject: =?utf-8?q?a=0Db=00c?=\n\nhi\n",
  );
  const { headers } = renderMessage(raw, { allowRemote: false });
  assertEquals(headers.from, "PayPal moc.live <x@evil.example>");
  assertEquals(headers.subject, "a b c");
});

Deno.test("remote images: blocked and counted, then shown when allowed", () => {
  const html = `<p>News</p><img src="http://img.example/a.png" alt="a">
<img src="//img.example/b.png"><img srcset="https://img.example/c.png 2x">
<table background="https://img.example/bg.png"><tr><td style="background:url(https://img.example/d.png)">x</td></tr></table>`;
  const raw = message(`Subject: news\nContent-Type: text/html; charset=utf-8\n\n${html}\n`);
  const blocked = renderMessage(raw, { allowRemote: false });
  assertEquals(blocked.remoteBlocked, 5);
  assert(!blocked.html!.includes("img.example"), blocked.html!);
  assertStringIncludes(blocked.html!, `<img src="${BLOCKED_IMAGE}" />`); // the srcset-only image
  const allowed = renderMessage(raw, { allowRemote: true });
  assertEquals(allowed.remoteBlocked, 0);
  assertStringIncludes(allowed.html!, '<img alt="a" src="http://img.example/a.png" />');
  assertStringIncludes(allowed.html!, '<img src="https://img.example/b.png" />');
  assertStringIncludes(allowed.html!, 'srcset="https://img.example/c.png 2x"');
  assertStringIncludes(allowed.html!, '<table background="https://img.example/bg.png">');
  assert(!allowed.html!.includes("d.png"), "CSS url() is never kept"); // documented in mod.ts
});

Deno.test("text only: safe HTML with clickable links, markup in the text escaped", () => {
  const raw = message(`Subject: hi
Content-Type: text/plain; charset=utf-8

Hi <b>Alice</b> & co, see https://example.com/a_(b) or www.example.org/x, mail bob@example.com.
javascript:alert(1) stays text.
`);
  const shown = renderMessage(raw, { allowRemote: false });
  const link = (href: string, text: string) =>
    `<a href="${href}" rel="noopener noreferrer" target="_blank" title="${href}">${text}</a>`;
  assertEquals(
    shown.html,
    '<div style="white-space:pre-wrap;overflow-wrap:break-word">Hi &lt;b&gt;Alice&lt;/b&gt; &amp; co, see ' +
      link("https://example.com/a_(b)", "https://example.com/a_(b)") + " or " +
      link("https://www.example.org/x", "www.example.org/x") + ", mail " +
      link("mailto:bob@example.com", "bob@example.com") +
      ".\r\njavascript:alert(1) stays text.\r\n</div>",
  );
  assertEquals(shown.remoteBlocked, 0);
});

Deno.test("format=flowed text is joined (RFC 3676), delsp honoured, quotes kept apart", () => {
  const raw = message(`Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes

This is one long para 
graph.
> quoted line  
> continued
 >not a quote (space-stuffed)
`);
  assertEquals(
    renderMessage(raw, { allowRemote: false }).text,
    "This is one long paragraph.\n> quoted line continued\n>not a quote (space-stuffed)\n",
  );
});

Deno.test("charsets: UTF-8 base64, windows-1252 quoted-printable, unknown charset, mislabelled ASCII", () => {
  const utf8 = message(
    `Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n${
      base64(new TextEncoder().encode("Grüße, 東京 🎉"))
    }\n`,
  );
  assertEquals(renderMessage(utf8, { allowRemote: false }).text, "Grüße, 東京 🎉");
  const cp1252 = message(
    "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n=93Quotes=94 cost =8020=\n.\n",
  );
  assertEquals(
    renderMessage(cp1252, { allowRemote: false }).text,
    "\u201cQuotes\u201d cost €20.\r\n",
  );
  const unknown = message(
    "Content-Type: text/plain; charset=x-made-up\nContent-Transfer-Encoding: 8bit\n\ncaf\xe9\n",
  );
  // The template's "\xe9" is encoded as UTF-8, so the body is valid UTF-8: read as such.
  assertEquals(renderMessage(unknown, { allowRemote: false }).text, "café\r\n");
  const mislabelled = message("Content-Type: text/plain\n\nna\u00efve\n");
  assertEquals(renderMessage(mislabelled, { allowRemote: false }).text, "naïve\r\n");
});

const MIXED = message(`From: a@example.org
Subject: Files
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

See the logo.
--alt
Content-Type: text/html; charset=us-ascii

<p>See the logo: <img src="cid:logo%40example.org" alt="logo"> <img src="cid:missing@x"></p>
--alt--
--rel
Content-Type: image/png
Content-ID: <logo@example.org>
Content-Transfer-Encoding: base64
Content-Disposition: inline

iVBORw0KGgo=
--rel--
--mix
Content-Type: application/pdf; name="=?utf-8?q?Rechnung_M=C3=A4rz.pdf?="
Content-Disposition: attachment;
 filename*0*=utf-8''%E2%82%AC%20Quittung%20;
 filename*1*=M%C3%A4rz;
 filename*2=".pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJeLjz9MK
--mix
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="../../etc/invoice\u202Efdp.exe"

MZ
--mix
Content-Type: message/rfc822

Subject: =?utf-8?q?Fwd=3A_caf=C3=A9?=
From: c@example.org

inner
--mix--
`);

Deno.test("attachments: RFC 2231 continuations and charsets, Content-IDs, unsafe names made safe", () => {
  const shown = renderMessage(MIXED, {
    allowRemote: false,
    cidUrl: (cid) => (cid === "logo@example.org" ? "/webmail/part/1.2" : null),
  });
  assertEquals(shown.text, "See the logo.");
  assertEquals(
    shown.html,
    `<p>See the logo: <img alt="logo" src="/webmail/part/1.2" /> <img src="${BLOCKED_IMAGE}" /></p>`,
  );
  assertEquals(shown.remoteBlocked, 0);
  assertEquals(shown.attachments, [
    {
      partId: "1.2",
      filename: null,
      contentType: "image/png",
      size: 8,
      disposition: "inline",
      contentId: "logo@example.org",
    },
    {
      partId: "2",
      filename: "€ Quittung März.pdf",
      contentType: "application/pdf",
      size: 15,
      disposition: "attachment",
      contentId: null,
    },
    {
      partId: "3",
      filename: "invoicefdp.exe",
      contentType: "application/octet-stream",
      size: 2,
      disposition: "attachment",
      contentId: null,
    },
    {
      partId: "4",
      filename: "Fwd: café.eml",
      contentType: "message/rfc822",
      size: 67,
      disposition: "inline",
      contentId: null,
    },
  ]);
});

Deno.test("a single non-text part is attachment 1; an empty message has no body", () => {
  const pdf = message(
    'Content-Type: application/pdf\nContent-Disposition: attachment; filename="a.pdf"\n\n%PDF\n',
  );
  const shown = renderMessage(pdf, { allowRemote: false });
  assertEquals(shown.text, null);
  assertEquals(shown.html, null);
  assertEquals(shown.attachments.map((a) => [a.partId, a.filename]), [["1", "a.pdf"]]);
  const empty = renderMessage(new Uint8Array(), { allowRemote: false });
  assertEquals([empty.text, empty.html, empty.attachments.length], [
    "",
    '<div style="white-space:pre-wrap;overflow-wrap:break-word"></div>',
    0,
  ]);
});

Deno.test("snippet: first readable text on one line, quotes skipped, HTML when no text, cut at 140", () => {
  assertEquals(
    snippet(ALTERNATIVE),
    "Réunion demain à 8h, salle « Bleue ». Ordre du jour : https://example.com/agenda?id=7.",
  );
  const reply = message(
    "Content-Type: text/plain\n\nSure, 8h works.\n\n> Réunion demain?\n> Bleue\n",
  );
  assertEquals(snippet(reply), "Sure, 8h works.");
  const html = message(
    "Content-Type: text/html\n\n<html><head><title>T</title><style>p{}</style></head><body><h1>Sale</h1><p>50&#37; &amp; more</p><script>x</script></body></html>\n",
  );
  assertEquals(snippet(html), "Sale 50% & more");
  const long = message(`Content-Type: text/plain\n\n${"word ".repeat(100)}🎉🎉\n`);
  const cut = snippet(long);
  assertEquals(Array.from(cut).length, 140);
  assert(cut.endsWith("…"));
  const emoji = message(`Content-Type: text/plain; charset=utf-8\n\n${"🎉".repeat(300)}\n`);
  assertEquals(snippet(emoji), "🎉".repeat(139) + "…"); // never half a surrogate pair
});

Deno.test("a body part over the sanitiser's limit is not sanitised: the text part is shown, or nothing", () => {
  const big = "<p>" + "x".repeat(MAX_SANITISED_BYTES) + "</p>";
  const alternative = new TextEncoder().encode(
    "Subject: Big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
      "--b\r\nContent-Type: text/plain\r\n\r\nThe short version.\r\n" +
      `--b\r\nContent-Type: text/html\r\n\r\n${big}\r\n--b--\r\n`,
  );
  const shown = renderMessage(alternative, { allowRemote: false });
  assertEquals(shown.tooLarge, true);
  assert(shown.html !== null && shown.html.includes("The short version."));
  assert(!shown.html.includes("xxxx"));
  const alone = new TextEncoder().encode(
    `Subject: Big\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n${big}\r\n`,
  );
  const none = renderMessage(alone, { allowRemote: false });
  assertEquals(none.tooLarge, true);
  assertEquals(none.html, null);
  assertEquals(renderMessage(ALTERNATIVE, { allowRemote: false }).tooLarge, false);
});
