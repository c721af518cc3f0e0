/**
 * Opening the store: database, migrations, master key, vault and the services over them.
 * The one sequence every command and the server use, so start-up checks cannot be skipped.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { Logger } from "../ops/log.ts";
import { Accounts } from "./accounts.ts";
import { Aliases } from "./aliases.ts";
import { AppPasswords } from "./app_passwords.ts";
import { Certificates } from "./certificates.ts";
import { type Database, openDatabase, type Sql } from "./db.ts";
import { DkimKeys } from "./dkim_keys.ts";
import { Domains } from "./domains.ts";
import { Mailboxes } from "./mailboxes.ts";
import {
  createMasterKeyFile,
  type Env,
  findMasterKey,
  masterKeyPath,
  type MasterKeySource,
} from "./master_key_source.ts";
import { MailboxChanges } from "./changes.ts";
import { Messages } from "./messages.ts";
import { Secrets } from "./secrets.ts";
import { loadMigrations, migrate } from "./migrate.ts";
import { Queue, QueueWork } from "./queue.ts";
import { Sending } from "./sending.ts";
import { QueueAdmin } from "./queue_admin.ts";
import { TwoFactor } from "./two_factor.ts";
import { MasterKeyError, Vault } from "./vault.ts";

/** The open store. */
export interface Store {
  readonly database: Database;
  readonly sql: Sql;
  readonly keySource: MasterKeySource;
  readonly vault: Vault;
  readonly domains: Domains;
  readonly accounts: Accounts;
  readonly aliases: Aliases;
  /** Accounts' app passwords for mail clients. */
  readonly appPasswords: AppPasswords;
  /** Accounts' second factor (TOTP). */
  readonly twoFactor: TwoFactor;
  readonly mailboxes: Mailboxes;
  readonly messages: Messages;
  /** Which mailboxes changed: this process's writes, and other processes' on PostgreSQL. */
  readonly changes: MailboxChanges;
  readonly secrets: Secrets;
  /** The outbound queue. */
  readonly queue: Queue;
  /** Administration of the queue: list, show, retry, hold, release, remove; account holds. */
  readonly queueAdmin: QueueAdmin;
  /** What accounts sent, for the sending limits of submission. */
  readonly sending: Sending;
  /** The outbound queue as its workers use it: leases and attempts. */
  readonly queueWork: QueueWork;
  readonly certificates: Certificates;
  /** DKIM keys per domain (sealed private keys; active ones sign). */
  readonly dkimKeys: DkimKeys;
  close(): Promise<void>;
}

/**
 * Opens the configured database, brings its schema up to date and checks the master key.
 * `exclusive`: with the embedded database, own it rather than join another process (serve).
 */
export async function openStore(
  config: Config,
  env: Env,
  log: Logger,
  options: { exclusive?: boolean } = {},
): Promise<Store> {
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.database.pool_size,
    log,
    exclusive: options.exclusive ?? false,
  });
  try {
    await migrate(database.sql, await loadMigrations(), { log });
    return await openServices(database, config, env, log);
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Builds the services over an open, migrated database. */
export async function openServices(
  database: Database,
  config: Config,
  env: Env,
  log: Logger,
): Promise<Store> {
  const { sql } = database;
  const keySource = await masterKeySource(sql, config.dataDir, env, log);
  const reload = async () => (await findMasterKey(env, config.dataDir) ?? keySource).ring;
  const vault = await Vault.open(sql, keySource.ring, keySource.description, reload);
  const domains = new Domains(sql);
  const changes = new MailboxChanges();
  const policy = {
    minLength: config.accounts.password_min_length,
    rejectCommon: config.accounts.reject_common_passwords,
  };
  const queue = new Queue(sql, vault);
  return {
    database,
    sql,
    keySource,
    vault,
    domains,
    accounts: new Accounts(sql, vault, domains, policy, config.accounts.default_quota),
    aliases: new Aliases(sql, domains),
    appPasswords: new AppPasswords(sql),
    twoFactor: new TwoFactor(sql, vault),
    mailboxes: new Mailboxes(sql),
    messages: new Messages(sql, vault, changes),
    changes,
    secrets: new Secrets(sql, vault),
    queue,
    queueWork: new QueueWork(sql, queue),
    queueAdmin: new QueueAdmin(sql, vault),
    certificates: new Certificates(sql, vault),
    dkimKeys: new DkimKeys(sql, vault, domains),
    sending: new Sending(sql, {
      messagesPerHour: config.smtp.max_messages_per_hour,
      recipientsPerDay: config.smtp.max_recipients_per_day,
    }),
    close: async () => {
      await changes.close();
      await database.close();
    },
  };
}

async function masterKeySource(
  sql: Sql,
  dataDir: string,
  env: Env,
  log: Logger,
): Promise<MasterKeySource> {
  const found = await findMasterKey(env, dataDir);
  if (found) return found;
  const [used] = await sql`select 1 from master_keys limit 1`;
  if (used) {
    throw new MasterKeyError(
      `This database holds encrypted data but no master key was found: set FUMI_MASTER_KEY, provide the systemd credential master-key, or restore ${
        masterKeyPath(dataDir)
      }`,
    );
  }
  const created = await createMasterKeyFile(dataDir);
  log.warn("created a new master key; back it up, without it the mail cannot be read", {
    file: created.path,
  });
  return created;
}
