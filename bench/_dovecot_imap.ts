/**
 * A private Dovecot serving IMAP for the comparison in bench/imap.ts, set up like the one of
 * bench/_postfix_dovecot.ts (same config writer): everything in one new temporary directory,
 * removed by {@link DovecotImap.stop}; `dovecot -F -c FILE` as a child of this process; users
 * in a passwd-file (password "bench"); maildirs owned by `mail`; `ssl = no`, IMAP on a free
 * port of 127.0.0.1 in plain text (plain-text LOGIN allowed: loopback only).
 *
 * The mailbox is filled by writing Maildir files straight into `cur/`, one per message, named
 * as Dovecot names them (`SECONDS.MMICROSPPID.HOST,S=SIZE:2,`); Dovecot gives them UIDs in name
 * order when INBOX is first opened, which {@link DovecotImap.fill} does once.
 *
 * @module
 */

import { ImapConnection } from "./_imap_client.ts";
import { exists, userIds, writeDovecotConfig } from "./_postfix_dovecot.ts";
import { output, processTree, reap } from "./_procs.ts";
import { freePort, waitFor } from "./_wait.ts";

/** A running Dovecot. */
export interface DovecotImap {
  readonly port: number;
  readonly pid: number;
  readonly description: string;
  /** Writes messages 0…count-1 into `user`'s INBOX, then opens it once to index them. */
  fill(user: string, count: number, message: (i: number) => Uint8Array): Promise<void>;
  logTail(): Promise<string>;
  /** Stops it and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The password of every user. */
export const DOVECOT_PASSWORD = "bench";
const IMAP = "/usr/lib/dovecot/imap";
const INSTALL_HINT = "apt-get install dovecot-core dovecot-imapd";
const START_TIMEOUT_MS = 20_000;

/**
 * Starts Dovecot with IMAP for `users` of `domain`; `connections` is how many IMAP sessions to
 * allow at once (one imap process each, Dovecot's default). `onStop` as in _postfix_dovecot.ts.
 */
export async function startDovecotImap(
  options: { domain: string; users: readonly string[]; connections: number },
  onStop: (stop: () => Promise<void>) => void = () => {},
): Promise<DovecotImap> {
  for (const path of ["/usr/sbin/dovecot", IMAP]) {
    if (!(await exists(path))) throw new Error(`${path} is missing; install it: ${INSTALL_HINT}`);
  }
  if (Deno.uid() !== 0) throw new Error("Dovecot needs root to start; run as root");
  const mail = await userIds("mail");
  const dir = await Deno.makeTempDir({ prefix: "fumi-bench-dovecot-" });
  await Deno.chmod(dir, 0o755);
  let dovecot: Deno.ChildProcess | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= stopNow();
  const stopNow = async () => {
    if (dovecot !== null) {
      const tree = await processTree(dovecot.pid);
      if (tree.length > 0) dovecot.kill("SIGTERM");
      await dovecot.status;
      await dovecot.stderr.cancel().catch(() => {});
      const killed = await reap(tree, 10_000);
      if (killed.length) console.error(`Dovecot processes killed: ${killed.join(" ")}`);
    }
    await Deno.remove(dir, { recursive: true });
  };
  onStop(stop);
  const logTail = async () =>
    (await Deno.readTextFile(`${dir}/dovecot.log`).catch(() => "")).split("\n").slice(-15)
      .map((l) => `    dovecot.log: ${l}`).join("\n");
  try {
    const port = freePort();
    const limit = options.connections + 10;
    await writeDovecotConfig(dir, { ...options, encrypt: false }, mail, {
      protocols: "imap",
      services: [
        "disable_plaintext_auth = no",
        `mail_max_userip_connections = ${limit}`,
        "service imap-login {",
        `  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }`,
        "  inet_listener imaps {\n    port = 0\n  }",
        `  process_limit = ${limit}`,
        "}",
        `service imap {\n  process_limit = ${limit}\n}`,
        `default_client_limit = ${limit + 100}`,
      ],
    });
    await Deno.mkdir(`${dir}/mail`);
    await Deno.chown(`${dir}/mail`, mail.uid, mail.gid);
    await Deno.chmod(`${dir}/mail`, 0o700);
    dovecot = new Deno.Command("/usr/sbin/dovecot", {
      args: ["-F", "-c", `${dir}/dovecot/dovecot.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const target = { host: "127.0.0.1", port, tls: false };
    await waitFor(`Dovecot IMAP on 127.0.0.1:${port}`, START_TIMEOUT_MS, dovecot, async () => {
      const c = await ImapConnection.open(target).catch(() => null);
      c?.close();
      return c !== null;
    });
    const version = (await output("/usr/sbin/dovecot", ["--version"])).text.trim().split(" ")[0];
    const pid = dovecot.pid;
    return {
      port,
      pid,
      description: `Dovecot ${version} IMAP on 127.0.0.1:${port} (plain TCP), maildir, in ${dir}`,
      fill: async (user, count, message) => {
        const home = `${dir}/mail/${options.domain}/${user}`;
        for (const sub of ["cur", "new", "tmp"]) {
          await Deno.mkdir(`${home}/${sub}`, { recursive: true });
        }
        const base = Math.floor(Date.UTC(2026, 10, 27) / 1000);
        for (let i = 0; i < count; i++) {
          const bytes = message(i);
          const micros = String(i).padStart(6, "0");
          const name = `${base + i}.M${micros}P${Deno.pid}.bench,S=${bytes.length}:2,`;
          await Deno.writeFile(`${home}/cur/${name}`, bytes);
        }
        const chown = await output("chown", ["-R", `${mail.uid}:${mail.gid}`, `${dir}/mail`]);
        if (!chown.ok) throw new Error(`chown failed: ${chown.text}`);
        const connection = await ImapConnection.open(target);
        try {
          await connection.login(`${user}@${options.domain}`, DOVECOT_PASSWORD);
          const selected = await connection.select();
          if (selected.exists !== count) {
            throw new Error(`Dovecot's INBOX has ${selected.exists} of ${count} messages`);
          }
        } finally {
          connection.close();
        }
      },
      logTail,
      stop,
    };
  } catch (error) {
    const tail = await logTail();
    await stop().catch((e) => console.error(String(e)));
    throw new Error(`${error instanceof Error ? error.message : error}\n${tail}`);
  }
}
