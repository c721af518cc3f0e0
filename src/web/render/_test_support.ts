/**
 * Test support: what a browser could run or load in rendered HTML, found by parsing it again
 * with the sanitiser's own parser (htmlparser2).
 *
 * @module
 */

import { parseDocument } from "htmlparser2";
import { BLOCKED_IMAGE } from "./sanitize.ts";

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
export function problems(html: string, allowRemote: boolean): string[] {
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
