/**
 * Every case of the XSS corpus (tests/xss_corpus.ts), delivered as a message and rendered,
 * then parsed again with the sanitiser's own parser (htmlparser2): no script, no element
 * outside the allow-list, no event handler, no javascript:/vbscript:/data:text URL, no CSS
 * that runs or loads, and nothing remote unless allowed — with the blocked count right.
 */

import { assert, assertEquals } from "../../../tests/assert.ts";
import { XSS_CORPUS, type XssCase, xssCorpus, xssMessage } from "../../../tests/xss_corpus.ts";
import { renderMessage, sanitizeMessageHtml } from "./mod.ts";
import { problems } from "./_test_support.ts";

function render(entry: XssCase, allowRemote: boolean) {
  const raw = new TextEncoder().encode(
    xssMessage(entry, "mallory@evil.example", "alice@fumi.test"),
  );
  return renderMessage(raw, { allowRemote });
}

Deno.test("XSS corpus: names are unique and every family of the brief is present", () => {
  const names = XSS_CORPUS.map((entry) => entry.name);
  assertEquals(new Set(names).size, names.length);
  for (
    const family of [
      "script",
      "onerror",
      "onload",
      "onmouseover",
      "handler-mixed-case",
      "handler-slash-separator",
      "a-javascript-entity",
      "data-html",
      "svg-script",
      "svg-onload",
      "math-maction",
      "css-expression",
      "css-url-javascript",
      "meta-refresh",
      "base-href",
      "form-input",
      "iframe-nested",
      "object-data",
      "embed-src",
      "script-in-comment-break",
      "noscript",
      "template",
      "remote-img-http",
      "remote-img-https",
      "remote-img-protocol-relative",
      "remote-img-srcset",
      "remote-css-background",
    ]
  ) assert(names.some((name) => name.includes(family)), `no case for ${family}`);
});

Deno.test("XSS corpus: nothing executable or remote survives rendering", () => {
  const failures: string[] = [];
  for (const entry of XSS_CORPUS) {
    const shown = render(entry, false);
    const found = problems(shown.html ?? "", false);
    if (found.length > 0) failures.push(`${entry.name}: ${found.join("; ")}\n  ${shown.html}`);
    if (shown.remoteBlocked !== entry.remote) {
      failures.push(`${entry.name}: blocked ${shown.remoteBlocked}, expected ${entry.remote}`);
    }
  }
  assertEquals(failures, []);
});

Deno.test("XSS corpus: with remote content allowed, still nothing executable, nothing counted", () => {
  const failures: string[] = [];
  for (const entry of xssCorpus("https://127.0.0.1:8999")) {
    const shown = render(entry, true);
    const found = problems(shown.html ?? "", true);
    if (found.length > 0) failures.push(`${entry.name}: ${found.join("; ")}\n  ${shown.html}`);
    if (shown.remoteBlocked !== 0) failures.push(`${entry.name}: blocked ${shown.remoteBlocked}`);
  }
  assertEquals(failures, []);
});

Deno.test("XSS corpus: sanitising the sanitised output changes nothing (no mutation on re-parse)", () => {
  const failures: string[] = [];
  for (const entry of XSS_CORPUS) {
    const once = sanitizeMessageHtml(entry.html, { allowRemote: false }).html;
    const twice = sanitizeMessageHtml(once, { allowRemote: false }).html;
    if (twice !== once) failures.push(`${entry.name}:\n  ${once}\n  ${twice}`);
  }
  assertEquals(failures, []);
});
