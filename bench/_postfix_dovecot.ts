/**
 * A private Postfix delivering over LMTP into a private Dovecot, for comparison with Fumi.
 * Everything lives in one new temporary directory, removed by {@link MailStack.stop}:
 *
 * - Postfix (Debian package) with its own config, queue and data directories; one smtpd on a
 *   free port of 127.0.0.1 and no other inet service; the bench domain is a virtual mailbox
 *   domain whose recipients are listed, delivered by `virtual_transport = lmtp:unix:…`.
 *   Every other destination goes to the `error` transport and there is no smtp client in
 *   master.cf: nothing can leave the machine, not even a bounce. No chroot; `mail_owner` is
 *   postfix; logs go to `postfix.log` (postlogd), as there may be no syslog.
 * - Dovecot (`dovecot -F -c FILE`, a child of this process) with base_dir and state_dir in the
 *   directory, only the LMTP protocol on a unix socket, users in a passwd-file, maildirs
 *   owned by the `mail` user, `ssl = no`. With `encrypt`, the mail_crypt plugin seals every
 *   message with a global EC key (P-256), as Fumi always does.
 *
 * Both keep their defaults otherwise (queue fsync, `mail_fsync = optimized`), so a 250 from
 * Postfix means queued on disk and a file in `new/` means delivered.
 *
 * @module
 */

import { output, processTree, reap } from "./_procs.ts";
import { freePort, greets, waitFor } from "./_wait.ts";

/** What to set up. */
export interface MailStackOptions {
  readonly domain: string;
  /** Local parts of the users. */
  readonly users: readonly string[];
  /** Seal stored mail with Dovecot's mail_crypt plugin. */
  readonly encrypt: boolean;
  /** Concurrent sessions to expect, to lift Postfix's per-client connection limit above. */
  readonly sessions: number;
}

