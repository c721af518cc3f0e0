import { assertEquals } from "../../../tests/assert.ts";
import { displaySafe, escapeHtml, htmlToText, textToHtml, unflow } from "./text.ts";

Deno.test("escapeHtml escapes the five characters of HTML", () => {
  assertEquals(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;",
  );
});

Deno.test("displaySafe drops controls and bidi controls, keeps line breaks only when asked", () => {
  assertEquals(displaySafe("a\u202eb\u2066c\u0000d\r\ne\u0085f"), "abc d e f");
  assertEquals(displaySafe("a\r\nb\tc\u0007", true), "a\r\nb\tc");
});

Deno.test("textToHtml links http, https, www and addresses only, trimming punctuation", () => {
  const html = textToHtml(
    "(see https://a.example/x), ftp://b.example/ and javascript:alert(1); me@x.example.",
  );
  assertEquals(
    html,
    '<div style="white-space: pre-wrap; overflow-wrap: break-word">(see <a href="https://a.example/x">https://a.example/x</a>), ' +
      'ftp://b.example/ and javascript:alert(1); <a href="mailto:me@x.example">me@x.example</a>.</div>',
  );
  assertEquals(
    textToHtml('https://a.example/"><script>'),
    '<div style="white-space: pre-wrap; overflow-wrap: break-word"><a href="https://a.example/">https://a.example/</a>&#34;&#62;&#60;script&#62;</div>',
  );
});

Deno.test("unflow joins soft breaks (RFC 3676 §4.2), keeps the signature separator (§4.3)", () => {
  assertEquals(unflow("a \nb\n-- \nsig \nline", { delSp: false }), "a b\n-- \nsig line");
  assertEquals(unflow("> a \n> b\n>> c", { delSp: false }), "> a b\n>> c");
});

Deno.test("htmlToText: references decoded, hidden elements skipped, blocks on lines", () => {
  assertEquals(
    htmlToText(
      "<head><title>t</title></head><div>One&nbsp;&amp;<b>two</b></div><p>Three</p><script>x()</script><br>Four",
    ),
    "One &two\nThree\nFour",
  );
  assertEquals(htmlToText("<p>a</p>\n\n\n<p>b</p>"), "a\nb");
});
