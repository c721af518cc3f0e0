/**
 * The system's name servers from resolv.conf(5): `nameserver` lines in order, and the
 * `timeout:` and `attempts:` options. Used when the config names no servers.
 *
 * @module
 */

import { isIP } from "node:net";
import type { NameServer } from "./transport.ts";

/** What resolv.conf says. */
export interface ResolvConf {
  readonly nameservers: readonly NameServer[];
  /** `options timeout:n`, in milliseconds. */
  readonly timeoutMs?: number;
  /** `options attempts:n`. */
  readonly attempts?: number;
}

/** resolv.conf(5): with no `nameserver` line, the local name server. */
const FALLBACK: NameServer = { address: "127.0.0.1", port: 53 };

/** Parses resolv.conf text; lines that are not understood are skipped. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: NameServer[] = [];
  let timeoutMs: number | undefined;
  let attempts: number | undefined;
  for (const raw of text.split("\n")) {
    const [keyword, ...args] = raw.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (keyword === "nameserver" && args[0] !== undefined) {
      // Kept as written, zone index too (fe80::1%eth0): it names the link to send on.
      if (isIP(args[0]) !== 0) nameservers.push({ address: args[0], port: 53 });
    } else if (keyword === "options") {
      for (const option of args) {
        const [name, value] = option.split(":");
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) continue;
        if (name === "timeout") timeoutMs = Math.min(n, 30) * 1000;
        if (name === "attempts") attempts = Math.min(n, 5);
      }
    }
  }
  return {
    nameservers: nameservers.length > 0 ? nameservers : [FALLBACK],
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(attempts === undefined ? {} : { attempts }),
  };
}

/** Reads and parses /etc/resolv.conf (or `path`); a missing file means the fallback server. */
export async function readResolvConf(path = "/etc/resolv.conf"): Promise<ResolvConf> {
  try {
    return parseResolvConf(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return parseResolvConf("");
    throw error;
  }
}
