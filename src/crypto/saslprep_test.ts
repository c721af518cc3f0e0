import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { InvalidInputError } from "../util/errors.ts";
import { opaqueStringProblem, prepareOpaqueString, tryPrepareOpaqueString } from "./saslprep.ts";

Deno.test("prepareOpaqueString leaves printable ASCII alone, case and spaces included", () => {
  for (
    const s of ["pencil", "Correct Horse Battery Staple", " lead and trail ", "!\"#$%&'()*+,-./~"]
  ) {
    assertEquals(prepareOpaqueString(s), s);
  }
});

Deno.test("prepareOpaqueString maps non-ASCII spaces to U+0020 (RFC 8265 §4.2.1)", () => {
  assertEquals(prepareOpaqueString("a\u00a0b"), "a b"); // NO-BREAK SPACE
  assertEquals(prepareOpaqueString("a\u3000b"), "a b"); // IDEOGRAPHIC SPACE
  assertEquals(prepareOpaqueString("a\u2009b\u202fc"), "a b c"); // THIN and NARROW NO-BREAK
  assertEquals(prepareOpaqueString("\u00a0"), " ");
});

Deno.test("prepareOpaqueString normalises to NFC", () => {
  const precomposed = "caf\u00e9";
  const decomposed = "cafe\u0301";
  assertEquals(prepareOpaqueString(decomposed), precomposed);
  assertEquals(prepareOpaqueString(precomposed), precomposed);
  // Hangul syllable from modern conjoining jamo composes and is then allowed.
  assertEquals(prepareOpaqueString("\u1112\u1161\u11ab"), "\ud55c");
  // No compatibility mapping: full-width letters and ligatures stay as they are.
  assertEquals(prepareOpaqueString("\uff21\ufb01"), "\uff21\ufb01");
});

Deno.test("prepareOpaqueString accepts letters, symbols and emoji of any script", () => {
  for (const s of ["пароль", "パスワード", "كلمة السر", "🔑🐈‍⬛", "Straße", "ℌ€∑"]) {
    assertEquals(prepareOpaqueString(s), s.normalize("NFC"));
  }
  // Join controls are accepted (their context rules are not enforced).
  assertEquals(prepareOpaqueString("می\u200cخواهم"), "می\u200cخواهم");
});

Deno.test("prepareOpaqueString rejects empty and disallowed input without echoing it", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["", "must not be empty"],
    ["secret\u0000", "control character"],
    ["secret\t", "control character"],
    ["secret\n", "control character"],
    ["secret\u007f", "control character"],
    ["secret\u0085", "control character"], // C1 (NEL)
    ["secret\u009b", "control character"], // C1 (CSI)
    ["secret\u200b", "invisible"], // ZERO WIDTH SPACE (default ignorable)
    ["secret\u00ad", "invisible"], // SOFT HYPHEN
    ["secret\ufeff", "invisible"], // BOM
    ["secret\ufffe", "non-character"],
    ["secret\u{10ffff}", "non-character"],
    ["secret\u2028", "line or paragraph separator"],
    ["secret\u202e", "invisible"], // RIGHT-TO-LEFT OVERRIDE
    ["secret\u0600", "formatting"], // ARABIC NUMBER SIGN (Cf, not ignorable)
    ["secret\ue000", "private-use"],
    ["secret\u0640", "disallowed"], // ARABIC TATWEEL (RFC 5892 exception)
    ["secret\u1100", "Hangul jamo"], // lone leading jamo
    ["secret\ud800", "not valid Unicode"],
  ];
  for (const [input, fragment] of cases) {
    const error = assertThrows(() => prepareOpaqueString(input), InvalidInputError, fragment);
    assert(!error.message.includes("secret"), `message echoes the password: ${error.message}`);
    assertEquals(tryPrepareOpaqueString(input), null, JSON.stringify(input));
  }
});

Deno.test("tryPrepareOpaqueString returns the prepared string when valid", () => {
  assertEquals(tryPrepareOpaqueString("cafe\u0301\u00a0bar"), "caf\u00e9 bar");
});

Deno.test("property: preparation is idempotent and never throws other errors", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => {
      const once = tryPrepareOpaqueString(s);
      if (once === null) {
        assertThrows(() => prepareOpaqueString(s), InvalidInputError);
        return;
      }
      assertEquals(tryPrepareOpaqueString(once), once);
      assertEquals(prepareOpaqueString(s), once);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("opaqueStringProblem describes the problem, or returns null", () => {
  assertEquals(opaqueStringProblem("fine password"), null);
  assertEquals(opaqueStringProblem(""), "Password must not be empty");
  assertEquals(opaqueStringProblem("a\u0007b"), "Password contains a control character");
});