/** A running Postfix and Dovecot. */
export interface MailStack {
  readonly port: number;
  /** Versions and settings, for the report. */
  readonly description: string;
  /** The master processes (Postfix, Dovecot), for memory sampling. */
  readonly masters: () => number[];
  /** Messages in the users' `new/` folders. */
  delivered(): Promise<number>;
  /**
   * Each delivered file's Message-ID (null when sealed) and when Dovecot wrote it: epoch ms,
   * from the microseconds in its name.
   */
  deliveries(): Promise<{ messageId: string | null; at: number }[]>;
  /** The last lines of both logs. */
  logTail(): Promise<string>;
  /** Stops both and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The binaries this needs. */
const BINARIES = ["/usr/sbin/postfix", "/usr/sbin/postconf", "/usr/sbin/dovecot"];
const LMTP = "/usr/lib/dovecot/lmtp";
const INSTALL_HINT = "apt-get install postfix dovecot-core dovecot-lmtpd";
const START_TIMEOUT_MS = 20_000;

/**
 * Sets both up and starts them; throws, having cleaned up, if either cannot start. `onStop`
 * receives the stop function as soon as there is something to stop (for a Ctrl-C meanwhile).
 */
export async function startPostfixDovecot(
  options: MailStackOptions,
  onStop: (stop: () => Promise<void>) => void = () => {},
): Promise<MailStack> {
  for (const path of [...BINARIES, LMTP]) {
    if (!(await exists(path))) throw new Error(`${path} is missing; install it: ${INSTALL_HINT}`);
  }
  if (Deno.uid() !== 0) throw new Error("Postfix and Dovecot need root to start; run as root");
  const mail = await userIds("mail");
  const dir = await Deno.makeTempDir({ prefix: "fumi-bench-mta-" });
  // Postfix and Dovecot drop privileges: postfix and mail must reach into the directory.
  await Deno.chmod(dir, 0o755);
  let dovecot: Deno.ChildProcess | null = null;
  let postfixStarted = false;
  let postfixPid: number | null = null;
  // Every caller waits for the one stop: a Ctrl-C and the caller's finally may both ask.
  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= stopNow();
  const stopNow = async () => {
    const errors: string[] = [];
    if (postfixStarted) {
      const master = await postfixMaster(dir);
      const tree = master === null ? [] : await processTree(master);
      const out = await output("/usr/sbin/postfix", ["-c", `${dir}/postfix`, "stop"]);
      if (!out.ok && master !== null) errors.push(`postfix stop: ${out.text}`);
      const killed = await reap(tree, 10_000);
      if (killed.length) errors.push(`Postfix processes killed: ${killed.join(" ")}`);
    }
    if (dovecot !== null) {
      const tree = await processTree(dovecot.pid);
      if (tree.length > 0) dovecot.kill("SIGTERM"); // Alive a moment ago; not yet reaped.
      await dovecot.status;
      await dovecot.stderr.cancel().catch(() => {}); // Unless read for an error message.
      const killed = await reap(tree, 10_000);
      if (killed.length) errors.push(`Dovecot processes killed: ${killed.join(" ")}`);
    }
    await Deno.remove(dir, { recursive: true });
    if (errors.length) throw new Error(`Stopping Postfix and Dovecot: ${errors.join("; ")}`);
  };
  onStop(stop);
  const logTail = async () => {
    const tail = async (name: string) =>
      (await Deno.readTextFile(`${dir}/${name}`).catch(() => "")).split("\n").slice(-15)
        .map((l) => `    ${name}: ${l}`).join("\n");
    return `${await tail("postfix.log")}\n${await tail("dovecot.log")}`;
  };
  try {
    const port = freePort();
    const mailDir = `${dir}/mail/${options.domain}`;
    await writeDovecotConfig(dir, options, mail, LMTP_SERVICE);
    await Deno.mkdir(`${dir}/mail`);
    await Deno.chown(`${dir}/mail`, mail.uid, mail.gid);
    await Deno.chmod(`${dir}/mail`, 0o700);
    dovecot = new Deno.Command("/usr/sbin/dovecot", {
      args: ["-F", "-c", `${dir}/dovecot/dovecot.conf`],
      stdin: "null",
      stdout: "null",
      // Read only if it ends early: with log_path set, it writes nothing here once started.
      stderr: "piped",
    }).spawn();
    await waitFor("Dovecot's LMTP socket", START_TIMEOUT_MS, dovecot, async () => {
      const info = await Deno.stat(`${dir}/dovecot-run/lmtp`).catch(() => null);
      return info?.isSocket === true;
    });

    await writePostfixConfig(dir, options, port);
    // `postfix check` makes the queue's folders, with their owners, inside this one.
    await Deno.mkdir(`${dir}/postfix-queue`, { mode: 0o755 });
    const check = await output("/usr/sbin/postfix", ["-c", `${dir}/postfix`, "check"]);
    if (!check.ok) throw new Error(`postfix check failed: ${check.text}`);
    if (check.text.trim() !== "") throw new Error(`postfix check warns: ${check.text}`);
    postfixStarted = true;
    const start = await output("/usr/sbin/postfix", ["-c", `${dir}/postfix`, "start"]);
    if (!start.ok) throw new Error(`postfix start failed: ${start.text}`);
    await waitFor(`Postfix on 127.0.0.1:${port}`, START_TIMEOUT_MS, null, () => greets(port));
    postfixPid = await postfixMaster(dir);

    const postfixVersion = await output("/usr/sbin/postconf", [
      "-c",
      `${dir}/postfix`,
      "-h",
      "mail_version",
    ]);
    const dovecotVersion = await output("/usr/sbin/dovecot", ["--version"]);
    const users = options.users.map((u) => `${mailDir}/${u}/new`);
    const files = async () => (await Promise.all(users.map(list))).flat();
    return {
      port,
      description: `Postfix ${postfixVersion.text.trim()} on 127.0.0.1:${port} → LMTP → Dovecot ${
        dovecotVersion.text.trim().split(" ")[0]
      }, maildir${options.encrypt ? " sealed by mail_crypt (P-256)" : " unencrypted"}, in ${dir}`,
      masters: () => {
        const pids = dovecot === null ? [] : [dovecot.pid];
        return postfixPid === null ? pids : [...pids, postfixPid];
      },
      delivered: async () => (await files()).length,
      deliveries: async () => {
        const found = [];
        for (const path of await files()) {
          const messageId = messageIdOf(await Deno.readTextFile(path));
          found.push({ messageId, at: timeOfMaildirName(path) });
        }
        return found;
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

/** Dovecot's LMTP on a unix socket that Postfix's lmtp client may open. */
const LMTP_SERVICE = {
  protocols: "lmtp",
  services: [
    "service lmtp {",
    "  unix_listener lmtp {",
    "    mode = 0600",
    "    user = postfix",
    "  }",
    "}",
  ],
} as const;

/**
 * Writes `dir/dovecot/dovecot.conf` and its passwd-file (password "bench" for every user):
 * base and state directories in `dir`, maildirs under `dir/mail/DOMAIN/USER` owned by `mail`,
 * `ssl = no`, the given protocols and service blocks. Shared with the IMAP benchmark.
 */
export async function writeDovecotConfig(
  dir: string,
  options: Pick<MailStackOptions, "domain" | "users" | "encrypt">,
  mail: { uid: number; gid: number },
  protocol: { readonly protocols: string; readonly services: readonly string[] },
): Promise<void> {
  await Deno.mkdir(`${dir}/dovecot`);
  const home = `${dir}/mail/%d/%n`;
  // passwd-file(5) of Dovecot: user:password:uid:gid:gecos:home:shell:extra
  const users = options.users.map((u) =>
    `${u}@${options.domain}:{PLAIN}bench:${mail.uid}:${mail.gid}::${dir}/mail/${options.domain}/${u}::`
  );
  await Deno.writeTextFile(`${dir}/dovecot/users`, users.join("\n") + "\n");
  const crypt = options.encrypt
    ? [
      "mail_plugins = $mail_plugins mail_crypt",
      "plugin {",
      `  mail_crypt_global_private_key = <${dir}/dovecot/private.pem`,
      `  mail_crypt_global_public_key = <${dir}/dovecot/public.pem`,
      "  mail_crypt_save_version = 2",
      "}",
    ]
    : [];
  if (options.encrypt) await makeEcKey(`${dir}/dovecot`);
  await Deno.writeTextFile(
    `${dir}/dovecot/dovecot.conf`,
    [
      `base_dir = ${dir}/dovecot-run`,
      `state_dir = ${dir}/dovecot-state`,
      `instance_name = fumi-bench-${Deno.pid}`,
      `protocols = ${protocol.protocols}`,
      "listen = 127.0.0.1",
      "ssl = no",
      `log_path = ${dir}/dovecot.log`,
      `first_valid_uid = ${mail.uid}`,
      `last_valid_uid = ${mail.uid}`,
      `first_valid_gid = ${mail.gid}`,
      `mail_location = maildir:${home}`,
      "passdb {",
      "  driver = passwd-file",
      `  args = scheme=PLAIN username_format=%u ${dir}/dovecot/users`,
      "}",
      "userdb {",
      "  driver = passwd-file",
      `  args = username_format=%u ${dir}/dovecot/users`,
      "}",
      ...protocol.services,
      `postmaster_address = postmaster@${options.domain}`,
      ...crypt,
      "",
    ].join("\n"),
  );
}

/** A P-256 key pair for mail_crypt, made with openssl. */
async function makeEcKey(dir: string): Promise<void> {
  const key = await output("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    `${dir}/private.pem`,
  ]);
  if (!key.ok) throw new Error(`openssl genpkey failed: ${key.text}`);
  const pub = await output("openssl", [
    "pkey",
    "-in",
    `${dir}/private.pem`,
    "-pubout",
    "-out",
    `${dir}/public.pem`,
  ]);
  if (!pub.ok) throw new Error(`openssl pkey failed: ${pub.text}`);
}

async function writePostfixConfig(
  dir: string,
  options: MailStackOptions,
  port: number,
): Promise<void> {
  await Deno.mkdir(`${dir}/postfix`);
  const refuse = "error:5.7.1 the benchmark sends no mail off this machine";
  const recipients = options.users.map((u) => `${u}@${options.domain} ok`);
  await Deno.writeTextFile(`${dir}/postfix/vmailbox`, recipients.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/postfix/main.cf`,
    [
      "compatibility_level = 3.6",
      `queue_directory = ${dir}/postfix-queue`,
      `data_directory = ${dir}/postfix-data`,
      "mail_owner = postfix",
      "setgid_group = postdrop",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "myhostname = mx.postfix.bench.test",
      "mydomain = postfix.bench.test",
      "mydestination =",
      "mynetworks = 127.0.0.0/8",
      "relay_domains =",
      "alias_maps =",
      "alias_database =",
      "local_recipient_maps =",
      "biff = no",
      // Recipients are checked at RCPT, as Fumi checks them.
      `virtual_mailbox_domains = ${options.domain}`,
      `virtual_mailbox_maps = texthash:${dir}/postfix/vmailbox`,
      `virtual_transport = lmtp:unix:${dir}/dovecot-run/lmtp`,
      `local_transport = ${refuse}`,
      `relay_transport = ${refuse}`,
      `default_transport = ${refuse}`,
      `smtpd_client_connection_count_limit = ${Math.max(50, options.sessions + 10)}`,
      `default_process_limit = ${Math.max(100, options.sessions + 20)}`,
      `maillog_file = ${dir}/postfix.log`,
      `maillog_file_prefixes = ${dir}`,
      "",
    ].join("\n"),
  );
  // master(5): service type private unpriv chroot wakeup maxproc command
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
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
    "lmtp unix - - n - - lmtp",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ];
  await Deno.writeTextFile(`${dir}/postfix/master.cf`, services.join("\n") + "\n");
}

/** The Postfix master's id, from its pid file. */
async function postfixMaster(dir: string): Promise<number | null> {
  const text = await Deno.readTextFile(`${dir}/postfix-queue/pid/master.pid`).catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a file exists. */
export async function exists(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => null)) !== null;
}

/** A system user's ids, from /etc/passwd. */
export async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const fields = passwd.split("\n").map((l) => l.split(":")).find((f) => f[0] === name);
  if (fields === undefined) throw new Error(`No user "${name}" in /etc/passwd`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

async function list(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(`${dir}/${entry.name}`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

function messageIdOf(text: string): string | null {
  return /^Message-ID:\s*(<[^>]*>)/im.exec(text)?.[1] ?? null;
}

/** Dovecot names a new maildir file `SECONDS.MMICROSECONDSPPID.HOST,…` (maildir-filename.c). */
function timeOfMaildirName(path: string): number {
  const match = /\/(\d+)\.M(\d+)P\d+[^/]*$/.exec(path);
  if (match === null) throw new Error(`Unexpected maildir file name ${path}`);
  return Number(match[1]) * 1000 + Number(match[2]) / 1000;
}
