/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) running in this process,
 * with its files in `<data dir>/pg`, served to postgres.js over a unix socket in
 * `<data dir>/run` (src/store/pglite_server.ts). Both folders are mode 0700, so no other local user can reach the socket or
 * the files; the socket is never a TCP port.
 *
 * Only one process may run PGlite on a data directory. Ownership is decided under an exclusive
 * lock on `run/.lock` (flock, released by the kernel if the process dies), held only while a
 * process checks whether the socket answers and, if not, binds it. The owner binds the socket
 * before PGlite's slow start, so "the socket answers" is itself the proof of a live owner: a
 * later process, such as `fumi user add` beside `fumi serve`, connects to it instead (its
 * queries wait until the database is ready). `run/embedded.pid` names the owner, for people.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../ops/log.ts";
import { ConfigError } from "../util/errors.ts";
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
    throw new ConfigError(
      `FUMI_DATA_DIR: the path is too long for the embedded database's socket (${socketPath}); choose a shorter data directory`,
    );
  }
  await makePrivateDir(dataDir);
  await makePrivateDir(socketDir);
  await makePrivateDir(`${dataDir}/pg`);

  const listener = await claimSocket(socketDir, socketPath);
  if (listener === null) {
    log.debug("joining the embedded database of a running Fumi", { socket: socketPath });
    return { socketDir, owned: false, stop: () => Promise.resolve() };
  }
  const pidFile = `${socketDir}/embedded.pid`;
  try {
    await Deno.chmod(socketPath, 0o600);
    await Deno.writeTextFile(pidFile, `${Deno.pid}\n`, { mode: 0o600 });
    const fresh = !(await exists(`${dataDir}/pg/PG_VERSION`));
    if (fresh) log.info("creating the embedded database (the first start takes a few seconds)");
    const db = await PGlite.create(`${dataDir}/pg`);
    const server = servePglite(db, listener, { log });
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
    listener.close();
    await Deno.remove(socketPath).catch(() => {});
    await Deno.remove(pidFile).catch(() => {});
    throw error;
  }
}

/**
 * Under the ownership lock: null when a live owner answers on the socket; otherwise removes a
 * socket left by a dead process and returns our own listener on it.
 */
async function claimSocket(
  socketDir: string,
  socketPath: string,
): Promise<Deno.UnixListener | null> {
  const lock = await Deno.open(`${socketDir}/.lock`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  try {
    await lock.lock(true);
    if (await socketAnswers(socketPath)) return null;
    await Deno.remove(socketPath).catch(() => {});
    return Deno.listen({ transport: "unix", path: socketPath });
  } finally {
    lock.close(); // closing releases the lock
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
