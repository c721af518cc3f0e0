/**
 * Run by tests/mta_sts_test.ts under `deno task fumi`'s permissions (not a test itself): fetches
 * the policy of example.net from the HTTPS server at 127.0.0.1 and the port given, once trusting
 * the CA file given and once with the runtime's roots only, and prints both results as JSON.
 * Shows that the fetcher needs no permission beyond what `fumi serve` has.
 *
 * Usage: mta_sts_probe.ts <port> <ca.pem>
 *
 * @module
 */

import { FakeResolver } from "../src/dns/mod.ts";
import { httpsPolicyFetcher } from "../src/mtasts/mod.ts";

const [port = "", caFile = ""] = Deno.args;
const resolver = new FakeResolver([
  { type: "A", name: "mta-sts.example.net", ttl: 60, address: "127.0.0.1" },
]);
const options = { resolver, port: Number(port), timeoutMs: 5000 };
const trusted = await httpsPolicyFetcher({ ...options, ca: [await Deno.readTextFile(caFile)] })(
  "example.net",
);
const untrusted = await httpsPolicyFetcher(options)("example.net");
console.log(JSON.stringify({ trusted, untrusted }));
