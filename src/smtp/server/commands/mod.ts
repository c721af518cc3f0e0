/**
 * The command table: verb → command (shared/STYLE.md: dispatch is data).
 *
 * @module
 */

import { auth } from "./auth.ts";
import { bdat } from "./bdat.ts";
import type { Command } from "./command.ts";
import { data } from "./data.ts";
import { ehlo, helo } from "./helo.ts";
import { mail } from "./mail.ts";
import { rcpt } from "./rcpt.ts";
import { expn, help, noop, quit, rset, vrfy } from "./simple.ts";
import { starttls } from "./starttls.ts";

export type { Command } from "./command.ts";

/** Every command the server knows, by upper-case verb. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [ehlo, helo, starttls, auth, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help].map((
    c,
  ) => [c.verb, c]),
);
