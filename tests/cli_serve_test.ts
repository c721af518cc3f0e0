/**
 * `fumi serve` in process (first start, the administrator, health, a clean stop, a port in
 * use) and the real `fumi` executable as a subprocess (exit codes, piped stdin, serve --dev and
 * SIGTERM), then regression tests for bugs these tests found.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { verifyPassword } from "../src/crypto/password.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  assertOk,
  type Env,
  freePort,
  fumi,
  fumiProcess,
  fumiTaskArgs,
  get,
  httpConfig,
  newDataDir,
  passwordOf,
  runEntries,
  spawnFumi,
  startFumi,
  storeFor,
  table,
  withTempDir,
} from "./cli.ts";
import { GOOD_PASSWORD } from "./store.ts";

Deno.test("serve: first start creates the administrator, health answers, stop is clean", async (t) => {
  await withTempDir(async (tmp) => {
    // FUMI_DATA_DIR is unset: the data directory is ./data under the working directory.
    const dataDir = `${tmp}/data`;
    await newDataDir(dataDir);
    const port = freePort();
    const config = await httpConfig(tmp, port);
    const serve = async (
      env: Env,
      check: (out: string[], health: string) => Promise<void>,
    ) => {
      const running = startFumi(["serve", "--dev", "--config", config], { env, cwd: tmp });
      try {
        const line = await running.io.waitForOut(/^ {2}health: +http:\/\//);
        await check(running.io.stdout, line.replace(/^ {2}health: +/, ""));
      } finally {
        running.io.stop("SIGTERM");
        assertEquals(await running.exit, 0, running.io.stderr.join("\n"));
      }
      assertEquals(await runEntries(dataDir), [], "socket and pid file removed");
      return running.io;
    };

    let oneTime = "";
    await t.step("first start prints the administrator and a one-time password", async () => {
      const io = await serve({}, async (out, health) => {
        assertEquals(health, `http://127.0.0.1:${port}/healthz`);
        assertEquals(out[0], `Fumi ${denoJson.version} is running for localhost (dev mode).`);
        assertStringIncludes(out.join("\n"), `  data directory: ${dataDir}\n`);
        assertStringIncludes(
          out.join("\n"),
          "  database:       embedded PGlite in the data directory\n",
        );
        assertStringIncludes(out.join("\n"), `  master key:     ${dataDir}/master.key\n`);
        const created = out.indexOf("Created the administrator admin@localhost.");
        assert(created > 0, JSON.stringify(out));
        oneTime = /^ {2}one-time password: (\S{20})$/.exec(out[created + 1] ?? "")?.[1] ?? "";
        assert(oneTime, JSON.stringify(out));
        assertEquals(
          out[created + 2],
          "  it is shown only now; change it with: fumi user passwd admin@localhost",
        );

        assertEquals(await get(health), { status: 200, body: "ok\n" });
        // Other paths go to HTTPS (dev port 8443), with their query (src/ops/https_redirect.ts).
        const other = await fetch(`http://127.0.0.1:${port}/other?x=1`, { redirect: "manual" });
        await other.body?.cancel();
        assertEquals(
          [other.status, other.headers.get("location")],
          [308, "https://127.0.0.1:8443/other?x=1"],
        );
        const post = await fetch(health, { method: "POST" });
        await post.body?.cancel();
        assertEquals(post.status, 405);

        // Commands run beside the server and join its database.
        const list = table(assertOk(await fumi(["user", "list"], { env: {}, cwd: tmp })));
        assertEquals(list[1], ["admin@localhost", "unlimited", "0 B", "admin,active"]);
        assertEquals(assertOk(await fumi(["alias", "list"], { env: {}, cwd: tmp })), [
          "postmaster@localhost -> admin@localhost",
        ]);
        const store = await storeFor({ FUMI_DATA_DIR: dataDir });
        try {
          const admin = await passwordOf(store, "admin@localhost");
          assert(await verifyPassword(admin.hash, oneTime), "the printed password is the admin's");
          assertEquals(admin.mustChange, true);
        } finally {
          await store.close();
        }
      });
      assert(io.stderr.every((line) => !line.includes(oneTime)), "the password is not logged");
    });

    await t.step("a second start creates no administrator", async () => {
      const io = await serve({}, async (_out, health) => {
        assertEquals((await get(health)).status, 200);
      });
      assertEquals(io.stdout.filter((line) => line.includes("administrator")), []);
      assertEquals(io.stdout.filter((line) => line.includes("one-time password")), []);
    });

    await t.step("an embedded.pid left behind by a crash is taken over", async () => {
      // A pid above Linux's maximum (2^22): no process has it.
      await Deno.writeTextFile(`${dataDir}/run/embedded.pid`, "4194304999\n");
      assertOk(await fumi(["user", "list"], { env: {}, cwd: tmp }));
      assertEquals(await runEntries(dataDir), []);
    });

    await t.step("FUMI_ADMIN_PASSWORD is used and not printed", async () => {
      assertOk(await fumi(["user", "remove", "admin@localhost"], { env: {}, cwd: tmp }));
      const io = await serve({ FUMI_ADMIN_PASSWORD: GOOD_PASSWORD }, async () => {
        const store = await storeFor({ FUMI_DATA_DIR: dataDir });
        try {
          const admin = await passwordOf(store, "admin@localhost");
          assert(await verifyPassword(admin.hash, GOOD_PASSWORD));
          assertEquals(admin.mustChange, false);
        } finally {
          await store.close();
        }
      });
      assert(
        io.stdout.includes("Created the administrator admin@localhost."),
        JSON.stringify(io.stdout),
      );
      assertEquals(io.stdout.filter((line) => line.includes("password")), []);
      assert([...io.stdout, ...io.stderr].every((line) => !line.includes(GOOD_PASSWORD)));
    });

    await t.step("a port in use fails the start with one line", async () => {
      const blocker = Deno.listen({ hostname: "127.0.0.1", port });
      try {
        const result = await fumi(["serve", "--dev", "--config", config], { env: {}, cwd: tmp });
        assertEquals(result.code, 1);
        assertEquals(result.err.filter((line) => line.startsWith("fumi:")), [
          `fumi: Cannot listen for http on 127.0.0.1 port ${port}: the port is in use (is another Fumi running?)`,
        ]);
      } finally {
        blocker.close();
      }
      assertEquals(await runEntries(dataDir), []);
    });
  });
});

Deno.test("the fumi executable: exit codes, piped stdin, serve --dev and SIGTERM", async (t) => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    await newDataDir(dataDir);
    const env = { FUMI_DATA_DIR: dataDir };

    await t.step("deno task start is fumi serve --dev", () => {
      // One permission list: start runs the fumi task (tests/permissions_test.ts runs both).
      assertEquals(denoJson.tasks.start, "deno task fumi serve --dev");
      assertEquals(fumiTaskArgs()[0], "run");
    });

    await t.step("version exits 0", async () => {
      const result = await fumiProcess(["version"], { env });
      assertEquals(result.code, 0, result.err.join("\n"));
      assertMatch(
        result.out.join("\n"),
        new RegExp(`^fumi ${denoJson.version.replaceAll(".", "\\.")} \\(deno `),
      );
      assertEquals(result.err, []);
    });

    await t.step("an unknown command exits 2 with exactly one line on stderr", async () => {
      const result = await fumiProcess(["frobnicate"], { env });
      assertEquals(result.code, 2);
      assertEquals(result.out, []);
      assertEquals(result.err, [
        'fumi: Unknown command "frobnicate"; run "fumi help" for the list',
      ]);
    });

    await t.step(
      "serve --dev answers /healthz and exits 0 on SIGTERM, leaving run/ empty",
      async () => {
        const port = freePort();
        const config = await httpConfig(tmp, port);
        const child = spawnFumi(["serve", "--dev", "--config", config], { env });
        let exited = false;
        try {
          const line = await child.waitForOut(/^ {2}health: +http:\/\//);
          assertStringIncludes(line, `http://127.0.0.1:${port}/healthz`);
          await child.waitForOut(/^Created the administrator admin@localhost\.$/);
          const names = await runEntries(dataDir);
          assertEquals(names, [".s.PGSQL.5432", "embedded.pid"]);
          assertEquals(
            (await Deno.readTextFile(`${dataDir}/run/embedded.pid`)).trim(),
            String(child.process.pid),
          );
          assertEquals(await get(`http://127.0.0.1:${port}/healthz`), {
            status: 200,
            body: "ok\n",
          });
          child.process.kill("SIGTERM");
          const status = await child.finished();
          exited = true;
          assertEquals(status.code, 0, child.stderr.join("\n"));
          assertEquals(status.signal, null);
        } finally {
          if (!exited) {
            child.process.kill("SIGKILL");
            await child.finished();
          }
        }
        assertEquals(await runEntries(dataDir), []);
      },
    );

    await t.step("user add --password-stdin reads a real pipe", async () => {
      const added = await fumiProcess(["user", "add", "bob@localhost", "--password-stdin"], {
        env,
        stdin: `${GOOD_PASSWORD}\n`,
      });
      assertEquals(added.code, 0, added.err.join("\n"));
      assertEquals(added.out, ["Created account bob@localhost."]);
      assertEquals(added.err, []);
      const store = await storeFor(env);
      try {
        assert(
          await verifyPassword((await passwordOf(store, "bob@localhost")).hash, GOOD_PASSWORD),
        );
      } finally {
        await store.close();
      }
    });
  });
});

// Bugs found by these tests, now fixed: each keeps the contract it showed broken.

Deno.test("a first start that fails to bind does not lose the administrator's password", async () => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    await newDataDir(dataDir);
    const port = freePort();
    const config = await httpConfig(tmp, port);
    const blocker = Deno.listen({ hostname: "127.0.0.1", port });
    try {
      const failed = await fumi(["serve", "--dev", "--config", config], { env: {}, cwd: tmp });
      assertEquals(failed.code, 1);
      assertStringIncludes(failed.err.join("\n"), "the port is in use");
    } finally {
      blocker.close();
    }
    // The next start is the first that succeeds: it must show the administrator's password.
    const running = startFumi(["serve", "--dev", "--config", config], { env: {}, cwd: tmp });
    try {
      await running.io.waitForOut(/^ {2}health: /);
    } finally {
      running.io.stop();
      assertEquals(await running.exit, 0, running.io.stderr.join("\n"));
    }
    assert(
      running.io.stdout.includes("Created the administrator admin@localhost.") &&
        running.io.stdout.some((line) => line.startsWith("  one-time password: ")),
      `no administrator password was ever shown: ${JSON.stringify(running.io.stdout)}`,
    );
  });
});

Deno.test("a weak FUMI_ADMIN_PASSWORD is a configuration error naming the variable", async () => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    await newDataDir(dataDir);
    const config = await httpConfig(tmp, freePort());
    const result = await fumi(["serve", "--dev", "--config", config], {
      env: { FUMI_ADMIN_PASSWORD: "short" },
      cwd: tmp,
    });
    const errors = result.err.filter((line) => line.startsWith("fumi:"));
    assertEquals(errors.length, 1, JSON.stringify(result.err));
    assertEquals(result.err.filter((line) => /^\s+at /.test(line)), []);
    assertEquals(await runEntries(dataDir), []);
    assertStringIncludes(errors[0]!, "FUMI_ADMIN_PASSWORD");
    assertEquals(result.code, 2);
  });
});

Deno.test("two processes starting on a new data directory share one embedded database", async () => {
  await withTempDir(async (tmp) => {
    // A truly new data directory: creating PGlite takes seconds. The real executable runs with
    // the permissions of `deno task fumi` (no access to /proc), as administrators run it.
    const dataDir = `${tmp}/data`;
    const env = {
      FUMI_DATA_DIR: dataDir,
      FUMI_MASTER_KEY: (await fumi(["keys", "generate"])).out[0]!,
    };
    const [a, b] = await Promise.all([
      fumiProcess(["domain", "add", "a.example"], { env }),
      fumiProcess(["domain", "add", "b.example"], { env }),
    ]);
    assertEquals([a.code, b.code], [0, 0], JSON.stringify([a.err, b.err]));
    // Had both run PGlite on the same files, one's write would be lost or the files corrupt.
    const list = await fumiProcess(["domain", "list"], { env });
    assertEquals(list.out, ["a.example", "b.example"], JSON.stringify(list));
    assertEquals(await runEntries(dataDir), []);
  });
});
