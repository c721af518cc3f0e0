import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { UsageError } from "../util/errors.ts";
import { applySteps } from "./apply.ts";
import { type HostFacts, type InstallOptions, PATHS, planInstall, planUninstall } from "./plan.ts";

const OPTIONS: InstallOptions = {
  root: "/",
  user: "fumi",
  dataDir: "/var/lib/fumi",
  configPath: "/etc/fumi/fumi.toml",
  hostname: "mail.example.org",
  binarySource: "/tmp/fumi",
  start: true,
};
const FRESH: HostFacts = {
  userExists: false,
  systemdCreds: true,
  credential: null,
  dataKeyFile: false,
  unitInstalled: false,
};

function unitOf(steps: ReturnType<typeof planInstall>): string {
  const unit = steps.find((s) => s.kind === "file" && s.path === PATHS.unit);
  assert(unit?.kind === "file" && "text" in unit.content);
  return unit.content.text;
}

Deno.test("without systemd-creds the key is a 0600 file loaded with LoadCredential", () => {
  const steps = planInstall(OPTIONS, { ...FRESH, systemdCreds: false });
  assertEquals(steps.filter((s) => s.kind === "master-key"), [
    { kind: "master-key", path: PATHS.plainCredential, encrypted: false },
  ]);
  assert(unitOf(steps).includes(`\nLoadCredential=master-key:${PATHS.plainCredential}\n`));
  assert(!unitOf(steps).includes("LoadCredentialEncrypted"));
});

Deno.test("a key that exists is never replaced: a credential is kept, a data dir's master.key used", () => {
  const kept = planInstall(OPTIONS, { ...FRESH, userExists: true, credential: "plain" });
  assertEquals(kept.filter((s) => s.kind === "master-key" || s.kind === "user"), []);
  assert(unitOf(kept).includes(`\nLoadCredential=master-key:${PATHS.plainCredential}\n`));
  const file = planInstall(OPTIONS, { ...FRESH, dataKeyFile: true });
  assertEquals(file.filter((s) => s.kind === "master-key"), []);
  assert(!unitOf(file).includes("LoadCredential"));
});

Deno.test("install starts the service last; uninstall keeps the key unless --purge", () => {
  const steps = planInstall(OPTIONS, FRESH);
  assertEquals(steps.slice(-3), [
    { kind: "command", argv: ["systemctl", "daemon-reload"] },
    { kind: "command", argv: ["systemctl", "enable", "fumi.service"] },
    { kind: "command", argv: ["systemctl", "restart", "fumi.service"] },
  ]);
  const fromItself = planInstall({ ...OPTIONS, binarySource: PATHS.binary }, FRESH);
  assert(!fromItself.some((s) => s.kind === "file" && s.path === PATHS.binary));
  const installed = { ...FRESH, userExists: true, unitInstalled: true };
  const keep = planUninstall({ ...OPTIONS, purge: false }, installed);
  assertEquals(keep[0], {
    kind: "command",
    argv: ["systemctl", "disable", "--now", "fumi.service"],
  });
  assert(!keep.some((s) => s.kind === "remove" && s.path.includes("credstore")));
  const purge = planUninstall({ ...OPTIONS, purge: true }, installed);
  const gone = planUninstall({ ...OPTIONS, purge: false }, { ...FRESH, userExists: true });
  assert(!gone.some((s) => s.kind === "command"), "no unit: nothing to stop or reload");
  assert(purge.some((s) => s.kind === "remove" && s.path === PATHS.encryptedCredential));
  assertEquals(purge.at(-1), { kind: "remove-user", name: "fumi" });
});

Deno.test("options that would make a wrong unit or script are refused", () => {
  for (
    const bad of [
      { user: "Fumi Mail" },
      { dataDir: "var/lib/fumi" },
      { dataDir: "/var/lib/fumi data" },
      { dataDir: "/" },
      { configPath: "/etc/%n.toml" },
      { dataDir: "/var/lib/../../etc" },
      { hostname: "localhost" },
      { root: "/tmp/r", start: true },
    ]
  ) {
    try {
      planInstall({ ...OPTIONS, ...bad }, FRESH);
      assert(false, `accepted ${JSON.stringify(bad)}`);
    } catch (error) {
      assert(error instanceof UsageError, `${JSON.stringify(bad)}: ${error}`);
    }
  }
});

Deno.test("a plain key is written 0600 and never overwritten", async () => {
  const root = await Deno.makeTempDir({ prefix: "fumi-plain-" });
  try {
    await Deno.mkdir(`${root}/etc`);
    await Deno.writeTextFile(`${root}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
    await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\n");
    const steps = planInstall({ ...OPTIONS, root, start: false }, {
      ...FRESH,
      userExists: true,
      systemdCreds: false,
    }).filter((s) =>
      s.kind === "master-key" || (s.kind === "dir" && s.owner === "root" && s.group === "root")
    );
    const lines: string[] = [];
    await applySteps(steps, root, (line) => lines.push(line));
    const path = `${root}${PATHS.plainCredential}`;
    const key = await Deno.readTextFile(path);
    assertEquals(/^[A-Za-z0-9+/]{43}=\n$/.test(key), true, key);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${root}/etc/credstore`)).mode! & 0o777, 0o700);
    await applySteps(steps, root, (line) => lines.push(line));
    assertEquals(await Deno.readTextFile(path), key);
    assertEquals(lines.at(-1), `Kept the master key at ${PATHS.plainCredential}.`);
    await assertRejects(() => applySteps([{ kind: "command", argv: ["false"] }], root, () => {}));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
