import { assertEquals } from "../../../tests/assert.ts";
import { classifyUrl } from "./url.ts";

Deno.test("URLs are read as browsers read them: controls stripped, tabs and newlines removed", () => {
  for (
    const hostile of [
      "javascript:alert(1)",
      " \u0001JavaScript:alert(1)",
      "java\tscript:x",
      "jav\nascript:x",
      "vbscript:x",
      "data:text/html,<script>x</script>",
      "data:image/svg+xml,<svg onload=x>",
      "file:///etc/passwd",
      "/relative",
      "#top",
      "cid",
    ]
  ) {
    assertEquals(classifyUrl(hostile).kind, "unsafe", hostile);
  }
});

Deno.test("web, mailto, cid and raster data: URLs, in canonical form", () => {
  assertEquals(classifyUrl(" https://Example.COM/a b "), {
    kind: "web",
    href: "https://example.com/a%20b",
  });
  assertEquals(classifyUrl("//cdn.example/x.png"), {
    kind: "web",
    href: "https://cdn.example/x.png",
  });
  assertEquals(classifyUrl("HTTP://x.example"), { kind: "web", href: "http://x.example/" });
  assertEquals(classifyUrl("mailto:bob@example.com?subject=hi"), {
    kind: "mailto",
    href: "mailto:bob@example.com?subject=hi",
  });
  assertEquals(classifyUrl("CID:part1%40example.org"), { kind: "cid", href: "part1@example.org" });
  assertEquals(classifyUrl("cid:100%"), { kind: "cid", href: "100%" });
  assertEquals(classifyUrl("data:image/png;base64,iVBORw0KGgo=").kind, "image-data");
  assertEquals(classifyUrl("data:image/jpeg,xyz").kind, "image-data");
});
