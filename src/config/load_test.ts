import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { ConfigError } from "../util/errors.ts";
import { type ConfigSources, loadConfig } from "./load.ts";

function sources(files: Record<string, string>, over: Partial<ConfigSources> = {}): ConfigSources {
  return {
    dev: false,
    env: {},
    cwd: "/srv",
    systemHostname: () => "mail.example.org",
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]!) : Promise.reject(new Deno.errors.NotFound()),
    ...over,
  };
}

Deno.test("defaults: production ports on all addresses, ./data under the working directory", async () => {
  const config = await loadConfig(sources({}));
  assertEquals(config.hostname, "mail.example.org");
  assertEquals(config.dataDir, "/srv/data");
  assertEquals(config.databaseUrl, null);
  assertEquals(config.limits.max_message_size, 25 * 1024 * 1024);
  assertEquals(config.limits.max_recipients, 100);
  assertEquals(config.accounts.password_min_length, 12);
  assertEquals(config.listeners.smtp.port, 25);
  assertEquals(config.listeners.imaps.port, 993);
  assertEquals(config.listeners.http.addresses, ["0.0.0.0", "::"]);
  // Metrics stay on loopback, readable from loopback only (src/ops/metrics_server.ts).
  assertEquals(config.listeners.metrics.addresses, ["127.0.0.1"]);
  assertEquals(config.listeners.metrics.port, 9425);
  assertEquals(config.metrics.allow, ["127.0.0.0/8", "::1/128"]);
  assertEquals(config.firewall.max_connections_per_ip, 20);
  assertEquals(config.firewall.max_connections, 5000);
  assertEquals(config.auth.backoff_after, 5);
  assertEquals(config.auth.ban_after, 20);
  assertEquals(config.auth.failure_window, 3_600_000);
  assertEquals(config.auth.ban_duration, 3_600_000);
  assert(Object.isFrozen(config) && Object.isFrozen(config.listeners.smtp));
});

Deno.test("--dev: high ports on loopback and localhost as host name", async () => {
  const config = await loadConfig(sources({}, { dev: true }));
  assertEquals(config.hostname, "localhost");
  const ports = Object.values(config.listeners).map((l) => l.port);
  assertEquals(ports, [2525, 2587, 2465, 2143, 2993, 8443, 8080, 9425]);
  assertEquals(config.listeners.smtp.addresses, ["127.0.0.1"]);
});

Deno.test("a config file is read, sizes parse, and the environment wins", async () => {
  const file = `
hostname = "mx.example.net"
data_dir = "/var/lib/fumi"
[limits]
max_message_size = "50M"
[accounts]
default_quota = "2G"
[listeners.smtp]
port = 2500
addresses = ["::1"]
[firewall]
deny = ["192.0.2.0/24"]
[auth]
failure_window = "30m"
ban_duration = "permanent"
`;
  const config = await loadConfig(sources({ "/etc/fumi/fumi.toml": file }, {
    file: "/etc/fumi/fumi.toml",
    env: {
      FUMI_DATA_DIR: "rel/dir",
      FUMI_DATABASE_URL: "postgres://db/fumi",
      FUMI_LOG_LEVEL: "debug",
    },
  }));
  assertEquals(config.hostname, "mx.example.net");
  assertEquals(config.dataDir, "/srv/rel/dir");
  assertEquals(config.databaseUrl, "postgres://db/fumi");
  assertEquals(config.limits.max_message_size, 50 * 1024 * 1024);
  assertEquals(config.accounts.default_quota, 2 * 1024 ** 3);
  assertEquals(config.listeners.smtp.port, 2500);
  assertEquals(config.listeners.smtp.addresses, ["::1"]);
  assertEquals(config.log.level, "debug");
  assertEquals(config.configFile, "/etc/fumi/fumi.toml");
  assertEquals(config.firewall.deny, ["192.0.2.0/24"]);
  assertEquals(config.auth.failure_window, 30 * 60_000);
  assertEquals(config.auth.ban_duration, null);
});

Deno.test("FUMI_CONFIG names the file when --config is absent", async () => {
  const config = await loadConfig(sources({ "/c.toml": 'hostname = "a.example"' }, {
    env: { FUMI_CONFIG: "/c.toml" },
  }));
  assertEquals(config.hostname, "a.example");
});

Deno.test("errors name the file, the key path and why", async () => {
  const cases: [Record<string, string>, Partial<ConfigSources>, string][] = [
    [{}, { file: "/missing.toml" }, "Cannot read config file /missing.toml: no such file"],
    [{ "/f": "hostname = " }, { file: "/f" }, "Config file /f is not valid TOML at line 1"],
    [{ "/f": "colour = 1" }, { file: "/f" }, "/f: unknown key colour"],
    [{ "/f": "[limits]\nmax_recipent = 5" }, { file: "/f" }, "/f: unknown key limits.max_recipent"],
    [
      { "/f": '[limits]\nmax_message_size = "huge"' },
      { file: "/f" },
      '/f: limits.max_message_size: expected a size like 25M, got "huge"',
    ],
    [{ "/f": "[listeners.smtp]\nport = 70000" }, { file: "/f" }, "/f: listeners.smtp.port:"],
    [{ "/f": "[listeners.pop3]\nport = 110" }, { file: "/f" }, "/f: unknown key listeners.pop3"],
    [
      { "/f": '[auth]\nban_duration = "forever"' },
      { file: "/f" },
      "/f: auth.ban_duration:",
    ],
    [{}, { env: { FUMI_DATABASE_URL: "mysql://x" } }, "FUMI_DATABASE_URL / database.url"],
    [
      {},
      { env: { FUMI_LOG_LEVEL: "loud" } },
      'FUMI_LOG_LEVEL: expected debug, info, warn or error, got "loud"',
    ],
    [{}, { env: { FUMI_HOSTNAME: "bad_host!" } }, 'hostname: "bad_host!" is not a valid host name'],
    [{}, { systemHostname: () => "box" }, 'hostname: "box" is not a fully qualified name'],
  ];
  for (const [files, over, expected] of cases) {
    const error = await assertRejects(() => loadConfig(sources(files, over)), ConfigError);
    assert(error.message.startsWith(expected), `${error.message} should start with ${expected}`);
  }
});

Deno.test("[dns]: name servers with and without ports; none given means /etc/resolv.conf", async () => {
  const defaults = await loadConfig(sources({}));
  assertEquals(defaults.dns, { nameservers: null, timeout: 5_000, attempts: 2 });
  const config = await loadConfig(sources({
    "/f.toml": `[dns]\nnameservers = ["127.0.0.1:5353", "::1", "[::1]:53"]\n` +
      `timeout = "2s"\nattempts = 3\n`,
  }, { file: "/f.toml" }));
  assertEquals(config.dns, {
    nameservers: [
      { address: "127.0.0.1", port: 5353 },
      { address: "::1", port: 53 },
      { address: "::1", port: 53 },
    ],
    timeout: 2_000,
    attempts: 3,
  });
  for (const bad of [`nameservers = ["dns.example.org"]`, `nameservers = []`, `attempts = 0`]) {
    await assertRejects(
      () => loadConfig(sources({ "/f.toml": `[dns]\n${bad}\n` }, { file: "/f.toml" })),
      ConfigError,
      "dns.",
    );
  }
});
