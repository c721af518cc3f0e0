/**
 * Loading the configuration: the TOML file (if any), then the `FUMI_*` environment overrides,
 * then the defaults that depend on the mode (`--dev` or production), validated once into a
 * frozen {@link Config}. Every error is a {@link ConfigError} naming the file or variable, the
 * key path and why.
 *
 * @module
 */

import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { ConfigError } from "../util/errors.ts";
import { type ConfigFile, configSchema, LISTENER_NAMES, type ListenerName } from "./schema.ts";

/** A listener after defaults are applied. */
export interface ListenerConfig {
  readonly name: ListenerName;
  readonly enabled: boolean;
  readonly addresses: readonly string[];
  readonly port: number;
}

/** Name resolution: the servers to ask, the wait per try in milliseconds, and the tries. */
export interface DnsConfig {
  /** IP addresses and ports; null for those of /etc/resolv.conf. */
  readonly nameservers: readonly { readonly address: string; readonly port: number }[] | null;
  readonly timeout: number;
  readonly attempts: number;
}

/** The resolved configuration handed to the server. */
export interface Config {
  readonly dev: boolean;
  readonly configFile: string | null;
  readonly hostname: string;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  /** A PostgreSQL URL, or null for the embedded database. */
  readonly databaseUrl: string | null;
  readonly database: ConfigFile["database"];
  readonly limits: ConfigFile["limits"];
  readonly accounts: ConfigFile["accounts"];
  readonly log: ConfigFile["log"];
  readonly firewall: ConfigFile["firewall"];
  readonly auth: ConfigFile["auth"];
  readonly smtp: ConfigFile["smtp"];
  readonly imap: ConfigFile["imap"];
  readonly queue: ConfigFile["queue"];
  /** Inbound reputation (`[reputation]`); `enabled` and absent lists resolved by the server. */
  readonly reputation: ConfigFile["reputation"];
  /** Who may read the metrics listener (`[metrics]`). */
  readonly metrics: ConfigFile["metrics"];
  /** Inbound mail authentication (`[mailauth]`); `enabled` absent: on unless `--dev`. */
  readonly mailauth: ConfigFile["mailauth"];
  readonly dns: DnsConfig;
  /** The MTA-STS policy we publish for hosted domains (`[mta_sts]`). */
  readonly mta_sts: ConfigFile["mta_sts"];
  /** DMARC aggregate reports (`[dmarc]`), resolved: off in --dev unless asked for. */
  readonly dmarc: { readonly send_reports: boolean; readonly report_address: string };
  readonly listeners: Readonly<Record<ListenerName, ListenerConfig>>;
}

/** What loading needs from the world; tests pass their own. */
export interface ConfigSources {
  /** `--config FILE`, if given. */
  readonly file?: string | undefined;
  readonly dev: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => Promise<string>;
  readonly cwd: string;
  readonly systemHostname: () => string;
  /**
   * False for commands that do not serve (`fumi user add` …): they never use the host name, so
   * a machine without a fully qualified one must not stop them.
   */
  readonly requireHostname?: boolean;
}

/** Ports of the `--dev` mode and of production (shared/DESIGN.md, "Defaults that matter"). */
export const DEV_PORTS: Readonly<Record<ListenerName, number>> = {
  smtp: 2525,
  submission: 2587,
  submissions: 2465,
  imap: 2143,
  imaps: 2993,
  https: 8443,
  http: 8080,
  metrics: 9425,
};
export const PRODUCTION_PORTS: Readonly<Record<ListenerName, number>> = {
  smtp: 25,
  submission: 587,
  submissions: 465,
  imap: 143,
  imaps: 993,
  https: 443,
  http: 80,
  metrics: 9425,
};

