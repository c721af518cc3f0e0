import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { UsageError } from "../util/errors.ts";
import { applySteps } from "./apply.ts";
import {
  type Account,
  DATA_DIR_MARKER,
  type HostFacts,
  type InstallOptions,
  PATHS,
  planInstall,
  planUninstall,
  USER_COMMENT,
} from "./plan.ts";

const OPTIONS: InstallOptions = {
  root: "/",
  user: "fumi",
  dataDir: "/var/lib/fumi",
  configPath: "/etc/fumi/fumi.toml",
  hostname: "mail.example.org",
  binarySource: "/tmp/fumi",
  start: true,
};
const FUMI: Account = { uid: 998, gid: 998, group: "fumi", comment: USER_COMMENT };
const FRESH: HostFacts = {
  user: null,
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
  const kept = planInstall(OPTIONS, { ...FRESH, user: FUMI, credential: "plain" });
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
  const installed = { ...FRESH, user: FUMI, unitInstalled: true };
  const keep = planUninstall({ ...OPTIONS, purge: false }, installed);
  assertEquals(keep[0], {
    kind: "command",
    argv: ["systemctl", "disable", "--now", "fumi.service"],
  });
  assert(!keep.some((s) => s.kind === "remove" && s.path.includes("credstore")));
  const purge = planUninstall({ ...OPTIONS, purge: true }, installed);
  const gone = planUninstall({ ...OPTIONS, purge: false }, { ...FRESH, user: FUMI });
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
      user: FUMI,
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

function refused(plan: () => unknown, what: string): void {
  try {
    plan();
  } catch (error) {
    assert(error instanceof UsageError, `${what}: ${error}`);
    return;
  }
  assert(false, `accepted ${what}`);
}

Deno.test("system directories are refused as the data directory or the config's directory", () => {
  const installed = { ...FRESH, user: FUMI };
  for (
    const dataDir of [
      "/var/lib",
      "/var/lib/",
      "/var/lib/.",
      "/var/lib/..",
      "/var/lib/./fumi",
      "//var/lib/fumi",
      "/var//lib/fumi",
      "/usr/local/bin",
      "/srv",
      "/var",
      "/etc/systemd/system",
      "/home/alice",
      "/proc/1",
      "/etc/fumi", // the config's own directory
      "/etc/fumi/data",
    ]
  ) {
    refused(() => planInstall({ ...OPTIONS, dataDir }, FRESH), `install --data-dir ${dataDir}`);
    refused(
      () => planUninstall({ ...OPTIONS, dataDir, purge: true }, installed),
      `uninstall --purge --data-dir ${dataDir}`,
    );
  }
  for (
    const configPath of [
      "/etc/fumi.toml",
      "/fumi.toml",
      "/usr/local/etc/fumi.toml",
      "/etc/ssl/fumi.toml",
      "/etc/fumi/",
      "/etc/fumi/.",
      "/etc/fumi/..",
      "/var/lib/fumi/fumi.toml", // inside the data directory, which the service may write
    ]
  ) {
    refused(() => planInstall({ ...OPTIONS, configPath }, FRESH), `install --config ${configPath}`);
    refused(
      () => planUninstall({ ...OPTIONS, configPath, purge: true }, installed),
      `uninstall --purge --config ${configPath}`,
    );
  }
  assertThrows(
    () => planInstall({ ...OPTIONS, configPath: "/etc/fumi.toml" }, FRESH),
    UsageError,
    '--config: the directory of "/etc/fumi.toml" is a top-level directory',
  );
  assertThrows(
    () => planInstall({ ...OPTIONS, dataDir: "/usr/local/bin" }, FRESH),
    UsageError,
    '--data-dir: "/usr/local/bin" is a directory of the system',
  );
  // Directories of its own are fine, wherever they are.
  for (const dataDir of ["/srv/fumi", "/var/lib/fumi", "/opt/fumi/data", "/home/fumi/data"]) {
    const steps = planInstall(
      { ...OPTIONS, dataDir, configPath: "/usr/local/etc/fumi/fumi.toml" },
      FRESH,
    );
    assert(steps.some((s) => s.kind === "dir" && s.path === dataDir));
    assert(steps.some((s) => s.kind === "file" && s.path === `${dataDir}/${DATA_DIR_MARKER}`));
  }
});

Deno.test("root, a uid 0 account or a user whose group has no name is refused", () => {
  assertThrows(
    () => planInstall({ ...OPTIONS, user: "root" }, FRESH),
    UsageError,
    "--user: Fumi does not run as root",
  );
  refused(() => planUninstall({ ...OPTIONS, user: "root", purge: true }, FRESH), "--user root");
  const toor = { ...FRESH, user: { uid: 0, gid: 0, group: "root", comment: "" } };
  refused(() => planInstall({ ...OPTIONS, user: "toor" }, toor), "an account with uid 0");
  const nameless = { ...FRESH, user: { ...FUMI, group: null } };
  refused(() => planInstall(OPTIONS, nameless), "a primary group without a name");
});

Deno.test("an existing account keeps its primary group, and --purge removes only Fumi's user", () => {
  const www = { uid: 33, gid: 33, group: "www-data", comment: "www-data" };
  const steps = planInstall({ ...OPTIONS, user: "www-data" }, { ...FRESH, user: www });
  assert(!steps.some((s) => s.kind === "user"));
  assert(unitOf(steps).includes("\nUser=www-data\nGroup=www-data\n"));
  const other = { uid: 990, gid: 100, group: "users", comment: USER_COMMENT };
  const grouped = planInstall(OPTIONS, { ...FRESH, user: other });
  assert(unitOf(grouped).includes("\nUser=fumi\nGroup=users\n"), unitOf(grouped));
  assert(
    grouped.some((s) => s.kind === "dir" && s.path === OPTIONS.dataDir && s.group === "users"),
  );

  const purge = { ...OPTIONS, user: "www-data", purge: true };
  assert(!planUninstall(purge, { ...FRESH, user: www }).some((s) => s.kind === "remove-user"));
  assertEquals(
    planUninstall({ ...OPTIONS, purge: true }, { ...FRESH, user: FUMI }).at(-1),
    { kind: "remove-user", name: "fumi" },
  );
});
