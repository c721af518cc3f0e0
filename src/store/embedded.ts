/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) running in this process,
 * with its files in `<data dir>/pg`, served to postgres.js over a unix socket in
 * `<data dir>/run` (src/store/pglite_server.ts). Both folders are mode 0700, so no other local user can reach the socket or
 * the files; the socket is never a TCP port.
 *
 * Only one process may run PGlite on a data directory; other processes join it through its
 * socket. The rules, all with flock (released by the kernel if a process dies):
 * - Deciding is done under `run/.lock`, held for milliseconds: if the socket answers, join;
 *   otherwise become the owner and bind the socket before PGlite's slow start, so "the socket
 *   answers" is always the proof of a live owner.
 * - An owner holds `run/.owner` for its whole life. Stopping, it first stops accepting, lets the
 *   connections of processes that joined it finish (bounded), then closes PGlite and releases
 *   the lock. A newcomer that finds the socket silent waits on `.owner`, so it never opens the
 *   files while a stopping owner still has them.
 * - `serve` insists on owning (`exclusive`): it waits while a short-lived command owns the
 *   database rather than join a process that will soon exit.
 * `run/embedded.pid` names the owner, for people.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../ops/log.ts";
import { ConfigError, FumiError } from "../util/errors.ts";
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
export async function openEmbedded(
  dataDir: string,
  log: Logger,
  options: { exclusive?: boolean; waitMs?: number } = {},
): Promise<EmbeddedServer> {
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

  let claim = await claimSocket(socketDir, socketPath);
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  while (claim === null && options.exclusive) {
    if (Date.now() > deadline) {
      throw new FumiError(
        `Another Fumi process owns the embedded database in ${dataDir}; stop it first (is fumi serve running?)`,
      );
    }
    log.info("waiting for another Fumi process to release the embedded database");
    await new Promise((resolve) => setTimeout(resolve, 500));
    claim = await claimSocket(socketDir, socketPath);
  }
  if (claim === null) {
    log.debug("joining the embedded database of a running Fumi", { socket: socketPath });
    return { socketDir, owned: false, stop: () => Promise.resolve() };
  }
  const { listener, owner } = claim;
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
        owner.close(); // releases .owner: the files are free
      },
    };
  } catch (error) {
    listener.close();
    await Deno.remove(socketPath).catch(() => {});
    await Deno.remove(pidFile).catch(() => {});
    owner.close();
    throw error;
  }
}

/**
 * Under `.lock`: null when a live owner answers on the socket. Otherwise waits for `.owner`
 * (a stopping owner still holds it), removes a socket left by a dead process and binds our own.
 */
async function claimSocket(
  socketDir: string,
  socketPath: string,
): Promise<{ listener: Deno.UnixListener; owner: Deno.FsFile } | null> {
  const lock = await openLockFile(`${socketDir}/.lock`);
  try {
    await lock.lock(true);
    if (await socketAnswers(socketPath)) return null;
    const owner = await openLockFile(`${socketDir}/.owner`);
    try {
      await owner.lock(true);
      await Deno.remove(socketPath).catch(() => {});
      return { listener: Deno.listen({ transport: "unix", path: socketPath }), owner };
    } catch (error) {
      owner.close();
      throw error;
    }
  } finally {
    lock.close(); // closing releases the lock
  }
}

function openLockFile(path: string): Promise<Deno.FsFile> {
  return Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
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
