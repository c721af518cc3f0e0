/**
 * Every case of the XSS corpus (tests/xss_corpus.ts), delivered as a message and rendered,
 * then parsed again with the sanitiser's own parser (htmlparser2): no script, no element
 * outside the allow-list, no event handler, no javascript:/vbscript:/data:text URL, no CSS
 * that runs or loads, and nothing remote unless allowed — with the blocked count right.
 */

import { parseDocument } from "htmlparser2";
import { assert, assertEquals } from "../../../tests/assert.ts";
import { XSS_CORPUS, type XssCase, xssCorpus, xssMessage } from "../../../tests/xss_corpus.ts";
import { BLOCKED_IMAGE, renderMessage, sanitizeMessageHtml } from "./mod.ts";

/** Elements the output may hold at all (the sanitiser's allow-list). */
const SAFE_ELEMENTS = new Set(
  ("a abbr address article aside b bdi bdo big blockquote br caption center cite code col " +
    "colgroup dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 " +
    "header hr i img ins kbd li main mark nav ol p pre q rp rt ruby s samp section small span " +
    "strike strong sub summary sup table tbody td tfoot th thead time tr tt u ul var wbr").split(
      " ",
    ),
);
/** Attributes whose value a browser fetches or navigates to. */
const URL_ATTRIBUTES = new Set([
  "href",
  "src",
  "srcset",
  "background",
  "action",
  "formaction",
  "xlink:href",
  "poster",
  "data",
  "ping",
  "cite",
  "longdesc",
  "lowsrc",
  "dynsrc",
]);
/** Attributes whose value is loaded, not just followed when clicked. */
const LOADED = new Set(["src", "srcset", "background", "poster", "data", "lowsrc", "dynsrc"]);

/** The part of domhandler's node shape this test reads (elements, scripts and styles alike). */
interface Node {
  name?: string;
  attribs?: Record<string, string>;
  children?: Node[];
}

function elements(nodes: Node[], out: { name: string; attribs: Record<string, string> }[] = []) {
  for (const node of nodes) {
    if (node.name !== undefined && node.attribs !== undefined) {
      out.push({ name: node.name, attribs: node.attribs });
    }
    elements(node.children ?? [], out);
  }
  return out;
}

/** The problems a browser could have with `html`: each a short description. */
function problems(html: string, allowRemote: boolean): string[] {
  const found: string[] = [];
  // Text is escaped by the sanitiser, so no dangerous tag may appear even as raw characters.
  const raw =
    /<\s*\/?\s*(script|style|iframe|frame|object|embed|applet|svg|math|form|input|button|textarea|select|meta|base|link|template|noscript)\b/i
      .exec(html);
  if (raw !== null) found.push(`raw <${raw[1]}>`);
  for (const element of elements((parseDocument(html) as Node).children ?? [])) {
    if (!SAFE_ELEMENTS.has(element.name)) found.push(`element <${element.name}>`);
    for (const [name, value] of Object.entries(element.attribs)) {
      if (/^on/i.test(name)) found.push(`handler ${name}`);
      // deno-lint-ignore no-control-regex
      const url = value.replace(/[\x00-\x20]/g, "").toLowerCase();
      if (URL_ATTRIBUTES.has(name)) {
        if (/^(?:javascript|vbscript|livescript):/.test(url)) found.push(`${name}=${value}`);
        if (url.startsWith("data:") && !/^data:image\/(?:png|gif|jpeg|webp)[;,]/.test(url)) {
          if (value !== BLOCKED_IMAGE) found.push(`${name}=${value.slice(0, 40)}`);
        }
        if (LOADED.has(name) && !allowRemote && /(?:^|,|\s)(?:https?:|\/\/)/.test(url)) {
          found.push(`remote ${name}=${value}`);
        }
      }
      if (
        name === "style" && /url\(|expression|\\|javascript|behavior|binding|@import/i.test(value)
      ) {
        found.push(`style=${value}`);
      }
    }
  }
  return found;
}

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
