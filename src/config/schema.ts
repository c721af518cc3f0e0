/**
 * The configuration schema: one zod schema from which both the input type (what a config file
 * may say) and the resolved type (what the server is given) come. Unknown keys are errors, so
 * a misspelt option is reported instead of silently ignored.
 *
 * Secrets (the master key, the first administrator's password) are deliberately not
 * configuration: they come from the environment or a systemd credential and never pass through
 * this object, so printing a config can never leak one.
 *
 * @module
 */

import { isIP } from "node:net";
import { z } from "zod";
import { parseDuration } from "../util/duration.ts";
import { parseSize } from "../util/size.ts";

/** A size written as bytes or with a unit (`25M`). */
const size = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  const bytes = parseSize(value);
  if (bytes === null) {
    ctx.addIssue({ code: "custom", message: `expected a size like 25M, got "${value}"` });
    return z.NEVER;
  }
  return bytes;
});

/** A duration written with units (`30m`, `12h`, `7d`), as milliseconds. */
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like 30m, 12h or 7d, got "${value}"`,
    });
    return z.NEVER;
  }
  return ms;
});

const port = z.number().int().min(1).max(65535);

/** A name server: an IP address, optionally with a port (`192.0.2.53`, `[2001:db8::53]:5353`). */
const nameServer = z.string().transform((value, ctx) => {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value);
  const address = match ? match[1]! : value;
  const portNumber = match ? Number(match[2]) : 53;
  if (isIP(address) === 0 || portNumber < 1 || portNumber > 65535) {
    ctx.addIssue({
      code: "custom",
      message: `expected an IP address with an optional port, got "${value}"`,
    });
    return z.NEVER;
  }
  return { address, port: portNumber };
});

/** Text shown in replies and header fields: printable, no line breaks. */
const label = z.string().regex(
  /^[\x20-\x7e]{1,80}$/,
  "expected up to 80 printable ASCII characters",
);

/** A DNS zone name (a DQS key as its first label allowed). */
const zone = z.string().regex(
  /^(?=.{1,200}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
  "expected a DNS zone such as zen.spamhaus.org",
);

const listAction = z.enum(["reject", "tag", "score", "accept"]);

/** One DNS list (`[[reputation.dnsbl]]`, `[[reputation.uribl]]`); codes default to the known list's. */
const dnsList = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/i, "expected a short name like spamhaus-zen"),
  zone,
  weight: z.number().min(-100).max(100).optional(),
  action: listAction.optional(),
  // Documented return codes: "127.0.0.2" or a range "127.0.0.4-127.0.0.7".
  codes: z.array(z.strictObject({
    code: z.string().regex(
      /^127(\.\d{1,3}){3}(-127(\.\d{1,3}){3})?$/,
      "expected 127.x.x.x[-127.x.x.x]",
    ),
    meaning: label,
    weight: z.number().min(-100).max(100).optional(),
    action: listAction.optional(),
    refused: z.boolean().optional(),
  })).optional(),
  // Domain lists: ask for the registrable domain (true) or the host name as found.
  registrable: z.boolean().optional(),
});

/** `[reputation]`: lists absent take the defaults of the mode (none in `--dev`). */
function reputationSchema() {
  const weight = z.number().min(0).max(100);
  return z.strictObject({
    // Default: on in production, off in --dev (which must stay offline).
    enabled: z.boolean().optional(),
    dnsbl: z.array(dnsList).optional(),
    uribl: z.array(dnsList).optional(),
    max_uri_domains: z.number().int().min(0).max(200).default(20),
    lookup_timeout: duration.default(2_000),
    junk_score: z.number().default(5),
    reject_score: z.number().default(10),
    weights: z.strictObject({
      fcrdns_missing: weight.default(1),
      fcrdns_mismatch: weight.default(1.5),
      helo_literal_mismatch: weight.default(2),
      helo_no_dot: weight.default(1),
      helo_ours: weight.default(3),
      helo_unresolvable: weight.default(1.5),
    }).prefault({}),
    // Greylisting (RFC 6647), off by default.
    greylisting: z.strictObject({
      enabled: z.boolean().default(false),
      delay: duration.default(5 * 60_000),
      window: duration.default(24 * 3_600_000),
      allow_period: duration.default(35 * 86_400_000),
      // Clients whose forward-confirmed PTR name lies under one of these are not greylisted.
      exempt_domains: z.array(zone).default([
        "google.com",
        "outlook.com",
        "yahoo.com",
        "icloud.com",
        "amazonses.com",
        "protonmail.ch",
      ]),
    }).prefault({}),
  }).refine((r) => r.junk_score < r.reject_score, {
    // Otherwise no message would ever reach Junk: it would be refused first.
    message: "junk_score must be below reject_score",
    path: ["junk_score"],
  }).prefault({});
}

/** One listener: where it binds. Protocol behaviour comes from its name. */
const listener = z.strictObject({
  enabled: z.boolean().optional(),
  addresses: z.array(z.string().min(1)).min(1).optional(),
  port: port.optional(),
});

/** The names of Fumi's listeners, in the order administrators know them. */
export const LISTENER_NAMES = [
  "smtp",
  "submission",
  "submissions",
  "imap",
  "imaps",
  "https",
  "http",
  // Prometheus metrics, /healthz and /readyz (src/ops/metrics_server.ts); loopback by default.
  "metrics",
] as const;
export type ListenerName = typeof LISTENER_NAMES[number];

/** The config file's schema. */
export const configSchema = z.strictObject({
  hostname: z.string().min(1).optional(),
  data_dir: z.string().min(1).optional(),
  database: z.strictObject({
    url: z.string().min(1).optional(),
    pool_size: z.number().int().min(1).max(200).default(10),
  }).prefault({}),
  limits: z.strictObject({
    max_message_size: size.default(25 * 1024 * 1024),
    max_recipients: z.number().int().min(1).max(10000).default(100),
    max_header_size: size.default(1024 * 1024),
    // Attachments of submitted mail (0: no limit beyond the message size).
    max_attachment_size: size.default(0),
    max_attachments: z.number().int().min(0).default(100),
  }).prefault({}),
  accounts: z.strictObject({
    default_quota: size.default(0),
    password_min_length: z.number().int().min(8).max(1024).default(12),
    reject_common_passwords: z.boolean().default(true),
  }).prefault({}),
  // Flow control per listener (shared/DESIGN.md defaults). CIDRs are checked when the server
  // builds its firewall.
  firewall: z.strictObject({
    max_connections_per_ip: z.number().int().min(1).default(20),
    max_connections: z.number().int().min(1).default(5000),
    connection_burst: z.number().int().min(1).default(30),
    connection_rate: z.number().positive().default(1),
    allow: z.array(z.string().min(1)).default([]),
    deny: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  // Brute-force defence: failures before slowing down and before a ban, per hour by default.
  auth: z.strictObject({
    backoff_after: z.number().int().min(1).default(5),
    ban_after: z.number().int().min(1).default(20),
    failure_window: duration.default(3_600_000),
    ban_duration: z.union([z.literal("permanent").transform(() => null), duration])
      .default(3_600_000),
    trust_after_success: duration.default(7 * 86_400_000),
    dry_run: z.boolean().default(false),
  }).prefault({}),
  // SMTP sessions (shared/DESIGN.md defaults; RFC 5321 §4.5.3.2 for the timeouts).
  smtp: z.strictObject({
    max_recipients_per_session: z.number().int().min(1).default(1000),
    max_messages_per_session: z.number().int().min(1).default(1000),
    max_errors: z.number().int().min(1).default(20),
    idle_timeout: duration.default(5 * 60_000),
    data_timeout: duration.default(3 * 60_000),
    // A pause before the greeting; clients that talk during it are refused. "0" for none.
    greet_pause: z.union([z.literal("0").transform(() => 0), duration]).default(0),
    // Name the authenticated user in Received fields of submitted mail.
    received_auth_user: z.boolean().default(false),
    // Sending limits of each account on submission (0: none); `fumi user limits` sets an
    // account's own.
    max_messages_per_hour: z.number().int().min(0).default(200),
    max_recipients_per_day: z.number().int().min(0).default(2000),
    // Outbound spam control: an account that sends at least burst_hold_after messages in an
    // hour, and burst_factor times its usual hourly number, is put on outbound hold (0: never).
    burst_hold_after: z.number().int().min(0).default(100),
    burst_factor: z.number().positive().default(10),
    // An account whose mail had this many recipients refused for good by remote servers
    // within an hour is put on outbound hold (0: never).
    refused_hold_after: z.number().int().min(0).default(50),
  }).prefault({}),
  // IMAP sessions. Signed-in connections per account and client address (Dovecot's
  // mail_max_userip_connections); a client opens a few per account.
  imap: z.strictObject({
    max_connections_per_user_ip: z.number().int().min(1).default(20),
  }).prefault({}),
  // Name resolution for outbound delivery and mail authentication. With no name servers given,
  // those of /etc/resolv.conf are used; each is an IP address, with ":port" ("[v6]:port").
  // Outbound delivery: the retry schedule for temporary failures (RFC 5321 §4.5.4.1: retry
  // after at least 30 minutes, give up after 4-5 days; a first retry sooner helps greylisting)
  // and how many connections the workers open.
  queue: z.strictObject({
    retry_first: duration.default(5 * 60_000),
    retry_max: duration.default(4 * 3_600_000),
    give_up_after: duration.default(5 * 86_400_000),
    // Warn the sender once when a recipient has waited this long ("0": never; RFC 3464).
    delay_warning_after: z.union([z.literal("0").transform(() => 0), duration]).default(
      4 * 3_600_000,
    ),
    connections: z.number().int().min(1).default(20),
    connections_per_domain: z.number().int().min(1).default(5),
    // Relay everything through this host ("host:port"; TLS required, certificate verified;
    // implicit TLS on 465) instead of delivering to MX hosts, signing in as smarthost_user with
    // the password in FUMI_SMARTHOST_PASSWORD.
    smarthost: z.string().regex(/^\[?[^\s\[\]]+\]?:\d{1,5}$/, "expected host:port").optional(),
    smarthost_user: z.string().min(1).optional(),
    // TLS from the first byte (true by default for port 465), else STARTTLS.
    smarthost_implicit_tls: z.boolean().optional(),
    // The port of remote mail hosts: 25 (RFC 5321 §4.5.4.2); another only for tests.
    remote_port: z.number().int().min(1).max(65535).default(25),
    // MTA-STS (RFC 8461): honour the policies recipient domains publish.
    mta_sts: z.boolean().default(true),
    // DANE (RFC 7672): authenticate MX hosts by their TLSA records in signed zones. Needs a
    // validating resolver in [dns] on loopback or a trusted link (its AD bit is believed).
    dane: z.boolean().default(true),
  }).prefault({}),
  dns: z.strictObject({
    nameservers: z.array(nameServer).min(1).optional(),
    timeout: duration.default(5_000),
    attempts: z.number().int().min(1).max(5).default(2),
  }).prefault({}),
  // The MTA-STS policy published for hosted domains (RFC 8461 §3), served over HTTPS at
  // mta-sts.<domain>: enforce asks senders for verified TLS to our MX; one day's max_age lets a
  // change of mode reach them soon.
  mta_sts: z.strictObject({
    mode: z.enum(["enforce", "testing", "none"]).default("enforce"),
    max_age: duration.default(86_400_000),
  }).prefault({}),
  // Who may read the metrics listener: client networks (loopback only by default), and a file
  // holding the bearer token /metrics then requires (FUMI_METRICS_TOKEN takes precedence).
  metrics: z.strictObject({
    allow: z.array(z.string().min(1)).default(["127.0.0.0/8", "::1/128"]),
    token_file: z.string().min(1).optional(),
  }).prefault({}),
  // Inbound reputation on the MX (src/reputation): DNS lists, FCrDNS, HELO, one score.
  reputation: reputationSchema(),
  // Inbound mail authentication on the MX (src/mailauth): SPF, DKIM, DMARC, ARC.
  mailauth: z.strictObject({
    // Default: on in production, off in --dev (which must stay offline).
    enabled: z.boolean().optional(),
    // The whole evaluation of one message; past it, lookups are temperror and mail delivers.
    timeout: duration.default(10_000),
    // ARC sealers (mailing list hosts) whose passing chain overrides a DMARC failure.
    trusted_arc_sealers: z.array(
      z.string().regex(
        /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
        "expected a domain such as lists.example.org",
      ),
    ).default([]),
  }).prefault({}),
  // DMARC aggregate reports (src/dmarc): sent to domains that ask for them (rua=).
  dmarc: z.strictObject({
    // Default: on in production, off in --dev (which must stay offline).
    send_reports: z.boolean().optional(),
    // The From address of our reports; default dmarc-reports@<hostname>.
    report_address: z.string().regex(
      /^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$/,
      "expected an address such as dmarc-reports@mail.example.org",
    ).optional(),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    format: z.enum(["json", "text"]).default("json"),
  }).prefault({}),
  listeners: z.strictObject(
    Object.fromEntries(LISTENER_NAMES.map((name) => [name, listener.optional()])) as Record<
      ListenerName,
      z.ZodOptional<typeof listener>
    >,
  ).prefault({}),
});

/** What a config file may contain. */
export type ConfigInput = z.input<typeof configSchema>;
/** The parsed file, before environment and mode defaults are applied. */
export type ConfigFile = z.output<typeof configSchema>;
