/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) running in this process,
 * with its files in `<data dir>/pg`, served to postgres.js over a unix socket in
 * `<data dir>/run` (src/store/pglite_server.ts). Both folders are mode 0700, so no other local user can reach the socket or
 * the files; the socket is never a TCP port.
 *
 * Only one process may run PGlite on a data directory. The first to start owns it (recorded in
 * `run/embedded.pid`); a later process, such as `fumi user add` beside `fumi serve`, finds the
 * owner's socket answering and connects to it instead.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../ops/log.ts";
import { FumiError } from "../util/errors.ts";
import { servePglite } from "./pglite_server.ts";

/** A running embedded database, ours or another process's. */
export interface EmbeddedServer {
  /** Folder of the `.s.PGSQL.5432` socket, as postgres.js wants it in `host`. */
  readonly socketDir: string;
  /** True when this process started PGlite; false when it joined another's. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

const SOCKET_NAME = ".s.PGSQL.5432";
/** Unix socket paths are limited to 108 bytes on Linux (sockaddr_un.sun_path). */
const MAX_SOCKET_PATH = 107;

/** Starts or joins the embedded database of `dataDir`. */
export async function openEmbedded(dataDir: string, log: Logger): Promise<EmbeddedServer> {
  const socketDir = `${dataDir}/run`;
  const socketPath = `${socketDir}/${SOCKET_NAME}`;
  if (new TextEncoder().encode(socketPath).length > MAX_SOCKET_PATH) {
    throw new FumiError(
      `The data directory path is too long for the embedded database's socket (${socketPath}); use a shorter FUMI_DATA_DIR`,
    );
  }
  await makePrivateDir(dataDir);
  await makePrivateDir(socketDir);
  await makePrivateDir(`${dataDir}/pg`);

  if (await socketAnswers(socketPath)) {
    log.debug("joining the embedded database of a running Fumi", { socket: socketPath });
    return { socketDir, owned: false, stop: () => Promise.resolve() };
  }

  const pidFile = `${socketDir}/embedded.pid`;
  await claimPidFile(pidFile, dataDir);
  try {
    await Deno.remove(socketPath).catch(() => {});
    const fresh = !(await exists(`${dataDir}/pg/PG_VERSION`));
    if (fresh) log.info("creating the embedded database (the first start takes a few seconds)");
    const db = await PGlite.create(`${dataDir}/pg`);
    const server = servePglite(db, socketPath, { log });
    await Deno.chmod(socketPath, 0o600);
    log.debug("embedded database started", { socket: socketPath });
    let stopped = false;
    return {
      socketDir,
      owned: true,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await server.close();
        await db.close();
        await Deno.remove(socketPath).catch(() => {});
        await Deno.remove(pidFile).catch(() => {});
      },
    };
  } catch (error) {
    await Deno.remove(pidFile).catch(() => {});
    throw error;
  }
}

async function makePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o700);
}

async function socketAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Takes ownership of the data directory's database, or explains who has it. */
async function claimPidFile(pidFile: string, dataDir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await Deno.open(pidFile, { write: true, createNew: true, mode: 0o600 });
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const pid = Number((await Deno.readTextFile(pidFile).catch(() => "")).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== Deno.pid && (await exists(`/proc/${pid}`))) {
      throw new FumiError(
        `Another Fumi process (pid ${pid}) is starting the embedded database in ${dataDir}; wait for it to finish or stop it`,
      );
    }
    // A process that died left its pid file behind: the database is free.
    await Deno.remove(pidFile).catch(() => {});
  }
  throw new FumiError(`Cannot take the embedded database lock ${pidFile}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
