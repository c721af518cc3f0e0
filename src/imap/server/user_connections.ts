/**
 * Signed-in IMAP sessions per account and client address, bounded as Dovecot's
 * `mail_max_userip_connections` bounds them: a mail client opens a few connections per
 * account, so hundreds from one address are a runaway client or a stolen password, and each
 * holds memory and a socket. Counted per process, for the sessions of every IMAP listener.
 *
 * @module
 */

/** The default limit (config `[imap] max_connections_per_user_ip`): Dovecot's is 10. */
export const DEFAULT_CONNECTIONS_PER_USER_IP = 20;

/** Counts signed-in sessions per account and address. */
export class UserConnections {
  readonly #counts = new Map<string, number>();

  constructor(
    /** Sessions allowed per account and address. */
    readonly limit: number,
  ) {}

  /**
   * Counts one more session of `accountId` from `ip`, and returns the function that counts it
   * out (call it once, when the session ends); null when the limit is reached.
   */
  take(accountId: number, ip: string): (() => void) | null {
    const key = `${accountId} ${ip}`;
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.limit) return null;
    this.#counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.#counts.get(key)! - 1;
      if (left === 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }

  /** Sessions counted now for `accountId` from `ip`. */
  count(accountId: number, ip: string): number {
    return this.#counts.get(`${accountId} ${ip}`) ?? 0;
  }
}
