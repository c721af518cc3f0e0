import fc from "fast-check";
import { assertEquals } from "../../../tests/assert.ts";
import { renderMessage, snippet } from "./message.ts";
import { sanitizeMessageHtml } from "./sanitize.ts";
import { problems } from "./_test_support.ts";

/** Pieces of markup that parsers have disagreed about, to be shuffled into new payloads. */
const piece = fc.constantFrom(
  "<",
  ">",
  "</",
  "/>",
  "/",
  "=",
  '"',
  "'",
  "`",
  " ",
  "\t",
  "\n",
  "\u0000",
  "<!--",
  "-->",
  "--!>",
  "<!-->",
  "<![CDATA[",
  "]]>",
  "<?",
  "script",
  "img",
  "svg",
  "math",
  "style",
  "iframe",
  "noscript",
  "template",
  "textarea",
  "title",
  "xmp",
  "a",
  "p",
  "table",
  "src",
  "href",
  "srcset",
  "background",
  "onerror",
  "onload",
  "OnMouseOver",
  "javascript:",
  "&#106;avascript:",
  "java&#x09;script:",
  "data:text/html,",
  "//evil.example/x",
  "http://evil.example/y",
  "url(",
  "expression(",
  "alert(1)",
  ";",
  "x",
);

Deno.test("fuzz: shuffled markup never sanitises to anything executable or remote", () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const html = pieces.join("");
      const once = sanitizeMessageHtml(html, { allowRemote: false }).html;
      assertEquals(problems(once, false), [], `input: ${JSON.stringify(html)}`);
      assertEquals(sanitizeMessageHtml(once, { allowRemote: false }).html, once, "idempotent");
    }),
    { numRuns: 3000 },
  );
});

/** Lines that make up hostile messages: structure, encodings, charsets, cids. */
const line = fc.constantFrom(
  "Content-Type: multipart/alternative; boundary=b",
  "Content-Type: multipart/related; boundary=b; start=<x>",
  "Content-Type: text/html; charset=utf-7",
  "Content-Type: text/plain; charset=x-nonsense; format=flowed; delsp=yes",
  "Content-Type: image/png; name*0*=utf-8''%E2%80; name*1=.exe",
  "Content-Type: message/rfc822",
  "Content-Transfer-Encoding: base64",
  "Content-Transfer-Encoding: quoted-printable",
  'Content-Disposition: attachment; filename="=?utf-8?q?a=E2=80=AE?="',
  "Content-ID: <x>",
  "Subject: =?utf-8?b?PHNjcmlwdD4=?=",
  "--b",
  "--b--",
  "",
  "<img src=cid:x onerror=alert(1)>",
  "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
  "=3Cscript=3Ealert(1)=3C/script=3E=",
  "> quoted ",
  "\u00e9\u2028\ud83c",
);

Deno.test("fuzz: any message renders without throwing, and its HTML stays clean", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
      const raw = new TextEncoder().encode(lines.join("\r\n"));
      const shown = renderMessage(raw, { allowRemote: false });
      assertEquals(problems(shown.html ?? "", false), [], JSON.stringify(lines));
      const short = snippet(raw);
      assertEquals(Array.from(short).length <= 140, true);
    }),
    { numRuns: 1000 },
  );
});
