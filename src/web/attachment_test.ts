/** Parts by IMAP section number, and the download's Content-Disposition. */

import { assertEquals } from "../../tests/assert.ts";
import { parseStructure } from "../mime/mod.ts";
import { contentDisposition, partAt } from "./attachment.ts";

const nested = new TextEncoder().encode(
  [
    'Content-Type: multipart/mixed; boundary="a"',
    "",
    "--a",
    "Content-Type: text/plain",
    "",
    "one",
    "--a",
    'Content-Type: multipart/alternative; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "two-one",
    "--b",
    "Content-Type: text/html",
    "",
    "<p>two-two</p>",
    "--b--",
    "--a--",
    "",
  ].join("\r\n"),
);

Deno.test("partAt walks section numbers to leaves only", () => {
  const root = parseStructure(nested);
  const text = (id: string) => {
    const part = partAt(root, id);
    return part === null
      ? null
      : new TextDecoder().decode(nested.subarray(part.bodyStart, part.end));
  };
  assertEquals(text("1"), "one");
  assertEquals(text("2.1"), "two-one");
  assertEquals(text("2.2"), "<p>two-two</p>");
  assertEquals(text("2"), null); // a multipart is no download
  assertEquals(text("3"), null);
  assertEquals(text("1.1"), null);
  assertEquals(text("0"), null);
  const single = new TextEncoder().encode("Subject: x\r\n\r\nbody\r\n");
  assertEquals(partAt(parseStructure(single), "1")?.bodyStart, 14);
  assertEquals(partAt(parseStructure(single), "2"), null);
});

Deno.test("contentDisposition: an ASCII fallback and the exact UTF-8 name", () => {
  assertEquals(
    contentDisposition("report.pdf"),
    `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
  );
  assertEquals(
    contentDisposition(`naïve "100%" (v2).txt`),
    `attachment; filename="na_ve _100__ (v2).txt"; ` +
      `filename*=UTF-8''na%C3%AFve%20%22100%25%22%20%28v2%29.txt`,
  );
  assertEquals(contentDisposition(""), `attachment; filename="attachment"; filename*=UTF-8''`);
});
