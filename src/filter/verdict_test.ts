import { assertEquals } from "../../tests/assert.ts";
import { ACCEPT, quarantine, reject, tag, tempfail, verdictProblem } from "./verdict.ts";

Deno.test("the constructors make valid verdicts", () => {
  for (
    const verdict of [
      ACCEPT,
      tag(["X-Spam-Score", "1.0"], ["X-Spam-Flag", "NO"]),
      tag(),
      quarantine("spam score 9"),
      reject(550, "5.7.1", "Refused by policy"),
      reject(554, "5.6.0", "Bad header"),
      tempfail(451, "4.7.1", "Try again later"),
      tempfail(452, "4.5.3", "Too many recipients"),
    ]
  ) {
    assertEquals(verdictProblem(verdict), null, JSON.stringify(verdict));
  }
  assertEquals(tag(["A", "b"]), { action: "tag", headers: [["A", "b"]] });
});

Deno.test("verdictProblem names what is wrong", () => {
  const cases: [unknown, string][] = [
    [null, "the verdict is not an object"],
    ["accept", "the verdict is not an object"],
    [{ action: "drop" }, 'unknown action "drop"'],
    [reject(450, "4.7.1", "x"), "code 450 is not a 5xx reply code"],
    [reject(550, "4.7.1", "x"), 'enhanced code "4.7.1" is not a 5.x.x status code'],
    [reject(550, "5.7", "x"), 'enhanced code "5.7" is not a 5.x.x status code'],
    [reject(550, "5.1000.1", "x"), 'enhanced code "5.1000.1" is not a 5.x.x status code'],
    [reject(550.5, "5.7.1", "x"), "code 550.5 is not a 5xx reply code"],
    [tempfail(550, "5.7.1", "x"), "code 550 is not a 4xx reply code"],
    [tempfail(451, "4.7.1", "a\r\n250 ok"), "the text contains CR, LF or NUL"],
    [tempfail(451, "4.7.1", "x".repeat(401)), "the text is longer than 400 characters"],
    [quarantine("a\nb"), "the reason contains CR, LF or NUL"],
    [{ action: "quarantine" }, "the reason is not a string"],
    [{ action: "tag", headers: "X: y" }, "the headers are not a list"],
    [{ action: "tag", headers: [["X"]] }, "a header is not a [name, value] pair"],
    [tag(["X:Y", "z"]), 'header name "X:Y" is not a field name (RFC 5322 §3.6.8)'],
    [tag(["", "z"]), 'header name "" is not a field name (RFC 5322 §3.6.8)'],
    [
      tag(["X", "a\r\nBcc: x@example.org"]),
      "the value of header X is not a string without CR, LF or NUL",
    ],
  ];
  for (const [verdict, problem] of cases) {
    assertEquals(verdictProblem(verdict), problem, JSON.stringify(verdict));
  }
});
