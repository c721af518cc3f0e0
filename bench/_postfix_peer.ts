/**
 * The receiving end of `deno task bench outbound`: a private Postfix (Debian's package) on a
 * loopback address, the mail host of one domain, delivering with its virtual(8) agent into a
 * Maildir per user. Everything lives in one new temporary directory, removed by
 * {@link PostfixPeer.stop}; the system's Postfix service is never touched (this instance has
 * its own config and queue directories). tests/postfix_peer.ts is the tests' sibling; this one
 * adds what a benchmark needs: process limits above the sender's connections, arrival times
 * read from file names without opening the files, and Postfix's own delay per message.
 *
 * - One smtpd on `address` and a free port, STARTTLS offered (`smtpd_tls_security_level =
 *   may`) with a self-signed P-256 certificate for `hostname` made by openssl, and each TLS
 *   session logged (`smtpd_tls_loglevel = 1`), so the bench can count them.
 * - Recipients are checked at RCPT against the listed users; a 250 means queued on disk
 *   (Postfix's defaults), and a file in a user's `new/` means delivered.
 * - Nothing leaves the machine: there is no smtp client in master.cf, every other destination
 *   goes to the `error` transport (so even a bounce stays here), no client names are looked up.
 *
 * Postfix needs root to start (it drops to the postfix and mail users).
 *
 * @module
 */

import { exists, userIds } from "./_postfix_dovecot.ts";
import { output, processTree, reap } from "./_procs.ts";
import { waitFor } from "./_wait.ts";

/** What to set up. */
export interface PostfixPeerOptions {
  /** A loopback address to listen on (127.0.0.0/8). */
  readonly address: string;
  readonly domain: string;
  /** Local parts that have a mailbox. */
  readonly users: readonly string[];
  /** The name it greets with and its certificate names. */
  readonly hostname: string;
  /** Connections to expect at once from the one sender, to lift the limits above. */
  readonly connections: number;
}

/** A delivered message: its Message-ID and when virtual(8) began writing it, epoch ms. */
export interface Arrival {
  readonly messageId: string | null;
  readonly at: number;
}

