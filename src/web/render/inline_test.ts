import { assertEquals } from "../../../tests/assert.ts";
import { parseStructure } from "../../mime/mod.ts";
import { inlineImages, MAX_INLINE_IMAGE } from "./inline.ts";
import { BLOCKED_IMAGE, renderMessage } from "./mod.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==";

function related(extra = ""): Uint8Array {
  return new TextEncoder().encode(
    `Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n` +
      `<p><img src="cid:dot@x"><img src="cid:pic@x"><img src="cid:none@x"></p>\r\n` +
      `--r\r\nContent-Type: image/png\r\nContent-ID: <dot@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${PNG.slice(0, 40)}\r\n${PNG.slice(40)}\r\n` +
      `--r\r\nContent-Type: image/svg+xml\r\nContent-ID: <pic@x>\r\n\r\n<svg onload="alert(1)"/>\r\n` +
      extra + `--r--\r\n`,
  );
}

Deno.test("cid: raster images are inlined as data: URLs; SVG and unknown Content-IDs are not", () => {
  const shown = renderMessage(related(), { allowRemote: false });
  assertEquals(
    shown.html,
    `<p><img src="data:image/png;base64,${PNG}" /><img src="${BLOCKED_IMAGE}" /><img src="${BLOCKED_IMAGE}" /></p>`,
  );
  assertEquals(shown.remoteBlocked, 0);
});

Deno.test("cid: inlining is bounded per image", () => {
  const big = btoa("x".repeat(MAX_INLINE_IMAGE + 3)).replace(/.{76}/g, "$&\r\n");
  const raw = related(
    `--r\r\nContent-Type: image/gif\r\nContent-ID: <big@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n`,
  );
  const lookup = inlineImages(parseStructure(raw), raw);
  assertEquals(lookup("big@x"), null);
  assertEquals(lookup("dot@x"), `data:image/png;base64,${PNG}`);
});
