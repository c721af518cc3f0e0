import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/assert.ts";
import { FumiError } from "../util/errors.ts";
import { IDS, modeAndOwner, withRoot } from "./_test_support.ts";
import { applySteps, type RunProgram } from "./apply.ts";
import { hostFacts } from "./facts.ts";
import { DATA_DIR_MARKER, type InstallOptions, PATHS, planInstall, planUninstall } from "./plan.ts";

function options(root: string, binary: string): InstallOptions {
  return {
    root,
    user: "fumi",
    dataDir: "/var/lib/fumi",
    configPath: "/etc/fumi/fumi.toml",
    hostname: "mail.example.org",
    binarySource: binary,
    start: false,
  };
}

/** Records the programs a step would run, and runs none. */
function recorder(): { run: RunProgram; ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    run: (argv) => {
      ran.push(argv.join(" "));
      return Promise.resolve({ code: 0, stderr: "" });
    },
  };
}

Deno.test("install refuses a directory with others' files before changing anything", async () => {
  await withRoot(async (root, binary) => {
    const data = `${root}/var/lib/fumi`;
    await Deno.mkdir(data, { recursive: true });
    await Deno.writeTextFile(`${data}/website.html`, "<p>not Fumi's</p>");
    await Deno.chown(data, IDS.www, IDS.www);
    await Deno.chmod(data, 0o755);
    const steps = planInstall(
      options(root, binary),
      await hostFacts(root, "fumi", "/var/lib/fumi"),
    ).filter((s) => s.kind !== "master-key"); // systemd-creds is not run here
    const { run, ran } = recorder();
    await assertRejects(
      () => applySteps(steps, root, () => {}, run),
      FumiError,
      "/var/lib/fumi exists, is not empty and is not owned by fumi:fumi",
    );
    assertEquals(await modeAndOwner(data), `0755 ${IDS.www}:${IDS.www}`);
    assertEquals(ran, []);
    await Deno.stat(`${root}${PATHS.binary}`).then(
      () => assert(false, "a step ran before the check"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );

    // A symbolic link (to /etc, say) is not a directory to take either.
    await Deno.remove(data, { recursive: true });
    await Deno.symlink(`${root}/etc`, data);
    await assertRejects(() => applySteps(steps, root, () => {}, run), FumiError, "symbolic link");
    assertEquals(await modeAndOwner(`${root}/etc`), await modeAndOwner(`${root}/etc`));
    await Deno.remove(data);

    // Empty, it is taken; then it is Fumi's own, and a reinstall keeps going.
    await Deno.mkdir(data, { mode: 0o755 });
    await Deno.chown(data, IDS.www, IDS.www);
    await applySteps(steps, root, () => {}, run);
    assertEquals(await modeAndOwner(data), `0700 ${IDS.fumi}:${IDS.fumi}`);
    assertEquals(await modeAndOwner(`${root}/etc/fumi`), `0750 0:${IDS.fumi}`);
    await Deno.writeTextFile(`${data}/mail`, "data");
    await applySteps(steps, root, () => {}, run);
    assertEquals(await Deno.readTextFile(`${data}/mail`), "data");
    assertStringIncludes(await Deno.readTextFile(`${data}/${DATA_DIR_MARKER}`), "fumi install");
  });
});

Deno.test("--purge deletes only a data directory with install's marker, and only Fumi's user", async () => {
  await withRoot(async (root, binary) => {
    // Another service's directory and account, named by mistake.
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
    assert(!steps.some((s) => s.kind === "remove-user"), JSON.stringify(steps));
    const lines: string[] = [];
    const { run, ran } = recorder();
    // With a remove-user step for www-data too: apply checks the account again.
    await applySteps(
      [...steps, { kind: "remove-user", name: "www-data" }],
      root,
      (l) => lines.push(l),
      run,
    );
    assertEquals(await Deno.readTextFile(`${site}/index.html`), "<p>hello</p>");
    assert(
      lines.includes(
        `Kept /srv/www: it has no ${DATA_DIR_MARKER}, so fumi install did not make it.`,
      ),
      lines.join("\n"),
    );
    assert(
      lines.includes("Kept the user www-data: fumi install did not create it."),
      lines.join("\n"),
    );
    assertEquals(ran, []);

    // What install made goes.
    const installed = planInstall(
      options(root, binary),
      await hostFacts(root, "fumi", "/var/lib/fumi"),
    );
    await applySteps(installed.filter((s) => s.kind !== "master-key"), root, () => {}, run);
    const purge = planUninstall(
      { ...options(root, binary), purge: true },
      await hostFacts(root, "fumi", "/var/lib/fumi"),
    );
    await applySteps(purge, root, () => {}, run);
    await Deno.stat(`${root}/var/lib/fumi`).then(
      () => assert(false, "the data directory is still there"),
      (error) => assert(error instanceof Deno.errors.NotFound),
    );
    assertEquals(ran, [`userdel --prefix ${root} fumi`]);
  });
});
