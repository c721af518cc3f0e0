/**
 * A real peer MTA for outbound tests: a private Postfix (Debian's package) on a loopback
 * address, receiving mail for one domain into Maildirs the test reads. Everything lives in a
 * new temporary directory, removed by {@link PostfixPeer.stop}; the system's Postfix service
 * is never touched (this instance has its own config_directory and queue_directory).
 *
 * - One smtpd on `address`:`port` (a free port), STARTTLS offered (`smtpd_tls_security_level
 *   = may`) with the certificate given, and `smtpd_tls_received_header = yes`, so a message
 *   received over TLS says so in its Received field.
 * - The domain is a virtual mailbox domain whose users are listed: any other local part is
 *   refused at RCPT with 550 5.1.1. `check_recipient_access` reads a hash map the test sets
 *   with {@link PostfixPeer.setAccess} (e.g. `451 4.7.1 try later` for one address); smtpd
 *   notices the rebuilt map (by its modification time) and restarts before its next session.
 * - Nothing can leave the machine: there is no smtp client in master.cf, every other
 *   destination goes to the `error` transport (so even a bounce stays here), and smtpd looks
 *   up no client names (`smtpd_peername_lookup = no`).
 *
 * Postfix needs root to start (it drops to the postfix and mail users); without root or the
 * binaries, {@link postfixMissing} says why, for `ignore`.
 *
 * @module
 */

const POSTFIX = "/usr/sbin/postfix";
const POSTMAP = "/usr/sbin/postmap";
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** What to set up. */
export interface PostfixPeerOptions {
  /** A loopback address to listen on (127.0.0.0/8). */
  readonly address: string;
  readonly domain: string;
  /** Local parts that have a mailbox. */
  readonly users: readonly string[];
  /** PEM files of the certificate (chain) and its key, for STARTTLS. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The name Postfix greets with (its myhostname). */
  readonly hostname: string;
}

/** A message in a Maildir: its file path and text. */
export interface Received {
  readonly user: string;
  readonly path: string;
  readonly text: string;
}

