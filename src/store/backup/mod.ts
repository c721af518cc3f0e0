/**
 * Backups of the whole database (`fumi backup`, `fumi restore`).
 *
 * A backup file is a clear header and the dump of one snapshot (dump.ts), gzip-compressed and
 * sealed in 1 MiB chunks with AES-256-GCM (container.ts). Invariants and security model:
 * - Consistent: every table is read in one REPEATABLE READ, read-only transaction.
 * - Never decrypting: encrypted columns are copied as they are; the backup holds nothing in
 *   clear that the database did not.
 * - Keyed by the master key: the chunk key is derived (HKDF) from the master key and a salt of
 *   its own; the master key is inside only with `--include-key`, wrapped under an Argon2id
 *   passphrase key (key_wrap.ts). Without the key (or passphrase) the file is opaque.
 * - Tamper-evident: each chunk authenticates the header, its index and whether it is the last,
 *   so a changed byte, reordered or dropped chunks and truncation are all detected.
 * - All or nothing: a restore loads everything in one transaction and commits only after the
 *   last chunk is verified and the master key opens the restored check values; a damaged file
 *   leaves the target as empty as it was.
 * - Bounded memory: rows are read and written in batches of about 4 MiB, and every stage is a
 *   stream with backpressure, so a 10 GiB store needs no more memory than a small one.
 * - On the embedded database the backup's transaction holds PGlite's single backend: a running
 *   server waits for it (PGlite serves one transaction at a time).
 *
 * @module
 */

export { BackupFormatError, type BackupHeader } from "./container.ts";
export type { DumpHeader, TableProgress } from "./dump.ts";
export { MIN_PASSPHRASE_LENGTH, WrongPassphraseError } from "./key_wrap.ts";
export { masterKeyText } from "./key_text.ts";
export { TargetNotEmptyError } from "./load.ts";
export { restoreBackup, type RestoreOptions, type RestoreResult } from "./restore.ts";
export { type BackupOptions, type BackupResult, writeBackup } from "./write.ts";
