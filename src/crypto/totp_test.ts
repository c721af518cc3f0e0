import { assertEquals, assertMatch, assertNotEquals } from "../../tests/assert.ts";
import {
  matchTotp,
  newTotpSecret,
  TOTP_SECRET_BYTES,
  totpBase32,
  totpCode,
  totpStep,
  totpUri,
} from "./totp.ts";

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII of "12345678901234567890".
const RFC_SEED = new TextEncoder().encode("12345678901234567890");
const RFC_VECTORS: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

Deno.test("TOTP: the SHA-1 test vectors of RFC 6238 Appendix B, in 8 and in 6 digits", () => {
  for (const [seconds, code] of RFC_VECTORS) {
    assertEquals(totpCode(RFC_SEED, seconds * 1000, 8), code, `T = ${seconds}`);
    // Truncation is the binary code mod 10^digits (RFC 4226 §5.3): the last six digits.
    assertEquals(totpCode(RFC_SEED, seconds * 1000), code.slice(2), `T = ${seconds}`);
    assertEquals(matchTotp(RFC_SEED, code.slice(2), seconds * 1000), totpStep(seconds * 1000));
  }
  // The steps of the table (RFC 6238 Appendix B, "T (hex)").
  assertEquals(totpStep(59_000), 1);
  assertEquals(totpStep(1111111109_000), 0x23523EC);
  assertEquals(totpStep(20000000000_000), 0x27BC86AA);
});

Deno.test("TOTP: a code is accepted one step either side, not two", () => {
  const at = 1234567890_000;
  const step = totpStep(at);
  const code = totpCode(RFC_SEED, at);
  assertEquals(matchTotp(RFC_SEED, code, at - 30_000), step);
  assertEquals(matchTotp(RFC_SEED, code, at + 30_000), step);
  assertEquals(matchTotp(RFC_SEED, code, at - 60_000), null);
  assertEquals(matchTotp(RFC_SEED, code, at + 60_000), null);
  // The previous step's code, now: accepted as that step.
  assertEquals(matchTotp(RFC_SEED, totpCode(RFC_SEED, at - 30_000), at), step - 1);
});

Deno.test("TOTP: only six ASCII digits are a code (spaces between them ignored)", () => {
  const at = 1111111111_000;
  const code = totpCode(RFC_SEED, at); // "050471"
  assertEquals(matchTotp(RFC_SEED, `${code.slice(0, 3)} ${code.slice(3)}`, at), totpStep(at));
  for (
    const bad of ["", "05047", "0504711", "14050471", "O50471", "٠٥٠٤٧١", "050471\n", "+50471"]
  ) {
    assertEquals(matchTotp(RFC_SEED, bad, at), null, JSON.stringify(bad));
  }
  // Another secret's code does not match.
  assertEquals(matchTotp(RFC_SEED.toReversed(), code, at), null);
});

Deno.test("TOTP: new secrets, base32 and the otpauth URI", () => {
  const secret = newTotpSecret();
  assertEquals(secret.length, TOTP_SECRET_BYTES);
  assertNotEquals(secret, newTotpSecret());
  assertEquals(totpBase32(RFC_SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"); // RFC 4648 §10 style
  assertEquals(
    totpUri(RFC_SEED, { issuer: "Fumi mail.example.org", account: "alice@example.org" }),
    "otpauth://totp/Fumi%20mail.example.org:alice%40example.org?issuer=Fumi%20mail.example.org" +
      "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30",
  );
  assertMatch(totpBase32(secret), /^[A-Z2-7]{32}$/);
});
