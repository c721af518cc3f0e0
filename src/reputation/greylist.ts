/**
 * Greylisting (RFC 6647): the first attempt of an unknown (client network, sender, recipient)
 * triplet is refused for now, 451 4.7.1; a retry after `delayMs` and within `windowMs` of the
 * first attempt passes, and from then on the client network is allow-listed for `allowMs`
 * (RFC 6647 §2.2: a client that retries is a real MTA), so its next messages pass at once.
 *
 * The client is taken by network, IPv4 /24 and IPv6 /64 (RFC 6647 §4.1 notes that large
 * senders retry from other addresses of the same pool). State lives in the store, so every
 * Fumi process on one database sees the same triplets.
 *
 * Exemptions, never greylisted: clients that an allow-list (DNSWL, action `accept`) vouches
 * for, and clients whose forward-confirmed PTR name lies under one of the configured large
 * providers' domains. The SPF result is not known at RCPT time in this chain, so the provider
 * exemption is decided by the client's FCrDNS name, which the provider controls as it controls
 * its SPF record.
 *
 * @module
 */

import { ACCEPT, type Check, type FilterContext, tempfail, type Verdict } from "../filter/mod.ts";
import { formatCidr, tryParseIp } from "../net/cidr.ts";
import type { Logger } from "../ops/log.ts";
import { withDeadline } from "./deadline.ts";
import type { Reputation } from "./reputation.ts";

/** One greylisting triplet (RFC 6647 §2). */
export interface Triplet {
  /** The client's network: `192.0.2.0/24` or `2001:db8:1:2::/64`. */
  readonly client: string;
  /** The envelope sender, lower case; "" for the null reverse-path. */
  readonly sender: string;
  /** The recipient, canonical. */
  readonly recipient: string;
}

/** How long each step lasts, in milliseconds. */
export interface GreylistTimings {
  /** A retry is accepted this long after the first attempt, not sooner. */
  readonly delayMs: number;
  /** A first attempt is remembered this long; a retry after it starts over. */
  readonly windowMs: number;
  /** A client that passed is allow-listed this long after its last passing message. */
  readonly allowMs: number;
}

/** What greylisting decided about a triplet. */
export type GreylistOutcome =
  /** Seen now for the first time (or again after the window): refuse for now. */
  | { readonly kind: "new" }
  /** Seen before, but the delay has not passed: refuse for now. */
  | { readonly kind: "early"; readonly waitMs: number }
  /** Retried after the delay: accepted, the client network is allow-listed. */
  | { readonly kind: "passed" }
  /** The client network is allow-listed. */
  | { readonly kind: "allowed" };

/** Where greylisting keeps its state (src/store/greylist.ts over PostgreSQL). */
export interface GreylistStore {
  /** Records an attempt of `triplet` at `now` and says what it comes to. */
  attempt(triplet: Triplet, now: Date, timings: GreylistTimings): Promise<GreylistOutcome>;
  /** Deletes what has expired at `now`, in batches; returns how many rows went. */
  expire(now: Date): Promise<number>;
}

/** What {@link greylistCheck} needs. */
export interface GreylistOptions extends GreylistTimings {
  readonly store: GreylistStore;
  readonly reputation: Reputation;
  /** Large providers' domains: clients whose FCrDNS name is under one are exempt. */
  readonly exemptDomains: readonly string[];
  readonly log: Logger;
  /** The clock; tests pass their own. */
  readonly now?: () => Date;
}

/** The client network of a triplet: IPv4 /24, IPv6 /64 (RFC 6647 §4.1). */
export function clientNetwork(ip: string): string | null {
  const parsed = tryParseIp(ip);
  if (parsed === null) return null;
  const prefix = parsed.version === 4 ? 24 : 64;
  const bits = parsed.version === 4 ? 32n : 128n;
  const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
  return formatCidr({ version: parsed.version, network: parsed.value & mask, prefix });
}

