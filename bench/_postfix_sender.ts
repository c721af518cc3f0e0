/**
 * The other sender of `deno task bench outbound --compare`: a private Postfix that takes
 * submissions and relays them to the peer (bench/_postfix_peer.ts), for a side-by-side with
 * Fumi. Everything lives in one new temporary directory, removed by {@link PostfixSender.stop}.
 *
 * - Submissions on a free port of 127.0.0.1 over implicit TLS (`smtpd_tls_wrappermode`, a
 *   self-signed certificate), as Fumi's submissions port; without AUTH (Postfix would need
 *   Dovecot or Cyrus for SASL): clients of 127.0.0.0/8 may relay to the peer's domain.
 * - The peer's domain goes to `smtp:[address]:port` by `transport_maps`: Postfix's resolver
 *   cannot ask Knot on another port than 53, so it looks up no MX (Fumi does). Opportunistic
 *   TLS to the peer (`smtp_tls_security_level = may`), connections per destination as Fumi's
 *   `connections_per_domain`, Postfix's connection cache as it comes (it reuses a connection
 *   for the next message to the same place when its queue has one waiting).
 * - Every other destination goes to the `error` transport: nothing leaves the machine.
 *
 * @module
 */

import { makeCertificate, masterPid } from "./_postfix_peer.ts";
import { exists } from "./_postfix_dovecot.ts";
import { output, processTree, reap } from "./_procs.ts";
import { freePort, waitFor } from "./_wait.ts";

/** What to set up. */
export interface PostfixSenderOptions {
  /** The domain to relay, and where its mail host listens. */
  readonly domain: string;
  readonly peer: { readonly address: string; readonly port: number };
  /** Submission sessions to expect. */
  readonly sessions: number;
  /** Connections to the peer at once. */
  readonly connections: number;
}

/** A running Postfix sender. */
export interface PostfixSender {
  /** The submissions port on 127.0.0.1 (implicit TLS). */
  readonly port: number;
  readonly description: string;
  /** TLS sessions its smtp client set up, from its log. */
  tlsSessions(): Promise<number>;
  logTail(): Promise<string>;
  /** Stops it and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

const POSTFIX = "/usr/sbin/postfix";
const START_TIMEOUT_MS = 20_000;

/** Starts it; throws, having cleaned up, if it cannot. `onStop` as in the peer's. */
export async function startPostfixSender(
  options: PostfixSenderOptions,
  onStop: (stop: () => Promise<void>) => void = () => {},
): Promise<PostfixSender> {
  if (!(await exists(POSTFIX))) throw new Error(`${POSTFIX} is missing; apt-get install postfix`);
  const dir = await Deno.makeTempDir({ prefix: "fumi-bench-sender-" });
  await Deno.chmod(dir, 0o755);
  const config = `${dir}/postfix`;
  const logPath = `${dir}/postfix.log`;
  let started = false;
  let stopping: Promise<void> | null = null;
  const stop = () =>
    stopping ??= (async () => {
      if (started) {
        const master = await masterPid(dir);
        const tree = master === null ? [] : await processTree(master);
        const out = await output(POSTFIX, ["-c", config, "stop"]);
        const killed = await reap(tree, 10_000);
        if (!out.ok && master !== null) console.error(`postfix stop: ${out.text}`);
        if (killed.length) console.error(`Postfix processes killed: ${killed.join(" ")}`);
      }
      await Deno.remove(dir, { recursive: true });
    })();
  onStop(stop);
  const logTail = async () =>
    (await Deno.readTextFile(logPath).catch(() => "")).split("\n").slice(-15)
      .map((l) => `    postfix sender: ${l}`).join("\n");
  try {
    const port = freePort();
    await Deno.mkdir(config);
    await Deno.mkdir(`${dir}/postfix-queue`, { mode: 0o755 });
    await makeCertificate(config, "mx.sender.test");
    const { domain, peer } = options;
    await Deno.writeTextFile(
      `${config}/transport`,
      `${domain} smtp:[${peer.address}]:${peer.port}\n`,
    );
    const refuse = "error:5.7.1 the benchmark sends no mail off this machine";
    await Deno.writeTextFile(
      `${config}/main.cf`,
      [
        "compatibility_level = 3.6",
        `queue_directory = ${dir}/postfix-queue`,
        `data_directory = ${dir}/postfix-data`,
        "mail_owner = postfix",
        "setgid_group = postdrop",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        "myhostname = mx.sender.test",
        "mydomain = sender.test",
        "mydestination =",
        "mynetworks = 127.0.0.0/8",
        `relay_domains = ${domain}`,
        "alias_maps =",
        "alias_database =",
        "local_recipient_maps =",
        "append_dot_mydomain = no",
        "biff = no",
        "smtpd_peername_lookup = no",
        `transport_maps = texthash:${config}/transport`,
        `local_transport = ${refuse}`,
        `default_transport = ${refuse}`,
        `smtpd_tls_cert_file = ${config}/cert.pem`,
        `smtpd_tls_key_file = ${config}/key.pem`,
        "smtpd_tls_session_cache_database =",
        "smtp_tls_security_level = may",
        "smtp_tls_loglevel = 1",
        "smtp_tls_session_cache_database =",
        `default_destination_concurrency_limit = ${options.connections}`,
        `smtpd_client_connection_count_limit = ${Math.max(50, options.sessions + 10)}`,
        `default_process_limit = ${Math.max(100, options.sessions + options.connections + 20)}`,
        `maillog_file = ${logPath}`,
        `maillog_file_prefixes = ${dir}`,
        "",
      ].join("\n"),
    );
    // master(5): service type private unpriv chroot wakeup maxproc command
    const services = [
      `127.0.0.1:${port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt`,
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
      "smtp unix - - n - - smtp",
      "error unix - - n - - error",
      "retry unix - - n - - error",
      "discard unix - - n - - discard",
      "anvil unix - - n - 1 anvil",
      "scache unix - - n - 1 scache",
      "postlog unix-dgram n - n - 1 postlogd",
    ];
    await Deno.writeTextFile(`${config}/master.cf`, services.join("\n") + "\n");
    const check = await output(POSTFIX, ["-c", config, "check"]);
    if (!check.ok) throw new Error(`postfix check failed: ${check.text}`);
    started = true;
    const start = await output(POSTFIX, ["-c", config, "start"]);
    if (!start.ok) throw new Error(`postfix start failed: ${start.text}`);
    // Implicit TLS: a TCP connection that is accepted is enough to know it listens.
    await waitFor(`Postfix on 127.0.0.1:${port}`, START_TIMEOUT_MS, null, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
      conn?.close();
      return conn !== null;
    });
    const version = await output("/usr/sbin/postconf", ["-c", config, "-h", "mail_version"]);
    return {
      port,
      description:
        `Postfix ${version.text.trim()} on 127.0.0.1:${port} (implicit TLS, no AUTH), relaying ${domain} to [${peer.address}]:${peer.port} (no MX lookup), in ${dir}`,
      tlsSessions: async () => {
        const log = await Deno.readTextFile(logPath).catch(() => "");
        return log.match(/postfix\/smtp\[\d+\]: \S+ TLS connection established/g)?.length ?? 0;
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