/** Loads and validates the configuration. */
export async function loadConfig(sources: ConfigSources): Promise<Config> {
  const { env, dev } = sources;
  const file = sources.file ?? nonEmpty(env.FUMI_CONFIG) ?? null;
  const raw = file === null ? {} : await readConfigFile(file, sources.readTextFile);
  const parsed = validate(raw, file ?? "configuration");

  const hostname = resolveHostname(
    nonEmpty(env.FUMI_HOSTNAME) ?? parsed.hostname ??
      (dev ? "localhost" : sources.systemHostname()),
    dev || sources.requireHostname === false,
  );
  const dataDir = absolute(nonEmpty(env.FUMI_DATA_DIR) ?? parsed.data_dir ?? "./data", sources.cwd);
  const databaseUrl = nonEmpty(env.FUMI_DATABASE_URL) ?? parsed.database.url ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      "FUMI_DATABASE_URL / database.url: expected a postgres:// or postgresql:// URL",
    );
  }
  const log = { ...parsed.log };
  const level = nonEmpty(env.FUMI_LOG_LEVEL);
  if (level !== undefined) {
    if (!["debug", "info", "warn", "error"].includes(level)) {
      throw new ConfigError(`FUMI_LOG_LEVEL: expected debug, info, warn or error, got "${level}"`);
    }
    log.level = level as Config["log"]["level"];
  }

  const ports = dev ? DEV_PORTS : PRODUCTION_PORTS;
  const listeners = {} as Record<ListenerName, ListenerConfig>;
  for (const name of LISTENER_NAMES) {
    const given = parsed.listeners[name];
    listeners[name] = {
      name,
      enabled: given?.enabled ?? true,
      // Metrics stay on loopback unless an address is given (src/ops/metrics_server.ts).
      addresses: given?.addresses ??
        (dev || name === "metrics" ? ["127.0.0.1"] : ["0.0.0.0", "::"]),
      port: given?.port ?? ports[name],
    };
  }

  return deepFreeze({
    dev,
    configFile: file,
    hostname,
    dataDir,
    databaseUrl,
    database: parsed.database,
    limits: parsed.limits,
    accounts: parsed.accounts,
    log,
    firewall: parsed.firewall,
    auth: parsed.auth,
    smtp: parsed.smtp,
    imap: parsed.imap,
    queue: parsed.queue,
    reputation: parsed.reputation,
    metrics: parsed.metrics,
    mailauth: parsed.mailauth,
    dns: { ...parsed.dns, nameservers: parsed.dns.nameservers ?? null },
    mta_sts: parsed.mta_sts,
    dmarc: {
      send_reports: parsed.dmarc.send_reports ?? !dev,
      report_address: parsed.dmarc.report_address ?? `dmarc-reports@${hostname}`,
    },
    listeners,
  });
}

async function readConfigFile(
  file: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : describe(error);
    throw new ConfigError(`Cannot read config file ${file}: ${why}`);
  }
  try {
    return parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError
      ? ` at line ${error.line}, column ${error.column}`
      : "";
    const first = describe(error).split("\n")[0];
    throw new ConfigError(`Config file ${file} is not valid TOML${where}: ${first}`);
  }
}

function validate(raw: unknown, source: string): ConfigFile {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(`${source}: ${describeIssue(result.error.issues[0])}`);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return "invalid";
  const path = issue.path.map(String).join(".");
  if (issue.code === "invalid_union") {
    // Name what each alternative expected instead of zod's bare "Invalid input".
    const wanted = issue.errors.map((branch) => branch[0]?.message.replace(/^Invalid input: /, ""));
    return `${path}: ${wanted.filter(Boolean).join(", or ")}`;
  }
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `unknown key ${keys.join(", ")}`;
  }
  return `${path || "(top level)"}: ${issue.message}`;
}

function resolveHostname(name: string, lenient: boolean): string {
  const host = name.trim().toLowerCase().replace(/\.$/, "");
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  if (!host.split(".").every((l) => label.test(l)) || host.length > 253) {
    throw new ConfigError(`hostname: "${name}" is not a valid host name`);
  }
  if (!lenient && !host.includes(".")) {
    throw new ConfigError(
      `hostname: "${host}" is not a fully qualified name; set hostname in the config or FUMI_HOSTNAME (e.g. mail.example.org)`,
    );
  }
  return host;
}

function absolute(path: string, cwd: string): string {
  if (path.startsWith("/")) return path.replace(/\/+$/, "") || "/";
  const parts = `${cwd}/${path}`.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
