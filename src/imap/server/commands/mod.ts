/**
 * The command table: name → handler with its allowed states (shared/STYLE.md: dispatch is
 * data).
 *
 * @module
 */

import { capability, check, id, logout, noop } from "./any.ts";
import { append } from "./append.ts";
import { authenticate, login, starttls } from "./auth.ts";
import type { Handler } from "./command.ts";
import { copy, move } from "./copy.ts";
import { enable, namespace } from "./enable.ts";
import { expunge } from "./expunge.ts";
import { fetch } from "./fetch.ts";
import { idle } from "./idle.ts";
import { listCommand, lsub } from "./list.ts";
import { create, deleteCommand, rename, status, subscribe, unsubscribe } from "./mailbox.ts";
import { getquota, getquotaroot } from "./quota.ts";
import { search } from "./search.ts";
import { close, examine, selectCommand, unselect } from "./select.ts";
import { sort, thread } from "./sort.ts";
import { store } from "./store.ts";

export type { Handler } from "./command.ts";

/** Every command the server offers, by name. */
export const COMMANDS: ReadonlyMap<string, Handler> = new Map(
  [
    capability,
    noop,
    logout,
    id,
    starttls,
    login,
    authenticate,
    enable,
    namespace,
    selectCommand,
    examine,
    create,
    deleteCommand,
    rename,
    subscribe,
    unsubscribe,
    listCommand,
    lsub,
    status,
    append,
    idle,
    getquota,
    getquotaroot,
    check,
    close,
    unselect,
    expunge,
    search,
    sort,
    thread,
    fetch,
    store,
    copy,
    move,
  ].map((h) => [h.name, h]),
);

/**
 * Commands after which EXPUNGE must not be sent (RFC 9051 §7.5.1: FETCH, STORE, SEARCH; the
 * UID forms too, to keep one rule; SORT and THREAD answer with numbers as SEARCH does). Other
 * updates (EXISTS, FETCH FLAGS) may be.
 */
export const NO_EXPUNGE: ReadonlySet<string> = new Set([
  "FETCH",
  "STORE",
  "SEARCH",
  "SORT",
  "THREAD",
]);
