/**
 * A root directory for the install tests: an /etc with the user databases of a Debian host that
 * has root, a `fumi` user made by install and `www-data`, and a stand-in fumi binary.
 *
 * @module
 */

import { USER_COMMENT } from "./plan.ts";

/** The ids of the accounts in a test root. */
export const IDS = { fumi: 998, www: 33 } as const;

/** Makes a root in a new temporary directory; `fn` gets it, and it is removed after. */
export async function withRoot(
  fn: (root: string, binary: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-root-" });
  try {
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/etc`, { recursive: true });
    const files: [string, string[], number][] = [
      ["passwd", [
        "root:x:0:0:root:/root:/bin/sh",
        `www-data:x:${IDS.www}:${IDS.www}:www-data:/var/www:/usr/sbin/nologin`,
        `fumi:x:${IDS.fumi}:${IDS.fumi}:${USER_COMMENT}:/var/lib/fumi:/usr/sbin/nologin`,
      ], 0o644],
      ["group", ["root:x:0:", `www-data:x:${IDS.www}:`, `fumi:x:${IDS.fumi}:`], 0o644],
      [
        "shadow",
        ["root:*:20000:0:99999:7:::", "www-data:*:20000::::::", "fumi:!:20000::::::"],
        0o600,
      ],
      ["gshadow", ["root:*::", "www-data:*::", "fumi:!::"], 0o600],
    ];
    for (const [name, lines, mode] of files) {
      await Deno.writeTextFile(`${root}/etc/${name}`, `${lines.join("\n")}\n`, { mode });
    }
    const binary = `${dir}/fumi`;
    await Deno.writeTextFile(binary, "#!/bin/sh\necho a stand-in fumi\n", { mode: 0o755 });
    await fn(root, binary);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Mode (permission bits), uid and gid of a path, as "0755 33:33". */
export async function modeAndOwner(path: string): Promise<string> {
  const info = await Deno.lstat(path);
  return `${(info.mode! & 0o7777).toString(8).padStart(4, "0")} ${info.uid}:${info.gid}`;
}
