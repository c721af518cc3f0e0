import { assertEquals } from "../../tests/assert.ts";
import { tlsRequirement } from "./require_tls.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("RFC 8689: REQUIRETLS wins over the header field; TLS-Required: No waives policies", () => {
  const waiving = encode("From: a@example.org\r\nTLS-Required: No\r\n\r\nTLS-Required: No\r\n");
  const plain = encode("From: a@example.org\r\nSubject: x\r\n\r\nTLS-Required: No\r\n");
  assertEquals(tlsRequirement(true, waiving), true); // §4.1: the parameter wins
  assertEquals(tlsRequirement(false, waiving), false);
  assertEquals(tlsRequirement(false, encode("tls-required:  NO \r\n\r\n")), false);
  // Only the header block counts, and only the value "No".
  assertEquals(tlsRequirement(false, plain), null);
  assertEquals(tlsRequirement(false, encode("TLS-Required: yes\r\n\r\n")), null);
});
