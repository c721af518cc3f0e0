import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import { IDS, modeAndOwner, withRoot } from "./_test_support.ts";
import { hostFacts } from "./facts.ts";
import { DATA_DIR_MARKER, PATHS, planInstall, planUninstall, type Step } from "./plan.ts";
import { renderScript } from "./script.ts";

/** Runs a script with sh, as `fumi install --dry-run | sudo sh` would. */
async function sh(script: string): Promise<{ code: number; err: string }> {
  const child = new Deno.Command("sh", {
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    clearEnv: true,
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const output = await child.output();
  return { code: output.code, err: new TextDecoder().decode(output.stderr) };
}

async function absent(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => false, (e) => e instanceof Deno.errors.NotFound);
}

Deno.test("the script refuses a directory with others' files before changing anything", async () => {
  await withRoot(async (root, binary) => {
    const data = `${root}/var/lib/fumi`;
    await Deno.mkdir(data, { recursive: true, mode: 0o755 });
    await Deno.writeTextFile(`${data}/website.html`, "<p>not Fumi's</p>");
    await Deno.chown(data, IDS.www, IDS.www);
    const options = {
      root,
      user: "fumi",
      dataDir: "/var/lib/fumi",
      configPath: "/etc/fumi/fumi.toml",
      hostname: "mail.example.org",
      binarySource: binary,
      start: false,
    };
    const steps = planInstall(options, await hostFacts(root, "fumi", "/var/lib/fumi"))
      .filter((s) => s.kind !== "master-key");
    const refused = await sh(renderScript(steps, root, "test"));
    assertEquals(refused.code, 1, refused.err);
    assertStringIncludes(refused.err, `${data} exists, is not empty and is not owned by fumi:fumi`);
    assertEquals(await modeAndOwner(data), `0755 ${IDS.www}:${IDS.www}`);
    assert(await absent(`${root}${PATHS.binary}`), "a step ran before the check");
    assert(await absent(`${root}/etc/fumi`), "a step ran before the check");

    // Empty, the directory is taken; then it is Fumi's, and the script runs again.
    await Deno.remove(`${data}/website.html`);
    const taken = await sh(renderScript(steps, root, "test"));
    assertEquals(taken.code, 0, taken.err);
    assertEquals(await modeAndOwner(data), `0700 ${IDS.fumi}:${IDS.fumi}`);
    assertEquals((await sh(renderScript(steps, root, "test"))).code, 0);
  });
});

Deno.test("the script's --purge deletes only a marked data directory and only Fumi's user", async () => {
  await withRoot(async (root) => {
    const site = `${root}/srv/www`;
    await Deno.mkdir(site, { recursive: true });
    await Deno.writeTextFile(`${site}/index.html`, "<p>hello</p>");
    const mistaken = {
      root,
      user: "www-data",
      dataDir: "/srv/www",
      configPath: "/etc/fumi/fumi.toml",
      purge: true,
    };
    const steps = planUninstall(mistaken, await hostFacts(root, "www-data", "/srv/www"));
    // With a remove-user step for www-data too: the script checks the account itself.
    const kept = await sh(
      renderScript([...steps, { kind: "remove-user", name: "www-data" }], root, "test"),
    );
    assertEquals(kept.code, 0, kept.err);
    assertStringIncludes(kept.err, `Kept /srv/www: it has no ${DATA_DIR_MARKER}`);
    assertEquals(await Deno.readTextFile(`${site}/index.html`), "<p>hello</p>");
    assertStringIncludes(await Deno.readTextFile(`${root}/etc/passwd`), "\nwww-data:x:33:");

    // A marked directory and the user install made go (userdel for real, in the root).
    const data = `${root}/var/lib/fumi`;
    await Deno.mkdir(data, { recursive: true });
    await Deno.writeTextFile(`${data}/${DATA_DIR_MARKER}`, "Fumi's\n");
    const purge = planUninstall(
      { ...mistaken, user: "fumi", dataDir: "/var/lib/fumi" },
      await hostFacts(root, "fumi", "/var/lib/fumi"),
    );
    const purged = await sh(renderScript(purge, root, "test"));
    assertEquals(purged.code, 0, purged.err);
    assert(await absent(data), "the marked data directory is still there");
    const passwd = await Deno.readTextFile(`${root}/etc/passwd`);
    assert(!passwd.includes("\nfumi:"), passwd);
    assertStringIncludes(passwd, "\nwww-data:x:33:");
  });
});

Deno.test("the script writes no master key when fumi keys generate fails or prints nothing", async () => {
  for (const encrypted of [true, false]) {
    await withRoot(async (root) => {
      const path = encrypted ? PATHS.encryptedCredential : PATHS.plainCredential;
      const steps: Step[] = [
        {
          kind: "dir",
          path: path.slice(0, path.lastIndexOf("/")),
          mode: 0o700,
          owner: "root",
          group: "root",
        },
        { kind: "master-key", path, encrypted },
      ];
      const generator = `${root}${PATHS.binary}`;
      await Deno.mkdir(`${root}/usr/local/bin`, { recursive: true });
      for (const body of ["echo cannot open the random device >&2; exit 3", "exit 0"]) {
        await Deno.writeTextFile(generator, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        const failed = await sh(renderScript(steps, root, "test"));
        assertEquals(failed.code, 1, `${body}: ${failed.err}`);
        assertStringIncludes(failed.err, "keys generate failed: no master key was written");
        assert(await absent(`${root}${path}`), `${encrypted}, ${body}: a key file was left`);
        assert(await absent(`${root}${path}.fumi-install`), `${body}: a temporary file was left`);
      }
      // A generator that works: the key is written, 0600, and then kept.
      const key = "a".repeat(43) + "=";
      await Deno.writeTextFile(generator, `#!/bin/sh\necho ${key}\n`, { mode: 0o755 });
      const made = await sh(renderScript(steps, root, "test"));
      assertEquals(made.code, 0, made.err);
      assertEquals(await modeAndOwner(`${root}${path}`), "0600 0:0");
      if (!encrypted) assertEquals(await Deno.readTextFile(`${root}${path}`), `${key}\n`);
      const written = await Deno.readFile(`${root}${path}`);
      await Deno.writeTextFile(generator, `#!/bin/sh\necho ${"b".repeat(43)}=\n`, { mode: 0o755 });
      assertEquals((await sh(renderScript(steps, root, "test"))).code, 0);
      assertEquals(await Deno.readFile(`${root}${path}`), written);
    });
  }
});
