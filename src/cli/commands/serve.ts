/**
 * `fumi serve [--dev] [--config FILE]`: run the server until SIGINT or SIGTERM.
 *
 * @module
 */

import denoJson from "../../../deno.json" with { type: "json" };
import { createLogger } from "../../ops/log.ts";
import { startServer } from "../../server.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { configFor } from "../context.ts";

/** `fumi serve`. */
export const serveCommand: Command = {
  name: "serve",
  usage: "fumi serve [--dev] [--config FILE]",
  summary: "Run Fumi (--dev: high ports on 127.0.0.1, embedded database, ./data).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["dev"], string: ["config"] });
    expectPositional(args, [], serveCommand.usage);
    const dev = args.booleans.has("dev");
    const config = await configFor(io, args, { dev, serving: true });
    const log = createLogger({
      level: config.log.level,
      format: dev ? "text" : config.log.format,
      write: (line) => io.err(line),
    });
    const server = await startServer(config, io.env, log);
    io.out(
      `Fumi ${denoJson.version} is running for ${config.hostname}${dev ? " (dev mode)" : ""}.`,
    );
    io.out(`  data directory: ${config.dataDir}`);
    io.out(
      `  database:       ${
        server.store.database.kind === "embedded"
          ? "embedded PGlite in the data directory"
          : "PostgreSQL"
      }`,
    );
    io.out(`  master key:     ${server.store.keySource.description}`);
    for (const http of server.http) {
      io.out(`  health:         http://${hostPort(http.address, http.port)}/healthz`);
    }
    for (const metrics of server.metrics) {
      io.out(`  metrics:        http://${hostPort(metrics.address, metrics.port)}/metrics`);
    }
    for (const listener of [...server.smtp, ...server.imap]) {
      const where = listener.endpoints.map((e) => hostPort(e.address, e.port)).join(", ");
      io.out(`  ${`${listener.name}:`.padEnd(15)} ${where}`);
    }
    for (const endpoint of server.web?.listener.endpoints ?? []) {
      const port = endpoint.port === 443 ? "" : `:${endpoint.port}`;
      io.out(
        `  webmail:        https://${config.hostname}${port}/ (on ${
          hostPort(endpoint.address, endpoint.port)
        })`,
      );
    }
    const admin = server.firstAdministrator;
    if (admin) {
      io.out(`Created the administrator ${admin.address}.`);
      if (admin.generatedPassword) {
        io.out(`  one-time password: ${admin.generatedPassword}`);
        io.out(`  it is shown only now; change it with: fumi user passwd ${admin.address}`);
      }
    }
    const signal = await io.waitForStop();
    log.info("stopping", { signal });
    await server.stop();
  },
};

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