/** A running Postfix. */
export interface PostfixPeer {
  readonly address: string;
  readonly port: number;
  /** Every message delivered so far, in every user's Maildir (`new/`). */
  messages(): Promise<Received[]>;
  /** Replaces the recipient access map (address → action, e.g. "451 4.7.1 try later"). */
  setAccess(entries: Readonly<Record<string, string>>): Promise<void>;
  /** Postfix's log so far. */
  log(): Promise<string>;
  /** Stops it and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Why a Postfix peer cannot run here, or null when it can. */
export async function postfixMissing(): Promise<string | null> {
  for (const path of [POSTFIX, POSTMAP]) {
    if ((await Deno.stat(path).catch(() => null)) === null) {
      return `${path} is missing (apt-get install postfix)`;
    }
  }
  if (Deno.uid() !== 0) return "Postfix needs root to start";
  return null;
}

/** Starts Postfix; throws, having cleaned up, if it cannot. */
export async function startPostfixPeer(options: PostfixPeerOptions): Promise<PostfixPeer> {
  const mail = await userIds("mail");
  const dir = await Deno.makeTempDir({ prefix: "fumi-postfix-peer-" });
  // Postfix's processes run as postfix and mail: they must reach into the directory.
  await Deno.chmod(dir, 0o755);
  const config = `${dir}/postfix`;
  let started = false;
  let stopping: Promise<void> | null = null;
  const log = () => Deno.readTextFile(`${dir}/postfix.log`).catch(() => "");
  const stop = () =>
    stopping ??= (async () => {
      if (started) {
        const master = await masterPid(dir);
        await run(POSTFIX, ["-c", config, "stop"]);
        if (master !== null) await gone(master, STOP_TIMEOUT_MS);
      }
      await Deno.remove(dir, { recursive: true });
    })();
  try {
    const port = freePortOn(options.address);
    await Deno.mkdir(config);
    await Deno.mkdir(`${dir}/mail`);
    await Deno.chown(`${dir}/mail`, mail.uid, mail.gid);
    await Deno.mkdir(`${dir}/postfix-queue`, { mode: 0o755 });
    await Deno.copyFile(options.certFile, `${config}/cert.pem`);
    await Deno.copyFile(options.keyFile, `${config}/key.pem`);
    await Deno.chmod(`${config}/key.pem`, 0o600);
    const mailboxes = options.users.map((u) => `${u}@${options.domain} ${options.domain}/${u}/` // The slash: a Maildir.
    );
    await Deno.writeTextFile(`${config}/vmailbox`, mailboxes.join("\n") + "\n");
    await Deno.writeTextFile(`${config}/access`, "");
    const refuse = "error:5.7.1 this test peer sends no mail off this machine";
    await Deno.writeTextFile(
      `${config}/main.cf`,
      [
        "compatibility_level = 3.6",
        `queue_directory = ${dir}/postfix-queue`,
        `data_directory = ${dir}/postfix-data`,
        "mail_owner = postfix",
        "setgid_group = postdrop",
        // Postfix wants an interface address here; the listener names its own below.
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        `myhostname = ${options.hostname}`,
        `mydomain = ${options.domain}`,
        "mydestination =",
        "mynetworks = 127.0.0.0/8",
        "relay_domains =",
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
        "append_dot_mydomain = no",
        "biff = no",
        "smtpd_peername_lookup = no",
        `virtual_mailbox_domains = ${options.domain}`,
        `virtual_mailbox_maps = texthash:${config}/vmailbox`,
        `virtual_mailbox_base = ${dir}/mail`,
        `virtual_minimum_uid = ${mail.uid}`,
        `virtual_uid_maps = static:${mail.uid}`,
        `virtual_gid_maps = static:${mail.gid}`,
        `smtpd_recipient_restrictions = check_recipient_access hash:${config}/access`,
        `local_transport = ${refuse}`,
        `relay_transport = ${refuse}`,
        `default_transport = ${refuse}`,
        "smtpd_tls_security_level = may",
        `smtpd_tls_cert_file = ${config}/cert.pem`,
        `smtpd_tls_key_file = ${config}/key.pem`,
        "smtpd_tls_received_header = yes",
        "smtpd_tls_loglevel = 1",
        "smtpd_tls_session_cache_database =",
        `maillog_file = ${dir}/postfix.log`,
        `maillog_file_prefixes = ${dir}`,
        "",
      ].join("\n"),
    );
    await postmap(`${config}/access`); // after main.cf: postmap reads it
    // master(5): service type private unpriv chroot wakeup maxproc command
    await Deno.writeTextFile(
      `${config}/master.cf`,
      [
        `${options.address}:${port} inet n - n - - smtpd`,
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "virtual unix - n n - - virtual",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
        "",
      ].join("\n"),
    );
    const check = await run(POSTFIX, ["-c", config, "check"]);
    if (!check.ok) throw new Error(`postfix check failed: ${check.text}`);
    started = true;
    const start = await run(POSTFIX, ["-c", config, "start"]);
    if (!start.ok) throw new Error(`postfix start failed: ${start.text}`);
    await waitForGreeting(options.address, port, START_TIMEOUT_MS);
    return {
      address: options.address,
      port,
      messages: async () => {
        const found: Received[] = [];
        for (const user of options.users) {
          const folder = `${dir}/mail/${options.domain}/${user}/new`;
          for (const name of await listDir(folder)) {
            const path = `${folder}/${name}`;
            found.push({ user, path, text: await Deno.readTextFile(path) });
          }
        }
        return found;
      },
      setAccess: async (entries) => {
        const lines = Object.entries(entries).map(([key, action]) => `${key} ${action}`);
        await Deno.writeTextFile(`${config}/access`, lines.join("\n") + "\n");
        await postmap(`${config}/access`);
      },
      log,
      stop,
    };
  } catch (error) {
    const text = await log();
    await stop().catch((e) => console.error(String(e)));
    throw new Error(`${error instanceof Error ? error.message : error}\n${text}`);
  }
}

async function run(command: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { ok: out.success, text: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

/** The last modification time given to a map, in seconds. */
let lastMapTime = 0;

/**
 * Builds `file.db`. smtpd tells a changed map by its modification time, in whole seconds:
 * each build gets a time later than any before, so two builds within a second are told apart.
 */
async function postmap(file: string): Promise<void> {
  // The instance's own main.cf, beside the map: the system's /etc/postfix has none when Postfix
  // was installed unconfigured (as .ci/run does), and postmap refuses to run without one.
  const config = file.slice(0, file.lastIndexOf("/"));
  const made = await run(POSTMAP, ["-c", config, `hash:${file}`]);
  if (!made.ok) throw new Error(`postmap ${file} failed: ${made.text}`);
  lastMapTime = Math.max(Math.floor(Date.now() / 1000), lastMapTime + 1);
  await Deno.utime(`${file}.db`, lastMapTime, lastMapTime);
}

/** The Postfix master's id, from its pid file. */
async function masterPid(dir: string): Promise<number | null> {
  const text = await Deno.readTextFile(`${dir}/postfix-queue/pid/master.pid`).catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Waits until process `pid` has exited; kills it (only it) if it outlives `ms`. */
async function gone(pid: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  // ps, not /proc: Deno lets tests read /proc only with --allow-all. A zombie has exited.
  const alive = async () => {
    const state = (await run("ps", ["-p", String(pid), "-o", "stat="])).text.trim();
    return state !== "" && !state.startsWith("Z");
  };
  while (await alive()) {
    if (Date.now() > until) {
      Deno.kill(pid, "SIGKILL");
      throw new Error(`The Postfix master (${pid}) did not stop in ${ms} ms; killed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until a 220 greeting comes from `address`:`port`. */
async function waitForGreeting(address: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let last = "";
  while (Date.now() < until) {
    try {
      const conn = await Deno.connect({ hostname: address, port });
      try {
        const buffer = new Uint8Array(512);
        const n = await conn.read(buffer);
        last = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        if (last.startsWith("220")) return;
      } finally {
        conn.close();
      }
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Postfix did not greet on ${address}:${port} in ${ms} ms: ${last}`);
}

/** A TCP port that was free a moment ago on `address`. */
function freePortOn(address: string): number {
  const listener = Deno.listen({ hostname: address, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A system user's ids, from /etc/passwd. */
async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const fields = passwd.split("\n").map((l) => l.split(":")).find((f) => f[0] === name);
  if (fields === undefined) throw new Error(`No user "${name}" in /etc/passwd`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}
