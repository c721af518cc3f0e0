import { assertEquals } from "../../tests/assert.ts";
import { parseResolvConf } from "./resolv_conf.ts";

Deno.test("resolv.conf: name servers in order, options, comments; none means 127.0.0.1", () => {
  const text = [
    "# generated",
    "search example.org",
    "nameserver 192.0.2.53",
    "nameserver 2001:db8::53 ; a comment",
    "nameserver fe80::1%eth0",
    "nameserver not-an-address",
    "options ndots:2 timeout:3 attempts:4 rotate",
  ].join("\n");
  assertEquals(parseResolvConf(text), {
    nameservers: [
      { address: "192.0.2.53", port: 53 },
      { address: "2001:db8::53", port: 53 },
      { address: "fe80::1%eth0", port: 53 },
    ],
    timeoutMs: 3_000,
    attempts: 4,
  });
  assertEquals(parseResolvConf("search example.org\n"), {
    nameservers: [{ address: "127.0.0.1", port: 53 }],
  });
});
