import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { MalformedReplyError, MAX_REPLY_LINES, ReplyAssembler, replyText } from "./reply_parser.ts";

Deno.test("ReplyAssembler: single and multiline replies, enhanced codes on every line", () => {
  const r = new ReplyAssembler();
  assertEquals(r.push("220 mx.example.net ESMTP"), {
    code: 220,
    enhanced: null,
    lines: ["mx.example.net ESMTP"],
  });
  assertEquals(r.push("250-mx.example.net"), null);
  assertEquals(r.push("250-PIPELINING"), null);
  assertEquals(r.push("250 SIZE 1000"), {
    code: 250,
    enhanced: null,
    lines: ["mx.example.net", "PIPELINING", "SIZE 1000"],
  });
  // RFC 2034 §3: the enhanced code starts the text of each line.
  r.push("550-5.1.1 No such user");
  const refused = r.push("550 5.1.1 here")!;
  assertEquals(refused, { code: 550, enhanced: "5.1.1", lines: ["No such user", "here"] });
  assertEquals(replyText(refused), "550 5.1.1 No such user here");
  // A code of another class is text, not an enhanced code; a bare code is a reply.
  assertEquals(r.push("250 5.0.0 odd"), { code: 250, enhanced: null, lines: ["5.0.0 odd"] });
  assertEquals(r.push("354"), { code: 354, enhanced: null, lines: [""] });
  assertEquals(replyText({ code: 354, enhanced: null, lines: [""] }), "354");
});

Deno.test("ReplyAssembler: malformed replies are errors, never guesses", () => {
  for (const line of ["", "hello", "25", "2500 x", "650 x", "250_x"]) {
    assertThrows(() => new ReplyAssembler().push(line), MalformedReplyError);
  }
  const mixed = new ReplyAssembler();
  mixed.push("250-first");
  assertThrows(() => mixed.push("251 second"), MalformedReplyError, "inside a 250 reply");
  const long = new ReplyAssembler();
  for (let i = 0; i < MAX_REPLY_LINES; i++) long.push("250-x");
  assertThrows(() => long.push("250-x"), MalformedReplyError, "lines");
});
