import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { parseAddress } from "../util/address.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  assertPasswordPolicy,
  checkPasswordPolicy,
  commonPasswordList,
  DEFAULT_MIN_PASSWORD_LENGTH,
  DEFAULT_PASSWORD_POLICY,
  type PasswordPolicy,
} from "./password_policy.ts";

const STRICT: PasswordPolicy = { minLength: 12, rejectCommon: true };
const LENIENT: PasswordPolicy = { minLength: 1, rejectCommon: false };
const ADDRESS = "Alice.Smith@Bücher.example";

const COMMON = "Password is one of the most commonly used passwords";
const TOO_SHORT = "Password must be at least 12 characters long";
const IDENTITY = "Password must not be the mail address, its user name or its domain";

Deno.test("defaults: 12 code points, common passwords rejected", () => {
  assertEquals(DEFAULT_MIN_PASSWORD_LENGTH, 12);
  assertEquals(DEFAULT_PASSWORD_POLICY, { minLength: 12, rejectCommon: true });
});

Deno.test("the common-password list is loaded, large, lower case, and the same Set each time", () => {
  const list = commonPasswordList();
  assert(list.size >= 10000, `only ${list.size} entries`);
  assert(list === commonPasswordList(), "the Set is rebuilt");
  // Entries checked to be in @zxcvbn-ts/language-common 4.1.3's passwords-common.
  for (
    const entry of ["password1234", "qwertyuiop123", "qwerty123456", "1q2w3e4r5t6y", "123456789012"]
  ) {
    assert(list.has(entry), `${entry} is not in the list`);
  }
});

Deno.test("acceptable passwords have no problems", () => {
  for (
    const password of [
      "correct horse battery staple",
      "Tr0ub4dor&3-extended",
      "パスワードは長くて安全です",
      "x".repeat(12),
    ]
  ) {
    assertEquals(checkPasswordPolicy(password, ADDRESS, STRICT), [], password);
  }
});

Deno.test("common passwords are rejected case-insensitively when rejectCommon is set", () => {
  for (const password of ["password1234", "PASSWORD1234", "QwertyUiop123", "qwerty123456"]) {
    assertEquals(checkPasswordPolicy(password, ADDRESS, STRICT), [COMMON], password);
  }
  assertEquals(
    checkPasswordPolicy("password1234", ADDRESS, { ...STRICT, rejectCommon: false }),
    [],
  );
  // Short and common: both problems, in order.
  assertEquals(checkPasswordPolicy("letmein", ADDRESS, STRICT), [TOO_SHORT, COMMON]);
});

Deno.test("length counts Unicode code points of the prepared password", () => {
  // 11 astral code points are 22 UTF-16 units but only 11 characters.
  assertEquals(checkPasswordPolicy("😀".repeat(11), ADDRESS, STRICT), [TOO_SHORT]);
  assertEquals(checkPasswordPolicy("😀".repeat(12), ADDRESS, STRICT), []);
  // "e" + combining acute composes to one code point under NFC: 22 code points become 11.
  assertEquals(checkPasswordPolicy("e\u0301".repeat(11), ADDRESS, STRICT), [TOO_SHORT]);
  assertEquals(
    checkPasswordPolicy("abc", ADDRESS, { minLength: 20, rejectCommon: false }),
    ["Password must be at least 20 characters long"],
  );
});

Deno.test("the address, its local part and its domain are rejected as passwords", () => {
  const policy = LENIENT;
  for (
    const password of [
      "Alice.Smith@Bücher.example",
      "alice.smith@bücher.example",
      "alice.smith@xn--bcher-kva.example",
      "ALICE.SMITH",
      "bücher.example",
      "xn--bcher-kva.EXAMPLE",
    ]
  ) {
    assertEquals(checkPasswordPolicy(password, ADDRESS, policy), [IDENTITY], password);
    assertEquals(checkPasswordPolicy(password, parseAddress(ADDRESS), policy), [IDENTITY]);
  }
  assertEquals(checkPasswordPolicy("alice.smith!", ADDRESS, policy), []);
  // An address that does not parse is still compared as a whole.
  assertEquals(checkPasswordPolicy("not an address", "Not An Address", policy), [IDENTITY]);
});

Deno.test("passwords that cannot be prepared are reported without being echoed", () => {
  assertEquals(checkPasswordPolicy("", ADDRESS, STRICT), ["Password must not be empty"]);
  const [problem] = checkPasswordPolicy("secret\u0000secret", ADDRESS, STRICT);
  assertEquals(problem, "Password contains a control character");
});

Deno.test("assertPasswordPolicy throws InvalidInputError with every problem", () => {
  assertPasswordPolicy("correct horse battery staple", ADDRESS, STRICT);
  const error = assertThrows(
    () => assertPasswordPolicy("letmein", ADDRESS, STRICT),
    InvalidInputError,
  );
  assertEquals(error.message, `${TOO_SHORT}; ${COMMON}`);
  assert(!error.message.includes("letmein"));
  assertThrows(() => assertPasswordPolicy("password1234", ADDRESS), InvalidInputError, COMMON);
});
