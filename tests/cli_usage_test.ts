/**
 * `fumi` usage and configuration errors, in process through `runCli` with a fake terminal
 * (tests/cli.ts): help, version, unknown commands and options, missing and extra arguments,
 * invalid sizes, config files and FUMI_* variables. Each exits 2 with one line on stderr before
 * any database is opened.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { decodeBase64 } from "../src/util/base64.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./assert.ts";
import { assertFails, assertOk, type Env, fumi, listDir, withTempDir } from "./cli.ts";
import { GOOD_PASSWORD } from "./store.ts";

Deno.test("usage and configuration errors exit 2 with one line, before any database is opened", async (t) => {
  await withTempDir(async (tmp) => {
    const env = { FUMI_DATA_DIR: `${tmp}/data` };
    const run = (argv: string[], stdin?: string) =>
      fumi(argv, { env, cwd: tmp, ...(stdin === undefined ? {} : { stdin }) });

    await t.step("help lists every command; without a command it is a usage error", async () => {
      for (const argv of [["help"], ["--help"], ["-h"]]) {
        const out = assertOk(await run(argv));
        assertEquals(out[0], "fumi — a secure self-hosted mail server");
        for (
          const usage of [
            "fumi serve [--dev] [--config FILE]",
            "fumi migrate [--dry-run]",
            "fumi domain add|list|dns|check|limits|remove …",
            "fumi dkim show|rotate|remove …",
            "fumi user add|list|passwd|quota|senders|limits|disable|enable|hold|unhold|remove|2fa|app-password …",
            "fumi alias add|list|remove …",
            "fumi queue list|show|retry|hold|release|remove …",
            "fumi keys rotate|list|generate …",
            "fumi version",
          ]
        ) {
          assert(out.some((line) => line.startsWith(`  ${usage} `)), `help shows ${usage}`);
        }
        assert(out.some((line) => line.includes("FUMI_DATA_DIR (default ./data)")));
      }
      const bare = await run([]);
      assertEquals(bare.code, 2);
      assertEquals(bare.out[0], "fumi — a secure self-hosted mail server");
    });

    await t.step("version and --version", async () => {
      for (const argv of [["version"], ["--version"]]) {
        const out = assertOk(await run(argv));
        assertEquals(out.length, 3);
        assertEquals(
          out[0],
          `fumi ${denoJson.version} (deno ${Deno.version.deno}, ${Deno.build.target})`,
        );
        // From source: the checkout's commit (tests/compile_test.ts checks a compiled stamp).
        assertMatch(out[1]!, /^commit: [0-9a-f]{40}$/);
        assertEquals(out[2], "built:  from source");
      }
    });

    await t.step("an unknown command", async () => {
      assertFails(
        await run(["frobnicate"]),
        2,
        'Unknown command "frobnicate"; run "fumi help" for the list',
      );
      assertFails(await run(["Version"]), 2, 'Unknown command "Version"');
    });

    await t.step("an unknown subcommand, and a missing one (which also prints usage)", async () => {
      for (const group of ["domain", "dkim", "user", "alias", "queue", "keys"]) {
        assertFails(await run([group, "frob"]), 2, `Unknown command "fumi ${group} frob"; usage:`);
        const missing = await run([group]);
        assertFails(missing, 2, "Missing subcommand; usage: fumi " + group);
        assertEquals(missing.out[0], "Usage:");
        const help = assertOk(await run([group, "help"]));
        assertEquals(help[0], "Usage:");
      }
      const userHelp = (await run(["user", "--help"])).out.join("\n");
      for (
        const sub of [
          "add",
          "list",
          "passwd",
          "quota",
          "disable",
          "enable",
          "hold",
          "unhold",
          "remove",
        ]
      ) {
        assertStringIncludes(userHelp, `  fumi user ${sub} `);
      }
      assertStringIncludes(userHelp, "  fumi user 2fa enable|confirm|disable|status …\n");
      assertStringIncludes(userHelp, "  fumi user app-password add|list|revoke …\n");
    });

    await t.step("an unknown or malformed option", async () => {
      const cases: [string[], string][] = [
        [["version", "--verbose"], 'Unknown option "--verbose"'],
        [["user", "list", "-x"], 'Unknown option "-x"'],
        [["serve", "--devv"], 'Unknown option "--devv"'],
        [["serve", "--dev=yes"], "Option --dev takes no value"],
        [["migrate", "--dry-run=1"], "Option --dry-run takes no value"],
        [["user", "add", "a@example.org", "--quota"], "Option --quota needs a value"],
        [["domain", "list", "--config"], "Option --config needs a value"],
        [["domain", "list", "--config="], "Option --config needs a value"],
        [["keys", "generate", "--config", "x.toml"], 'Unknown option "--config"'],
        [["user", "add", "a@example.org", "--password"], 'Unknown option "--password"'],
        [["alias", "add", "a@example.org", "b@example.org", "--force"], 'Unknown option "--force"'],
      ];
      for (const [argv, message] of cases) assertFails(await run(argv), 2, message);
    });

    await t.step("missing and extra arguments name what is wrong and show the usage", async () => {
      const cases: [string[], string][] = [
        [["domain", "add"], "Missing NAME; usage: fumi domain add NAME"],
        [["domain", "add", "a.example", "b.example"], 'Unexpected argument "b.example"'],
        [["domain", "remove"], "Missing NAME; usage: fumi domain remove NAME"],
        [["domain", "list", "x"], 'Unexpected argument "x"; usage: fumi domain list'],
        [["dkim", "show"], "Missing DOMAIN; usage: fumi dkim show DOMAIN"],
        [["dkim", "rotate", "a.example", "b.example"], 'Unexpected argument "b.example"'],
        [
          ["dkim", "remove", "a.example"],
          "Missing SELECTOR; usage: fumi dkim remove DOMAIN SELECTOR",
        ],
        [["dkim", "show", "a.example", "--force"], 'Unknown option "--force"'],
        [["user", "add"], "Missing ADDRESS; usage: fumi user add ADDRESS"],
        [["user", "add", "a@example.org", "b@example.org"], 'Unexpected argument "b@example.org"'],
        [
          ["user", "list", "a.example", "b.example"],
          'Unexpected argument "b.example"; usage: fumi user list',
        ],
        [["user", "passwd"], "Missing ADDRESS; usage: fumi user passwd ADDRESS"],
        [["user", "quota", "a@example.org"], "Missing SIZE; usage: fumi user quota ADDRESS"],
        [["user", "disable"], "Missing ADDRESS; usage: fumi user disable ADDRESS"],
        [["user", "enable", "a@example.org", "x"], 'Unexpected argument "x"'],
        [["user", "remove"], "Missing ADDRESS; usage: fumi user remove ADDRESS"],
        [["alias", "add"], "Missing SOURCE; usage: fumi alias add SOURCE DEST…"],
        [["alias", "add", "a@example.org"], "Missing DEST; usage: fumi alias add SOURCE DEST…"],
        [["alias", "remove"], "Missing SOURCE; usage: fumi alias remove SOURCE"],
        [
          ["alias", "list", "a.example", "b.example"],
          'Unexpected argument "b.example"; usage: fumi alias list',
        ],
        [["migrate", "now"], 'Unexpected argument "now"; usage: fumi migrate [--dry-run]'],
        [["keys", "rotate", "now"], 'Unexpected argument "now"; usage: fumi keys rotate'],
        [["keys", "list", "x"], 'Unexpected argument "x"'],
        [["keys", "generate", "x"], 'Unexpected argument "x"'],
        [["serve", "now"], 'Unexpected argument "now"; usage: fumi serve'],
        [["version", "x"], 'Unexpected argument "x"; usage: fumi version'],
      ];
      for (const [argv, message] of cases) assertFails(await run(argv), 2, message);
    });

    await t.step(
      "an invalid size is a usage error, found before the password is read",
      async () => {
        for (const size of ["lots", "5X", "-1", "1e9", "2 GB of mail"]) {
          const result = await run([
            "user",
            "add",
            "a@example.org",
            "--password-stdin",
            "--quota",
            size,
          ], GOOD_PASSWORD);
          assertFails(result, 2, `Invalid size "${size}"; use e.g. 500M, 2G or unlimited`);
          assertEquals(result.stdinRead, false);
        }
        assertFails(
          await run(["user", "add", "a@example.org", "--quota=big"]),
          2,
          'Invalid size "big"',
        );
        assertFails(
          await run(["user", "quota", "a@example.org", "huge"]),
          2,
          'Invalid size "huge"',
        );
      },
    );

    await t.step("an invalid config file names the file and the key", async () => {
      const write = async (name: string, text: string) => {
        await Deno.writeTextFile(`${tmp}/${name}`, text);
        return `${tmp}/${name}`;
      };
      const unknown = await write("unknown.toml", 'colour = "blue"\n');
      const nested = await write("nested.toml", "[limits]\nmax_recipent = 5\n");
      const broken = await write("broken.toml", "hostname = \n");
      const badValue = await write("value.toml", '[accounts]\ndefault_quota = "lots"\n');
      const portZero = await write("port.toml", "[listeners.http]\nport = 0\n");
      const missing = `${tmp}/missing.toml`;
      const cases: [string, string][] = [
        [unknown, `${unknown}: unknown key colour`],
        [nested, `${nested}: unknown key limits.max_recipent`],
        [broken, `Config file ${broken} is not valid TOML at line 1`],
        [badValue, `${badValue}: accounts.default_quota: expected a size like 25M, got "lots"`],
        // Port 0 ("any free port") is refused, so tests choose a free port themselves.
        [portZero, `${portZero}: listeners.http.port:`],
        [missing, `Cannot read config file ${missing}: no such file`],
      ];
      for (const [file, message] of cases) {
        for (
          const argv of [
            ["serve", "--dev", "--config", file],
            ["migrate", `--config=${file}`],
            ["domain", "list", "--config", file],
            ["user", "add", "a@example.org", "--password-stdin", "--config", file],
            ["alias", "list", "--config", file],
            ["keys", "rotate", "--config", file],
          ]
        ) {
          assertFails(await run(argv, GOOD_PASSWORD), 2, message);
        }
      }
      const viaEnv = await fumi(["domain", "list"], { env: { ...env, FUMI_CONFIG: unknown } });
      assertFails(viaEnv, 2, `${unknown}: unknown key colour`);
    });

    await t.step("invalid FUMI_* variables name the variable", async () => {
      const cases: [Env, string[], string][] = [
        [{ FUMI_DATABASE_URL: "mysql://db/fumi" }, ["domain", "list"], "FUMI_DATABASE_URL"],
        [
          { FUMI_LOG_LEVEL: "loud" },
          ["serve", "--dev"],
          'FUMI_LOG_LEVEL: expected debug, info, warn or error, got "loud"',
        ],
        [
          { FUMI_HOSTNAME: "bad_host!" },
          ["domain", "list"],
          '"bad_host!" is not a valid host name',
        ],
        [
          { FUMI_HOSTNAME: "box" },
          ["serve"],
          'hostname: "box" is not a fully qualified name; set hostname in the config or FUMI_HOSTNAME',
        ],
      ];
      for (const [extra, argv, message] of cases) {
        assertFails(await fumi(argv, { env: { ...env, ...extra }, cwd: tmp }), 2, message);
      }
    });

    await t.step("keys generate prints a new 32-byte base64 key", async () => {
      const first = assertOk(await run(["keys", "generate"]));
      const second = assertOk(await run(["keys", "generate"]));
      assertEquals(first.length, 1);
      assertMatch(first[0]!, /^[A-Za-z0-9+/]{43}=$/);
      assertEquals(decodeBase64(first[0]!)?.length, 32);
      assertNotEquals(first[0], second[0]);
    });

    await t.step("nothing was written to the data directory", async () => {
      assertEquals(await listDir(tmp).then((names) => names.includes("data")), false);
    });
  });
});
