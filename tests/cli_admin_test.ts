/**
 * `fumi migrate`, `fumi domain`, `fumi user` and `fumi alias` on an embedded data directory, in
 * process through `runCli` with a fake terminal (tests/cli.ts).
 *
 * Creating an embedded database takes seconds, so the test works on one data directory
 * through many steps. The first commands open PGlite themselves; after them a store opened by
 * the test owns the embedded PGlite and the commands join it over its socket, as
 * `fumi user add` joins a running `fumi serve`.
 *
 * @module
 */

import { verifyPassword } from "../src/crypto/password.ts";
import type { Store } from "../src/store/open.ts";
import { formatSize } from "../src/util/size.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  assertFails,
  assertOk,
  type Env,
  fumi,
  listDir,
  passwordOf,
  runEntries,
  storeFor,
  table,
  withTempDir,
} from "./cli.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

Deno.test("administration on an embedded data directory", async (t) => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    const env: Env = { FUMI_DATA_DIR: dataDir, FUMI_HOSTNAME: "mail.example.org" };
    const run = (argv: string[], stdin?: string) =>
      fumi(argv, { env, cwd: tmp, ...(stdin === undefined ? {} : { stdin }) });
    let owner: Store | null = null;
    try {
      await t.step("migrate --dry-run lists, migrate applies, then all is up to date", async () => {
        const dry = assertOk(await run(["migrate", "--dry-run"]));
        assert(dry.length >= 1);
        for (const line of dry) assertMatch(line, /^would apply 0\d{3}/);
        assertEquals(dry[0]!.startsWith("would apply 0001"), true);
        const applied = assertOk(await run(["migrate"]));
        assertEquals(applied, dry.map((line) => line.replace("would apply", "applied")));
        assertEquals(assertOk(await run(["migrate"])), ["The database is up to date."]);
        assertEquals(assertOk(await run(["migrate", "--dry-run"])), [
          "The database is up to date.",
        ]);
        // Each command started and stopped the embedded database itself and left nothing behind.
        assertEquals(await runEntries(dataDir), []);
        assertEquals((await listDir(dataDir)).includes("master.key"), false);
      });

      await t.step(
        "domain add prints the DNS records; the first command creates master.key",
        async () => {
          const result = await run(["domain", "add", "example.org"]);
          assertEquals(result.code, 0);
          assertEquals(result.err.length, 1);
          assertMatch(result.err[0]!, /WARN +created a new master key; back it up/);
          assertStringIncludes(result.err[0]!, `file=${dataDir}/master.key`);
          assertEquals(result.out.slice(0, 3), [
            "Added domain example.org.",
            "",
            "Publish these DNS records (replace the address with your server's):",
          ]);
          const records = result.out.join("\n");
          assertMatch(records, /mail\.example\.org\. +A +192\.0\.2\.1/);
          assertMatch(records, /example\.org\. +MX +10 mail\.example\.org\./);
          assertMatch(records, /example\.org\. +TXT +"v=spf1 mx -all"/);
          assertMatch(
            records,
            /_dmarc\.example\.org\. +TXT +"v=DMARC1; p=reject; rua=mailto:postmaster@example\.org"/,
          );
          // The domain's DKIM keys were made with it (RFC 6376; Ed25519 per RFC 8463).
          assertMatch(
            records,
            /fumi-rsa-\d{8}\._domainkey\.example\.org\. +TXT +"v=DKIM1; k=rsa; p=MIIB[^"]+" "[^"]+"/,
          );
          assertMatch(
            records,
            /fumi-ed-\d{8}\._domainkey\.example\.org\. +TXT +"v=DKIM1; k=ed25519; p=\S{43}="/,
          );
          const info = await Deno.stat(`${dataDir}/master.key`);
          assertEquals(info.mode! & 0o777, 0o600);
          assertEquals(await runEntries(dataDir), []);
        },
      );

      // From here on a store opened by the test owns the embedded database; commands join it.
      owner = await storeFor(env);
      const store = owner;

      await t.step("domain add: international names, duplicates, invalid names", async () => {
        const idn = assertOk(await run(["domain", "add", "bücher.example"]));
        assertEquals(idn[0], "Added domain bücher.example (xn--bcher-kva.example).");
        assertMatch(idn.join("\n"), /xn--bcher-kva\.example\. +MX +10 mail\.example\.org\./);
        assertMatch(idn.join("\n"), /fumi-ed-\d{8}\._domainkey\.xn--bcher-kva\.example\. +TXT/);
        assertFails(
          await run(["domain", "add", "example.org"]),
          1,
          'Domain "example.org" is already hosted here',
        );
        assertFails(await run(["domain", "add", "EXAMPLE.ORG"]), 1, "already hosted");
        assertFails(
          await run(["domain", "add", "not a domain"]),
          1,
          'Cannot parse domain "not a domain"',
        );
        assertEquals(assertOk(await run(["domain", "list"])), [
          "example.org",
          "xn--bcher-kva.example (bücher.example)",
        ]);
      });

      await t.step("user add with a generated password prints it once", async () => {
        const result = await run(["user", "add", "alice@example.org"]);
        const out = assertOk(result);
        assertEquals(result.stdinRead, false);
        assertEquals(out.length, 2);
        assertEquals(out[0], "Created account alice@example.org.");
        const password = /^Password: (\S{20})$/.exec(out[1]!)?.[1];
        assert(password, `a password line: ${out[1]}`);
        assert(await verifyPassword((await passwordOf(store, "alice@example.org")).hash, password));
      });

      await t.step("user add --password-stdin does not print the password", async () => {
        const bob = await run(
          [
            "user",
            "add",
            "Bob@Example.ORG",
            "--password-stdin",
            "--quota",
            "500M",
            "--name",
            "Bob",
          ],
          `${GOOD_PASSWORD}\n`,
        );
        assertEquals(assertOk(bob), ["Created account bob@example.org."]);
        assertEquals(bob.stdinRead, true);
        // The trailing line break (LF or CRLF) is not part of the password.
        assert(
          await verifyPassword((await passwordOf(store, "bob@example.org")).hash, GOOD_PASSWORD),
        );
        const carol = await run(
          ["user", "add", "carol@example.org", "--admin", "--password-stdin"],
          `${GOOD_PASSWORD}\r\n`,
        );
        assertEquals(assertOk(carol), ["Created administrator carol@example.org."]);
        assert(
          await verifyPassword((await passwordOf(store, "carol@example.org")).hash, GOOD_PASSWORD),
        );
        assertEquals((await store.accounts.get("bob@example.org")).displayName, "Bob");
      });

      await t.step(
        "user add refuses unhosted domains, duplicates, weak passwords, bad addresses",
        async () => {
          assertFails(
            await run(["user", "add", "dave@nowhere.example", "--password-stdin"], GOOD_PASSWORD),
            1,
            'Domain "nowhere.example" is not hosted here; add it with: fumi domain add nowhere.example',
          );
          assertFails(
            await run(["user", "add", "ALICE@example.org", "--password-stdin"], GOOD_PASSWORD),
            1,
            'Account "alice@example.org" exists already',
          );
          const weak: [string, string][] = [
            ["short\n", "Password must be at least 12 characters long"],
            ["password1234\n", "Password is one of the most commonly used passwords"],
            ["erin@example.org\n", "Password must not be the mail address"],
            ["", "empty"],
          ];
          for (const [stdin, message] of weak) {
            const result = await run(
              ["user", "add", "erin@example.org", "--password-stdin"],
              stdin,
            );
            assertEquals(result.code, 1);
            assertEquals(result.err.length, 1, JSON.stringify(result.err));
            assertStringIncludes(result.err[0]!.toLowerCase(), message.toLowerCase());
          }
          assertFails(
            await run(["user", "add", "not-an-address"]),
            1,
            'Cannot parse address "not-an-address"',
          );
          assertEquals(await store.accounts.find("erin@example.org"), null);
        },
      );

      await t.step("user list shows quota, use and state", async () => {
        const bob = await store.accounts.get("bob@example.org");
        const message = sampleMessage("cli-list");
        await store.messages.deliver(message, [{ accountId: bob.id }]);
        const rows = table(assertOk(await run(["user", "list"])));
        assertEquals(rows, [
          ["ADDRESS", "QUOTA", "USED", "STATE"],
          ["alice@example.org", "unlimited", "0 B", "active"],
          ["bob@example.org", "500 MiB", formatSize(message.length), "active"],
          ["carol@example.org", "unlimited", "0 B", "admin,active"],
        ]);
        assertEquals(table(assertOk(await run(["user", "list", "example.org"]))), rows);
        assertEquals(assertOk(await run(["user", "list", "bücher.example"])), [
          "ADDRESS  QUOTA  USED  STATE",
        ]);
        assertFails(
          await run(["user", "list", "nowhere.example"]),
          1,
          'Domain "nowhere.example" is not hosted here',
        );
      });

      await t.step("user quota sets a size or unlimited", async () => {
        assertEquals(assertOk(await run(["user", "quota", "bob@example.org", "2G"])), [
          "Quota of bob@example.org set to 2 GiB.",
        ]);
        assertEquals(assertOk(await run(["user", "quota", "alice@example.org", "1.5G"])), [
          "Quota of alice@example.org set to 1.5 GiB.",
        ]);
        assertEquals(assertOk(await run(["user", "quota", "alice@example.org", "unlimited"])), [
          "Quota of alice@example.org set to unlimited.",
        ]);
        assertEquals(table(assertOk(await run(["user", "list"])))[2]?.[1], "2 GiB");
        assertFails(
          await run(["user", "quota", "zed@example.org", "1G"]),
          1,
          'No account "zed@example.org"',
        );
      });

      await t.step("user senders shows, sets and clears the extra sender addresses", async () => {
        assertEquals(assertOk(await run(["user", "senders", "bob@example.org"])), [
          "bob@example.org may send as its own address, its +tags and its aliases only.",
        ]);
        assertEquals(
          assertOk(
            await run(["user", "senders", "bob@example.org", "@Example.org", "x@example.org"]),
          ),
          ["bob@example.org may also send as: @example.org, x@example.org"],
        );
        assertEquals(assertOk(await run(["user", "senders", "bob@example.org", "--clear"])), [
          "bob@example.org may send as its own address, its +tags and its aliases only.",
        ]);
        assertFails(
          await run(["user", "senders", "bob@example.org", "a@example.org", "--clear"]),
          2,
          "not both",
        );
      });

      await t.step("domain limits apply to the domain's accounts without their own", async () => {
        assertEquals(assertOk(await run(["domain", "limits", "example.org"])), [
          "example.org:",
          "  messages:   200 per hour (the configuration's)",
          "  recipients: 2000 per day (the configuration's)",
        ]);
        const set = ["--messages-per-hour", "20", "--recipients-per-day", "0"];
        assertEquals(assertOk(await run(["domain", "limits", "example.org", ...set])), [
          "example.org:",
          "  messages:   20 per hour",
          "  recipients: no limit",
        ]);
        // bob has none of his own: the domain's apply to him.
        assertEquals(assertOk(await run(["user", "limits", "bob@example.org"])), [
          "bob@example.org:",
          "  messages:   0 of 20 per hour",
          "  recipients: no limit (0 in the last day)",
        ]);
        const back = ["--messages-per-hour", "default", "--recipients-per-day", "default"];
        assertOk(await run(["domain", "limits", "example.org", ...back]));
        assertFails(await run(["domain", "limits", "nowhere.example"]), 1, "nowhere.example");
      });

      await t.step("user limits shows and sets an account's sending limits", async () => {
        assertEquals(assertOk(await run(["user", "limits", "bob@example.org"])), [
          "bob@example.org:",
          "  messages:   0 of 200 per hour",
          "  recipients: 0 of 2000 per day",
        ]);
        const set = ["--messages-per-hour", "0", "--recipients-per-day", "50"];
        assertEquals(assertOk(await run(["user", "limits", "bob@example.org", ...set])), [
          "bob@example.org:",
          "  messages:   no limit (0 in the last hour)",
          "  recipients: 0 of 50 per day",
        ]);
        const back = ["--messages-per-hour", "default"];
        assertEquals(
          assertOk(await run(["user", "limits", "bob@example.org", ...back]))[1],
          [
            "  messages:   0 of 200 per hour",
          ][0],
        );
        assertFails(
          await run(["user", "limits", "bob@example.org", "--recipients-per-day", "many"]),
          2,
          "takes a number",
        );
      });

      await t.step("user passwd generates and prints, or reads stdin and does not", async () => {
        const generated = await run(["user", "passwd", "alice@example.org"]);
        const out = assertOk(generated);
        assertEquals(generated.stdinRead, false);
        assertEquals(out[0], "Password changed for alice@example.org.");
        const password = /^Password: (\S{20})$/.exec(out[1] ?? "")?.[1];
        assert(password, JSON.stringify(out));
        assert(await verifyPassword((await passwordOf(store, "alice@example.org")).hash, password));

        const fromStdin = await run(
          ["user", "passwd", "alice@example.org", "--password-stdin"],
          `${GOOD_PASSWORD}\n`,
        );
        assertEquals(assertOk(fromStdin), ["Password changed for alice@example.org."]);
        assert(
          await verifyPassword((await passwordOf(store, "alice@example.org")).hash, GOOD_PASSWORD),
        );

        assertFails(
          await run(["user", "passwd", "alice@example.org", "--password-stdin"], "qwerty\n"),
          1,
          "Password must be at least 12 characters long",
        );
        assertFails(
          await run(["user", "passwd", "zed@example.org"]),
          1,
          'No account "zed@example.org"',
        );
      });

      await t.step("user disable and enable", async () => {
        assertEquals(assertOk(await run(["user", "disable", "BOB@example.org"])), [
          "Disabled bob@example.org.",
        ]);
        assertEquals(table(assertOk(await run(["user", "list"])))[2]?.[3], "disabled");
        assertEquals((await store.accounts.get("bob@example.org")).disabled, true);
        assertEquals(assertOk(await run(["user", "enable", "bob@example.org"])), [
          "Enabled bob@example.org.",
        ]);
        assertEquals(table(assertOk(await run(["user", "list"])))[2]?.[3], "active");
        assertFails(
          await run(["user", "disable", "zed@example.org"]),
          1,
          'No account "zed@example.org"',
        );
        assertFails(
          await run(["user", "enable", "zed@example.org"]),
          1,
          'No account "zed@example.org"',
        );
      });

      await t.step("alias add, list and remove, with a catch-all", async () => {
        assertEquals(
          assertOk(
            await run(["alias", "add", "info@example.org", "alice@example.org", "Bob@example.org"]),
          ),
          ["info@example.org -> alice@example.org, bob@example.org"],
        );
        assertEquals(assertOk(await run(["alias", "add", "@example.org", "carol@example.org"])), [
          "@example.org -> carol@example.org",
        ]);
        assertEquals(
          assertOk(await run(["alias", "add", "sales@bücher.example", "friend@remote.example"])),
          [
            "sales@xn--bcher-kva.example -> friend@remote.example",
          ],
        );
        assertEquals(assertOk(await run(["alias", "list"])), [
          "@example.org -> carol@example.org",
          "info@example.org -> alice@example.org, bob@example.org",
          "sales@xn--bcher-kva.example -> friend@remote.example",
        ]);
        assertEquals(assertOk(await run(["alias", "list", "example.org"])), [
          "@example.org -> carol@example.org",
          "info@example.org -> alice@example.org, bob@example.org",
        ]);
        assertFails(
          await run(["alias", "add", "x@nowhere.example", "alice@example.org"]),
          1,
          "is not hosted here",
        );
        assertFails(
          await run(["alias", "add", "alice@example.org", "bob@example.org"]),
          1,
          '"alice@example.org" is an account',
        );
        assertFails(
          await run(["alias", "add", "loop@example.org", "loop@example.org"]),
          1,
          "cannot point to itself",
        );
        assertFails(
          await run(["alias", "add", "x@example.org", "not an address"]),
          1,
          "Cannot parse address",
        );
        assertFails(
          await run(["user", "add", "info@example.org", "--password-stdin"], GOOD_PASSWORD),
          1,
          '"info@example.org" is an alias; remove the alias first',
        );

        assertEquals(
          assertOk(await run(["alias", "remove", "info@example.org", "bob@example.org"])),
          [
            "Removed bob@example.org from info@example.org.",
          ],
        );
        assertEquals(assertOk(await run(["alias", "list", "example.org"])), [
          "@example.org -> carol@example.org",
          "info@example.org -> alice@example.org",
        ]);
        assertEquals(assertOk(await run(["alias", "remove", "@example.org"])), [
          "Removed alias @example.org.",
        ]);
        assertEquals(assertOk(await run(["alias", "remove", "info@example.org"])), [
          "Removed alias info@example.org.",
        ]);
        assertFails(
          await run(["alias", "remove", "info@example.org"]),
          1,
          'No alias "info@example.org"',
        );
        assertFails(
          await run(["alias", "remove", "sales@bücher.example", "someone@remote.example"]),
          1,
          'No alias "sales@xn--bcher-kva.example" with those destinations',
        );
        assertEquals(assertOk(await run(["alias", "list", "example.org"])), []);
      });

      await t.step("domain remove is refused while the domain has accounts", async () => {
        assertFails(
          await run(["domain", "remove", "example.org"]),
          1,
          'Domain "example.org" still has 3 account(s); remove them first (fumi user list example.org)',
        );
        // A domain with only aliases goes, and its aliases with it.
        assertEquals(assertOk(await run(["domain", "remove", "bücher.example"])), [
          "Removed domain bücher.example.",
        ]);
        assertEquals(assertOk(await run(["alias", "list"])), []);
        assertFails(await run(["domain", "remove", "bücher.example"]), 1, "is not hosted here");
        assertEquals(assertOk(await run(["domain", "list"])), ["example.org"]);
      });

      await t.step("user remove deletes the account", async () => {
        assertEquals(assertOk(await run(["user", "remove", "alice@example.org"])), [
          "Removed alice@example.org and its mail.",
        ]);
        assertFails(
          await run(["user", "remove", "alice@example.org"]),
          1,
          'No account "alice@example.org"',
        );
        assertEquals(
          table(assertOk(await run(["user", "list"]))).map((row) => row[0]),
          ["ADDRESS", "bob@example.org", "carol@example.org"],
        );
      });
    } finally {
      await owner?.close();
    }
    assertEquals(await runEntries(dataDir), []);
  });
});
