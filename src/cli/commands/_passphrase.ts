/**
 * The backup passphrase: from `FUMI_BACKUP_PASSPHRASE` (for scripts), else typed at the
 * terminal without echo.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import type { CliIo } from "../io.ts";

/** Reads the passphrase; `confirm` asks twice at a terminal (for a new backup). */
export async function backupPassphrase(io: CliIo, confirm: boolean): Promise<string> {
  const fromEnv = io.env.FUMI_BACKUP_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      "A passphrase is needed: set FUMI_BACKUP_PASSPHRASE or run at a terminal",
    );
  }
  const first = await readSecret("Backup passphrase: ");
  if (confirm && (await readSecret("Again: ")) !== first) {
    throw new UsageError("The passphrases differ");
  }
  return first;
}

/** Reads one line from the terminal with echo off. */
async function readSecret(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      let end = false;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x03) throw new UsageError("Interrupted");
        if (byte === 0x0d || byte === 0x0a) {
          end = true;
          break;
        }
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else bytes.push(byte);
      }
      if (end) break;
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
