/**
 * The store: PostgreSQL (or embedded PGlite) through postgres.js, with column encryption.
 *
 * Security model: message bytes, cached envelopes and structures, and every secret Fumi keeps
 * are sealed with AES-256-GCM under a per-account data key (src/crypto/envelope.ts), and data
 * keys are wrapped by the master key, which never enters the database. What stays in clear text
 * is what queries must see: addresses of accounts and aliases, mailbox names, flags, sizes and
 * dates. Only this folder imports postgres.js.
 *
 * @module
 */

export type { Account, NewAccount, PasswordPolicy } from "./accounts.ts";
export type { Alias, Resolution } from "./aliases.ts";
export {
  APP_PASSWORD_SCOPES,
  type AppPassword,
  type AppPasswordScope,
  type CreatedAppPassword,
  markAppPasswordUsed,
  parseScopes,
} from "./app_passwords.ts";
export {
  type CertificateDetails,
  type CertificateSource,
  type CertificateSummary,
  type ListenerCertificates,
  listenerCertificates,
  normalizeTarget,
  TLS_LISTENERS,
  type TlsCertificate,
  type TlsListener,
  type TlsSnapshot,
} from "./certificates.ts";
export type { Database, Sql, TxSql } from "./db.ts";
export {
  type AuditEntry,
  AuditLog,
  type AuditRecord,
  type AuditValue,
  type AuditVerification,
} from "./audit.ts";
export {
  activeBans,
  type ErrorEvent,
  ErrorEvents,
  type QueueGauges,
  queueGauges,
  registerStoreMetrics,
} from "./status.ts";
export { type Reservation, Sending, type SendingDefaults, type SendingUse } from "./sending.ts";
export type { DkimKey, DkimKeyState, DkimRotation } from "./dkim_keys.ts";
export type { Domain } from "./domains.ts";
export { OverQuotaError } from "./errors.ts";
export {
  DEFAULT_MAILBOXES,
  type Mailbox,
  type MailboxCounts,
  type SpecialUse,
} from "./mailboxes.ts";
export {
  type Env,
  masterKeyPath,
  type MasterKeySource,
  writeKeyFile,
} from "./master_key_source.ts";
export type {
  Delivered,
  DeliveryOptions,
  DeliveryTarget,
  FlagChange,
  FlagMode,
  MailboxChangeSet,
  MessageCache,
  MessageInfo,
} from "./messages.ts";
export {
  label as migrationLabel,
  loadMigrations,
  migrate,
  type MigrationReport,
} from "./migrate.ts";
export { openStore, type Store } from "./open.ts";
export {
  type AttemptRecord,
  type ClaimedRecipient,
  type DsnReturn,
  type NewQueueEntry,
  type NewQueueRecipient,
  type PreparedQueueEntry,
  Queue,
  type QueueEntry,
  type QueueRecipient,
  type QueueStatus,
  type QueueSummary,
  QueueWork,
} from "./queue.ts";
export {
  type AccountHold,
  type AdminQueueDetail,
  type AdminQueueMessage,
  type AdminQueueRecipient,
  type HoldChange,
  QueueAdmin,
  type QueueFilter,
} from "./queue_admin.ts";
export { rotateDataKeys, rotationComplete, type RotationReport } from "./rotate.ts";
export type { TotpEnrolment, TwoFactorState } from "./two_factor.ts";
export { formatKeyId, MasterKeyError } from "./vault.ts";
