/**
 * `fumi domain add` making DKIM keys, and `fumi dkim show|rotate|remove`, on a fresh database
 * (embedded, or PostgreSQL with FUMI_TEST_DATABASE_URL). The records the commands print are
 * given to an independent verifier (dkimpy) to check mail signed with the stored keys.
 *
 * @module
 */

import { signMessage } from "../src/dkim/sign.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertFails, assertOk, fumi, fumiProcess, withCommandDatabase } from "./cli.ts";
import { dkimpyVerify } from "./dkimpy.ts";

const TODAY = new Date().toISOString().slice(0, 10).replaceAll("-", "");

/** The records in zone-file lines of `fumi dkim show`, as name → TXT text. */
function recordsOf(lines: readonly string[]): Record<string, string> {
  const records: Record<string, string> = {};
  for (const line of lines) {
    const match = /^\s*(\S+\._domainkey\.\S+)\. {2}TXT {2}((?:"[^"]*" ?)+)/.exec(line);
    if (!match) continue;
    records[match[1]!] = [...match[2]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
  }
  return records;
}

const MESSAGE = new TextEncoder().encode(
  "From: Alice <alice@example.net>\r\nTo: bob@remote.example\r\nSubject: Hello\r\n" +
    "Date: Sat, 28 Nov 2026 04:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\nHi Bob.\r\n",
);

Deno.test("domain add makes DKIM keys; dkim show, rotate and remove; dkimpy verifies", async (t) => {
  await withCommandDatabase("fumi-dkim-", async (env, store) => {
    const run = (argv: string[]) => fumi(argv, { env });
    const rsa = `fumi-rsa-${TODAY}`;
    const ed = `fumi-ed-${TODAY}`;
    let signedBefore: Uint8Array | null = null;

    await t.step("domain add prints the DKIM records with the others", async () => {
      const out = assertOk(await run(["domain", "add", "example.net"]));
      const text = out.join("\n");
      assertMatch(text, /example\.net\. +MX +10 /);
      const records = recordsOf(out);
      assertEquals(Object.keys(records), [
        `${rsa}._domainkey.example.net`,
        `${ed}._domainkey.example.net`,
      ]);
      // RSA-2048: a 392-character key in two strings of at most 255 octets.
      const rsaLine = out.find((l) => l.includes(`${rsa}._domainkey`))!;
      assertMatch(rsaLine, /TXT {2}"v=DKIM1; k=rsa; p=MIIBIjAN[^"]{229}" "[^"]+" {2}; RFC 6376/);
      assertMatch(records[`${ed}._domainkey.example.net`]!, /^v=DKIM1; k=ed25519; p=\S{43}=$/);
      assertStringIncludes(text, "Show the DKIM records again with: fumi dkim show example.net");
    });

    await t.step("dkim show prints both; mail signed with the stored keys verifies", async () => {
      const out = assertOk(await run(["dkim", "show", "EXAMPLE.NET"]));
      assertEquals(out[0], "Publish these DKIM records for example.net (TXT, RFC 6376 §3.6.2.1):");
      assertMatch(out[2]!, new RegExp(`^; ${rsa}: rsa-sha256, active since \\d{4}-\\d\\d-\\d\\d`));
      assertMatch(out[5]!, new RegExp(`^; ${ed}: ed25519-sha256, active since `));
      const keys = await store.dkimKeys.signingKeys("example.net");
      signedBefore = await signMessage(MESSAGE, keys, { now: Date.now() });
      assertEquals(await dkimpyVerify(signedBefore, recordsOf(out)), [
        { ok: true, algorithm: "rsa-sha256" },
        { ok: true, algorithm: "ed25519-sha256" },
      ]);
    });

    await t.step("dkim rotate, as the real executable with the task's permissions", async () => {
      const out = assertOk(await fumiProcess(["dkim", "rotate", "example.net"], { env }));
      assertEquals(
        out[0],
        `New DKIM keys for example.net: ${rsa}-2, ${ed}-2. Mail is signed with them from now on: publish these records now.`,
      );
      assertEquals(Object.keys(recordsOf(out)), [
        `${rsa}-2._domainkey.example.net`,
        `${ed}-2._domainkey.example.net`,
      ]);
      assertStringIncludes(out.join("\n"), `Retired: ${rsa}, ${ed}.`);

      const shown = assertOk(await run(["dkim", "show", "example.net"]));
      const records = recordsOf(shown);
      assertEquals(Object.keys(records).length, 4);
      assert(
        shown.some((l) =>
          l.startsWith(`; ${rsa}: rsa-sha256, retired `) &&
          l.endsWith(`(no longer signs; remove with: fumi dkim remove example.net ${rsa})`)
        ),
      );
      // Mail signed before the rotation still verifies; new mail uses the new keys.
      assertEquals((await dkimpyVerify(signedBefore!, records)).map((v) => v.ok), [true, true]);
      const keys = await store.dkimKeys.signingKeys("example.net");
      assertEquals(keys.map((k) => k.selector), [`${rsa}-2`, `${ed}-2`]);
      const signed = await signMessage(MESSAGE, keys, { now: Date.now() });
      assertEquals((await dkimpyVerify(signed, records)).map((v) => v.ok), [true, true]);
    });

    await t.step(
      "dkim remove stops publishing a retired key; active ones are refused",
      async () => {
        assertFails(await run(["dkim", "remove", "example.net", `${rsa}-2`]), 1, "is active");
        assertEquals(assertOk(await run(["dkim", "remove", "example.net", rsa])), [
          `Removed DKIM selector ${rsa} of example.net.`,
          `Delete the TXT record ${rsa}._domainkey.example.net. from DNS, or publish it as "v=DKIM1; k=rsa; p=" to revoke it (RFC 6376 §3.6.1).`,
        ]);
        assertFails(await run(["dkim", "remove", "example.net", rsa]), 1, "no DKIM selector");
        const records = recordsOf(assertOk(await run(["dkim", "show", "example.net"])));
        assertEquals(Object.keys(records), [
          `${rsa}-2._domainkey.example.net`,
          `${ed}-2._domainkey.example.net`,
          `${ed}._domainkey.example.net`,
        ]);
        // Without its record, the old RSA signature no longer verifies; the Ed25519 one does.
        assertEquals((await dkimpyVerify(signedBefore!, records)).map((v) => v.ok), [false, true]);
      },
    );

    await t.step("unknown domains, and a domain without keys", async () => {
      assertFails(await run(["dkim", "show", "nowhere.example"]), 1, "is not hosted here");
      assertFails(await run(["dkim", "rotate", "nowhere.example"]), 1, "is not hosted here");
      assertFails(await run(["dkim", "remove", "nowhere.example", "x"]), 1, "is not hosted here");
      await store.domains.add("nokeys.example");
      assertEquals(assertOk(await run(["dkim", "show", "nokeys.example"])), [
        "nokeys.example has no DKIM keys; make them with: fumi dkim rotate nokeys.example",
      ]);
    });
  });
});