/**
 * The greylisting check, at the RCPT stage of the MX, after the recipient and relay checks
 * (src/smtp/server/commands/rcpt.ts): an unknown user or a relay attempt is refused for good
 * and leaves no triplet behind.
 *
 * Time bound: the exemption (the client lists and FCrDNS, side by side) waits at most two
 * lookup bounds; one that fails or is slow means "not exempt", so slow DNS of the client's
 * cannot switch greylisting off. Only the store's failure makes the check fail open.
 */
export function greylistCheck(options: GreylistOptions): Check {
  const now = options.now ?? (() => new Date());
  const exempt = options.exemptDomains.map((d) => d.toLowerCase().replace(/\.$/, ""));
  const lookupMs = options.reputation.lookupTimeoutMs;
  const provider = async (ip: string): Promise<string | null> => {
    if (exempt.length === 0) return null;
    const { confirmed } = await options.reputation.fcrdns(ip);
    return confirmed.find((name) => exempt.some((d) => name === d || name.endsWith(`.${d}`))) ??
      null;
  };
  const exemption = async (ip: string): Promise<string | null> => {
    const [hits, name] = await Promise.all([options.reputation.clientHits(ip), provider(ip)]);
    return hits.find((h) => h.action === "accept")?.list ?? name;
  };
  /** The exemption, or null when it cannot be told in time: then the client is greylisted. */
  const boundedExemption = async (ip: string): Promise<string | null> => {
    try {
      // Both lookups are bounded already (query.ts, identity.ts); this bound is the backstop.
      return await withDeadline(exemption(ip), lookupMs * 2 + 100, null);
    } catch (error) {
      options.log.warn("greylist exemption not known; not exempt", { ip, error });
      return null;
    }
  };
  return {
    name: "greylist",
    stages: ["rcpt"],
    // Above the exemption's bound, with the chain's usual time for the store.
    timeoutMs: lookupMs * 2 + 5_000,
    // Fail open: a database problem must not hold all mail back. DNS problems do not get here
    // (the exemption above never throws).
    onError: "open",
    async run(context: FilterContext): Promise<Verdict> {
      if (context.connection.role !== "mx" || context.recipient === null) return ACCEPT;
      const client = clientNetwork(context.connection.ip);
      if (client === null) return ACCEPT;
      const reason = await boundedExemption(context.connection.ip);
      if (reason !== null) return ACCEPT;
      const at = now();
      const triplet: Triplet = {
        client,
        sender: context.sender ? context.sender.canonical : "",
        recipient: context.recipient.canonical,
      };
      const outcome = await options.store.attempt(triplet, at, options);
      if (outcome.kind === "passed") {
        options.log.info("greylist passed; client allow-listed", {
          client,
          ip: context.connection.ip,
        });
      }
      if (outcome.kind === "passed" || outcome.kind === "allowed") return ACCEPT;
      const wait = outcome.kind === "early" ? outcome.waitMs : options.delayMs;
      // RFC 6647 §2.1: a temporary refusal; RFC 3463 §3.8: 4.7.1, not authorized for now.
      return tempfail(
        451,
        "4.7.1",
        `Greylisted, please try again in ${Math.max(1, Math.ceil(wait / 1000))} seconds`,
      );
    },
  };
}

/** How often expired greylisting state is deleted. */
export const GREYLIST_EXPIRY_INTERVAL_MS = 10 * 60_000;

/**
 * Deletes expired greylisting state now and every `intervalMs`, outside any SMTP command:
 * src/server.ts starts it and stops it on shutdown. A failure is logged and tried again at
 * the next tick.
 */
export function startGreylistExpiry(
  store: GreylistStore,
  log: Logger,
  options: { readonly intervalMs?: number; readonly now?: () => Date } = {},
): { stop(): Promise<void> } {
  const now = options.now ?? (() => new Date());
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    running = running.then(async () => {
      try {
        const removed = await store.expire(now());
        if (removed > 0) log.debug("greylist entries expired", { removed });
      } catch (error) {
        log.error("cannot expire greylist entries", { error });
      }
    });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? GREYLIST_EXPIRY_INTERVAL_MS);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
