import { assert, assertEquals } from "../../tests/assert.ts";
import { generateDkimKeyPair } from "../crypto/dkim_keys.ts";
import { dkimRecordName, dkimRecordText, MAX_TXT_STRING, zoneStrings } from "./record.ts";
import { RFC8463_ED25519_PUBLIC } from "./_test_keys.ts";
import { decodeBase64 } from "../util/base64.ts";

Deno.test("the record name and text, RSA and Ed25519 (RFC 6376 §3.6.1, RFC 8463 §4.2)", async () => {
  assertEquals(
    dkimRecordName("fumi-ed-20261128", "example.org"),
    "fumi-ed-20261128._domainkey.example.org",
  );
  assertEquals(
    dkimRecordText("ed25519-sha256", decodeBase64(RFC8463_ED25519_PUBLIC)),
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
  );
  assertEquals(dkimRecordText("rsa-sha256", null), "v=DKIM1; k=rsa; p=");
  const rsa = await generateDkimKeyPair("rsa-sha256");
  const text = dkimRecordText("rsa-sha256", rsa.publicKey);
  assert(text.startsWith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"), text);
});

Deno.test("zone strings: at most 255 octets each, joined they give the text back", async () => {
  const rsa = await generateDkimKeyPair("rsa-sha256");
  const text = dkimRecordText("rsa-sha256", rsa.publicKey);
  const zone = zoneStrings(text);
  const parts = [...zone.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  assertEquals(parts.length, 2);
  assert(parts.every((p) => p.length <= MAX_TXT_STRING));
  assertEquals(parts.join(""), text);
  assertEquals(zoneStrings("v=DKIM1; k=ed25519; p="), '"v=DKIM1; k=ed25519; p="');
});
