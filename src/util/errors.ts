/**
 * Base error types. Domain errors extend {@link FumiError} and live with their domain
 * (store, auth, …); each says whether it is temporary, which the protocol error maps use to
 * choose between a 4xx and a 5xx reply, and carries a message fit to show a user (never a
 * secret, never message content).
 *
 * @module
 */

/** An error whose message can be shown to the user as it is. */
export class FumiError extends Error {
  /** True when retrying later may succeed (maps to 4xx in SMTP). */
  readonly temporary: boolean;

  constructor(message: string, options: { temporary?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.temporary = options.temporary ?? false;
  }
}

/** The command line was wrong: unknown command or flag, missing or malformed argument. */
export class UsageError extends FumiError {}

/** The configuration (file or environment) is invalid. */
export class ConfigError extends FumiError {}

/** Something named does not exist (domain, account, mailbox, message). */
export class NotFoundError extends FumiError {}

/** Something to be created exists already. */
export class ConflictError extends FumiError {}

/** Input was well-formed but not acceptable (weak password, invalid address). */
export class InvalidInputError extends FumiError {}