/** A running Postfix. */
export interface PostfixPeer {
  readonly address: string;
  readonly port: number;
  /** Version and settings, for the report. */
  readonly description: string;
  /** The master process, for memory sampling. */
  readonly master: number | null;
  /** Files in the users' `new/` folders now. */
  delivered(): Promise<number>;
  /** Every delivered message (reads each file's header). */
  arrivals(): Promise<Arrival[]>;
  /** What the log says: TLS sessions set up, and each delivery's delay= (seconds) by virtual. */
  logFigures(): Promise<{ tlsSessions: number; delaysMs: Float64Array }>;
  /** The last lines of the log. */
  logTail(): Promise<string>;
  /** Stops it and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

const POSTFIX = "/usr/sbin/postfix";
const START_TIMEOUT_MS = 20_000;

/**
 * Sets Postfix up and starts it; throws, having cleaned up, if it cannot. `onStop` receives the
 * stop function as soon as there is something to stop (for a Ctrl-C meanwhile).
 */
export async function startPostfixPeer(
  options: PostfixPeerOptions,
  onStop: (stop: () => Promise<void>) => void = () => {},
): Promise<PostfixPeer> {
  for (const path of [POSTFIX, "/usr/sbin/postconf"]) {
    if (!(await exists(path))) throw new Error(`${path} is missing; apt-get install postfix`);
  }
  if (Deno.uid() !== 0) throw new Error("Postfix needs root to start");
  const mail = await userIds("mail");
  const dir = await Deno.makeTempDir({ prefix: "fumi-bench-peer-" });
  // Postfix's processes run as postfix and mail: they must reach into the directory.
  await Deno.chmod(dir, 0o755);
  const config = `${dir}/postfix`;
  const logPath = `${dir}/postfix.log`;
  let started = false;
  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= stopNow();
  const stopNow = async () => {
    if (started) {
      const master = await masterPid(dir);
      const tree = master === null ? [] : await processTree(master);
      const out = await output(POSTFIX, ["-c", config, "stop"]);
      const killed = await reap(tree, 10_000);
      if (!out.ok && master !== null) console.error(`postfix stop: ${out.text}`);
      if (killed.length) console.error(`Postfix processes killed: ${killed.join(" ")}`);
    }
    await Deno.remove(dir, { recursive: true });
  };
  onStop(stop);
  const logTail = async () =>
    (await Deno.readTextFile(logPath).catch(() => "")).split("\n").slice(-15)
      .map((l) => `    postfix: ${l}`).join("\n");
  try {
    const port = freePortOn(options.address);
    await Deno.mkdir(config);
    await Deno.mkdir(`${dir}/mail`);
    await Deno.chown(`${dir}/mail`, mail.uid, mail.gid);
    await Deno.mkdir(`${dir}/postfix-queue`, { mode: 0o755 });
    await makeCertificate(config, options.hostname);
    const mailboxes = options.users.map((u) => `${u}@${options.domain} ${options.domain}/${u}/` // The slash: a Maildir.
    );
    await Deno.writeTextFile(`${config}/vmailbox`, mailboxes.join("\n") + "\n");
    await writeConfig(dir, options, port, mail.uid, mail.gid);
    const check = await output(POSTFIX, ["-c", config, "check"]);
    if (!check.ok) throw new Error(`postfix check failed: ${check.text}`);
    started = true;
    const start = await output(POSTFIX, ["-c", config, "start"]);
    if (!start.ok) throw new Error(`postfix start failed: ${start.text}`);
    await waitFor(
      `Postfix on ${options.address}:${port}`,
      START_TIMEOUT_MS,
      null,
      () => greets(options.address, port),
    );
    const version = await output("/usr/sbin/postconf", ["-c", config, "-h", "mail_version"]);
    const folders = options.users.map((u) => `${dir}/mail/${options.domain}/${u}/new`);
    const files = async () =>
      (await Promise.all(folders.map(async (f) => (await list(f)).map((n) => `${f}/${n}`))))
        .flat();
    return {
      address: options.address,
      port,
      description:
        `Postfix ${version.text.trim()} on ${options.address}:${port}, STARTTLS offered (P-256 self-signed), virtual(8) into Maildirs, in ${dir}`,
      master: await masterPid(dir),
      delivered: async () => (await files()).length,
      arrivals: async () => {
        const found: Arrival[] = [];
        for (const path of await files()) {
          found.push({
            messageId: messageIdOf(await Deno.readTextFile(path)),
            at: timeOfMaildirName(path),
          });
        }
        return found;
      },
      logFigures: async () => {
        const log = await Deno.readTextFile(logPath).catch(() => "");
        const tlsSessions = log.match(/postfix\/smtpd\[\d+\]: \S+ TLS connection established/g)
          ?.length ?? 0;
        const delays = [...log.matchAll(/ relay=virtual, delay=([\d.]+),.* status=sent/g)]
          .map((m) => Number(m[1]) * 1000);
        return { tlsSessions, delaysMs: Float64Array.from(delays).sort() };
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

async function writeConfig(
  dir: string,
  options: PostfixPeerOptions,
  port: number,
  uid: number,
  gid: number,
): Promise<void> {
  const config = `${dir}/postfix`;
  const refuse = "error:5.7.1 the benchmark peer sends no mail off this machine";
  await Deno.writeTextFile(
    `${config}/main.cf`,
    [
      "compatibility_level = 3.6",
      `queue_directory = ${dir}/postfix-queue`,
      `data_directory = ${dir}/postfix-data`,
      "mail_owner = postfix",
      "setgid_group = postdrop",
      // Postfix wants an interface address here; the listener names its own in master.cf.
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
      `virtual_minimum_uid = ${uid}`,
      `virtual_uid_maps = static:${uid}`,
      `virtual_gid_maps = static:${gid}`,
      `local_transport = ${refuse}`,
      `relay_transport = ${refuse}`,
      `default_transport = ${refuse}`,
      "smtpd_tls_security_level = may",
      `smtpd_tls_cert_file = ${config}/cert.pem`,
      `smtpd_tls_key_file = ${config}/key.pem`,
      "smtpd_tls_loglevel = 1",
      "smtpd_tls_session_cache_database =",
      // Every connection comes from the one sender, on one address.
      `smtpd_client_connection_count_limit = ${Math.max(50, options.connections + 10)}`,
      `default_process_limit = ${Math.max(100, options.connections + 20)}`,
      `maillog_file = ${dir}/postfix.log`,
      `maillog_file_prefixes = ${dir}`,
      "",
    ].join("\n"),
  );
  // master(5): service type private unpriv chroot wakeup maxproc command
  const services = [
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
  ];
  await Deno.writeTextFile(`${config}/master.cf`, services.join("\n") + "\n");
}

/** A self-signed P-256 certificate for `hostname`: `dir/cert.pem` and `dir/key.pem`. */
export async function makeCertificate(dir: string, hostname: string): Promise<void> {
  const made = await output("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${hostname}`,
    "-addext",
    `subjectAltName=DNS:${hostname}`,
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/cert.pem`,
  ]);
  if (!made.ok) throw new Error(`openssl req failed: ${made.text}`);
  await Deno.chmod(`${dir}/key.pem`, 0o600);
}

/** The Postfix master's id, from its pid file. */
export async function masterPid(dir: string): Promise<number | null> {
  const text = await Deno.readTextFile(`${dir}/postfix-queue/pid/master.pid`).catch(() => "");
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Whether an SMTP server greets with 220 on `address`:`port`. */
async function greets(address: string, port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: address, port });
  } catch {
    return false;
  }
  try {
    const buffer = new Uint8Array(512);
    const n = await conn.read(buffer);
    return n !== null && new TextDecoder().decode(buffer.subarray(0, n)).startsWith("220");
  } finally {
    conn.close();
  }
}

/** A TCP port that was free a moment ago on `address`. */
function freePortOn(address: string): number {
  const listener = Deno.listen({ hostname: address, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function list(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

function messageIdOf(text: string): string | null {
  return /^Message-ID:\s*(<[^>]*>)/im.exec(text)?.[1] ?? null;
}

/**
 * virtual(8) names a new Maildir file `SECONDS.VdevIinodeMmicroseconds.HOST` (maildir.c), the
 * time being when it began the delivery.
 */
function timeOfMaildirName(path: string): number {
  const match = /\/(\d+)\.V[0-9a-f]+I[0-9a-f]+M(\d+)\.[^/]*$/.exec(path);
  if (match === null) throw new Error(`Unexpected Maildir file name ${path}`);
  return Number(match[1]) * 1000 + Number(match[2]) / 1000;
}
