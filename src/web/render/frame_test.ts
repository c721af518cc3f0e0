import { assert, assertEquals, assertStringIncludes } from "../../../tests/assert.ts";
import { FRAME_SANDBOX, frameDocument, renderCsp } from "./frame.ts";

Deno.test("the frame's CSP allows no script, and remote images only when allowed", () => {
  assertEquals(
    renderCsp(false),
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  );
  assertEquals(
    renderCsp(true, "https://mail.example.com"),
    "default-src 'none'; img-src data: https://mail.example.com https: http:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  );
  assertEquals(
    renderCsp(false, "https://x; script-src *"),
    renderCsp(false, "https://xscript-src*"),
  );
  assert(!/allow-scripts|allow-same-origin/.test(FRAME_SANDBOX));
});

Deno.test("the frame document carries the policy and the HTML", () => {
  const doc = frameDocument("<p>hi</p>", false);
  assertStringIncludes(
    doc,
    `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:;`,
  );
  assertStringIncludes(doc, "<body><p>hi</p></body>");
});
