/**
 * The sending-limit options of `fumi user limits` and `fumi domain limits`: a number (0: no
 * limit) or "default" (the next level's: the domain's, then the configuration's).
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import type { ParsedArgs } from "../args.ts";

/** The options as a usage line shows them. */
export const LIMIT_OPTIONS = "[--messages-per-hour N|default] [--recipients-per-day N|default]";

/** The option names, for parseArgs's `string` list. */
export const LIMIT_FLAGS = ["messages-per-hour", "recipients-per-day"] as const;

/** A change to sending limits: a key only for each option given. */
export interface LimitChanges {
  messagesPerHour?: number | null;
  recipientsPerDay?: number | null;
}

/** The changes the options ask for. */
export function limitArguments(args: ParsedArgs): LimitChanges {
  const value = (name: string): number | null | undefined => {
    const text = args.strings.get(name);
    if (text === undefined) return undefined;
    if (text === "default") return null;
    if (!/^\d+$/.test(text)) {
      throw new UsageError(`--${name} takes a number (0: no limit) or "default"`);
    }
    return Number(text);
  };
  const changes: LimitChanges = {};
  const perHour = value("messages-per-hour");
  const perDay = value("recipients-per-day");
  if (perHour !== undefined) changes.messagesPerHour = perHour;
  if (perDay !== undefined) changes.recipientsPerDay = perDay;
  return changes;
}
