/**
 * What a user sees of an account over IMAP, as one comparable transcript: every mailbox
 * (LIST), then for each its SELECT answer and every message's UID, flags, INTERNALDATE and
 * bytes. Two stores that give the same transcript show the user the same mail. Used by the
 * backup and import tests, with an IMAP listener started over any open store.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { ScramLogin, sqlScramCredentials } from "../src/auth/scram_login.ts";
import {
  IMAP_DEFAULTS,
  imapStoreDeps,
  MailboxViews,
  startImapListener,
  UserConnections,
} from "../src/imap/server/mod.ts";
import { DEFAULT_CONNECTIONS_PER_USER_IP } from "../src/imap/server/user_connections.ts";
import { FlowControl } from "../src/net/flow.ts";
import { TlsContexts } from "../src/net/tls_contexts.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Store } from "../src/store/mod.ts";
import { ImapClient } from "./imap.ts";
import { makeTestPki, type TestPki } from "./tls.ts";

let pki: TestPki | undefined;
let leaf: { certPem: string; keyPem: string } | undefined;

/** Runs `fn` with an IMAP client signed in as `user` to a server over `store`. */
export async function withImapClient<T>(
  store: Store,
  user: string,
  password: string,
  fn: (client: ImapClient) => Promise<T>,
): Promise<T> {
  pki ??= await makeTestPki();
  leaf ??= await pki.issue(["localhost", "127.0.0.1"]);
  const log = silentLogger;
  const bans = new Bans(store.sql, { log });
  const sleep = () => Promise.resolve();
  const listener = await startImapListener({
    name: "imaps",
    addresses: ["127.0.0.1"],
    port: 0,
    mode: "tls",
    tls: new TlsContexts({ fallback: leaf, byName: new Map() }),
    flow: new FlowControl({ isBanned: (ip) => bans.isBanned(ip) }),
    settings: { ...IMAP_DEFAULTS, hostname: "localhost" },
    deps: imapStoreDeps({
      store,
      login: new Login({ bans, credentials: sqlCredentials(store.sql), log, sleep }),
      scram: new ScramLogin({ bans, credentials: sqlScramCredentials(store.sql), log, sleep }),
      views: new MailboxViews(store),
      userConnections: new UserConnections(DEFAULT_CONNECTIONS_PER_USER_IP),
      log,
    }),
  });
  const client = await ImapClient.connectTls(listener.endpoints[0]!.port, pki.caPem);
  try {
    await client.line();
    const login = await client.command(`L1 LOGIN ${user} "${password}"`);
    if (!login.at(-1)!.startsWith("L1 OK")) throw new Error(login.join("\n"));
    return await fn(client);
  } finally {
    client.close();
    await listener.close();
  }
}

/** The account's mail as a transcript (see the module doc). */
export async function mailView(client: ImapClient): Promise<string[]> {
  const list = await client.command(`V1 LIST "" "*"`);
  const names = list.filter((l) => l.startsWith("* LIST ")).map((l) => {
    const match = /^\* LIST \([^)]*\) (?:"[^"]*"|NIL) (.+)$/.exec(l);
    if (!match) throw new Error(`Unexpected LIST line ${l}`);
    const name = match[1]!;
    return name.startsWith('"') ? JSON.parse(name) as string : name;
  }).sort();
  const out = [...list.filter((l) => l.startsWith("* LIST ")).sort()];
  for (const name of names) {
    const select = await client.command(`V2 SELECT ${JSON.stringify(name)}`);
    out.push(`== ${name}`, ...select.filter((l) => !l.startsWith("V2 ")));
    const fetch = await client.command("V3 UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])");
    out.push(...fetch.filter((l) => !l.startsWith("V3 ")));
  }
  return out;
}
