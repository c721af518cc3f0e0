/**
 * ARC sealing (RFC 8617): the ARC Set a forwarding hop adds to a message, so that a receiver
 * further on can see what this hop's authentication found before forwarding broke SPF (and
 * perhaps DKIM), and trust it as far as it trusts us.
 *
 * An ARC Set is three fields with the same instance `i=` (§4.1, §4.2.1):
 * - ARC-Authentication-Results (AAR, §4.1.1): `i=N;` and our Authentication-Results payload
 *   for this hop (authserv-id; resinfos), as RFC 8601 §2.2 writes it.
 * - ARC-Message-Signature (AMS, §4.1.2): a DKIM signature (relaxed/relaxed, whole body) with
 *   `i=` where DKIM has `v=`. It signs the fields a DKIM signature of ours signs (From
 *   oversigned) and every DKIM-Signature the message carries, so a signature removed or changed
 *   after this hop shows. It signs no ARC field: ARC-Seals MUST NOT be signed (§4.1.2), and the
 *   AAR of this set is signed by its seal (§5.1.1), which covers the whole chain; nor
 *   Authentication-Results, which later hops may remove (RFC 8601 §5; §4.1.2 advises against
 *   signing them).
 * - ARC-Seal (AS, §4.1.3): tags `i`, `a`, `cv`, `d`, `s`, `t`, `b`, no `h=` or `bh=`; signed
 *   over every ARC Set in increasing instance order, each as AAR, AMS, AS, relaxed header
 *   canonicalisation, this set's AS last with an empty `b=` (§5.1.1). With `cv=fail` it signs
 *   only its own set (§5.1.2).
 *
 * `cv=` (§4.1.3, §5.1) is the chain validation status this hop found (§5.2, src/mailauth):
 * `none` for the first set, `pass` or `fail` after it. No set is added when the chain already
 * has 50 (§4.2.1) or its newest seal says `cv=fail` (§5.1 step 2: the chain has ended), nor
 * when the status does not fit the fields (a chain the check could not conclude on).
 *
 * Sealing is RSA-SHA256 only: RFC 8617 takes its algorithms from DKIM as RFC 6376 had them,
 * and ARC verifiers in use check RSA-SHA256 seals; an Ed25519 seal would leave the chain
 * unverifiable to many of them. Pure, as the rest of this folder: the key and the time come in.
 *
 * @module
 */

import type { DkimSigningKey } from "../crypto/dkim_keys.ts";
import { FumiError } from "../util/errors.ts";
import { relaxedHeader, type SplitMessage, splitMessage, toCrlf } from "./canon.ts";
import { OVERSIGNED_FIELDS, SIGNED_FIELDS } from "./sign.ts";
import { bodyHash, concat, headerData, LINE, signedField, signedNames } from "./_signature.ts";

/** RFC 8617 §4.4 chain validation status (the `cv=` values, §4.1.3). */
export type ChainStatus = "none" | "pass" | "fail";

/** RFC 8617 §4.2.1: instance values run from 1 to 50. */
export const MAX_ARC_INSTANCE = 50;

/** The fields an AMS signs when present: a DKIM signature's, and the DKIM-Signatures. */
export const AMS_SIGNED_FIELDS: readonly string[] = [...SIGNED_FIELDS, "DKIM-Signature"];

/** What to seal with. */
export interface ArcSealOptions {
  /**
   * This hop's Authentication-Results payload: authserv-id and resinfos (RFC 8601 §2.2),
   * e.g. `mx.example.org; spf=pass smtp.mailfrom=a@b.example; arc=none`. Folded or not.
   */
  readonly authResults: string;
  /** The status this hop found for the ARC Sets the message arrived with (RFC 8617 §5.2). */
  readonly chain: ChainStatus;
  /** The sealing domain's RSA-SHA256 key. */
  readonly key: DkimSigningKey;
  /** The signing time (`t=`), in milliseconds since the epoch. */
  readonly now: number;
}

/** The outcome: the sealed message, or why no set was added. */
export type ArcSealResult =
  | {
    readonly sealed: true;
    /** The message (CRLF line ends) with AS, AMS and AAR prepended, in that order. */
    readonly message: Uint8Array;
    readonly instance: number;
    readonly cv: ChainStatus;
  }
  | { readonly sealed: false; readonly reason: string };

/** The key cannot seal (not RSA-SHA256). */
export class ArcSealError extends FumiError {}

/** Where a new ARC Set would go: the sets the message has. */
export interface ArcPosition {
  /** The highest instance of any ARC field, 0 when there is none. */
  readonly highest: number;
  /** The `cv=` of the ARC-Seal with the highest instance (lower case), or null. */
  readonly newestCv: string | null;
  /** Why the fields do not form sets 1 to `highest`, one of each kind each; null when they do. */
  readonly problem: string | null;
}

type Kind = "aar" | "ams" | "as";

const KINDS: Record<string, Kind> = {
  "arc-authentication-results": "aar",
  "arc-message-signature": "ams",
  "arc-seal": "as",
};

/** One ARC field of the message. */
interface ArcField {
  readonly kind: Kind;
  /** Null when it has none that parses in 1–50. */
  readonly instance: number | null;
  readonly raw: Uint8Array;
  /** The seal's `cv=`, lower case; null for other kinds or when absent. */
  readonly cv: string | null;
}

const encoder = new TextEncoder();

/**
 * Seals `raw` with a new ARC Set for this hop; see the module documentation for what is signed
 * and when no set is added.
 *
 * @example
 * ```ts
 * const result = await arcSeal(raw, { authResults, chain: "none", key: rsaKey, now: Date.now() });
 * if (result.sealed) queue(result.message);
 * ```
 */
export async function arcSeal(raw: Uint8Array, options: ArcSealOptions): Promise<ArcSealResult> {
  const { key } = options;
  if (key.algorithm !== "rsa-sha256") {
    throw new ArcSealError(
      `Cannot seal with the ${key.algorithm} key "${key.selector}": ARC seals are RSA-SHA256`,
    );
  }
  const message = toCrlf(raw);
  const split = splitMessage(message);
  const fields = arcFields(split);
  const position = positionOf(fields);
  const cv = sealStatus(position, options.chain);
  if (typeof cv !== "string") return { sealed: false, reason: cv.reason };
  const instance = position.highest + 1;
  const t = Math.floor(options.now / 1000);

  const aar = encoder.encode(aarField(instance, options.authResults));
  // RFC 8617 §4.1.2: a DKIM-Signature with i= for v=; relaxed/relaxed (the ARC-Seal's header
  // canonicalisation is relaxed by definition, §5.1.1; the AMS's is chosen as ours for DKIM).
  const names = signedNames(split, AMS_SIGNED_FIELDS, OVERSIGNED_FIELDS);
  const ams = encoder.encode(
    await signedField(
      {
        field: "ARC-Message-Signature",
        tags: [
          `i=${instance}`,
          `a=${key.algorithm}`,
          "c=relaxed/relaxed",
          `d=${key.domain}`,
          `s=${key.selector}`,
          `t=${t}`,
        ],
        headers: names,
        bodyHash: await bodyHash(message, split),
      },
      key,
      headerData(split, names),
    ),
  );
  // RFC 8617 §5.1.1: every set in increasing instance order, AAR, AMS, AS each, then this
  // set's AAR and AMS (its AS follows with an empty b=, added by signedField). §5.1.2: a seal
  // with cv=fail signs its own set only.
  const chain: Uint8Array[] = [];
  if (cv === "pass") {
    for (let i = 1; i < instance; i++) {
      for (const kind of ["aar", "ams", "as"] as const) {
        chain.push(relaxedHeader(fields.find((f) => f.kind === kind && f.instance === i)!.raw));
      }
    }
  }
  chain.push(relaxedHeader(aar), relaxedHeader(ams));
  const seal = encoder.encode(
    await signedField(
      {
        field: "ARC-Seal",
        tags: [
          `i=${instance}`,
          `a=${key.algorithm}`,
          `cv=${cv}`,
          `d=${key.domain}`,
          `s=${key.selector}`,
          `t=${t}`,
        ],
      },
      key,
      concat(chain),
    ),
  );
  return { sealed: true, message: concat([seal, ams, aar, message]), instance, cv };
}

/** The ARC Sets `raw` already carries: the highest instance, its seal's `cv=`, their shape. */
export function arcPosition(raw: Uint8Array): ArcPosition {
  return positionOf(arcFields(splitMessage(toCrlf(raw))));
}

/**
 * The `cv=` for the new set, or why there is none: RFC 8617 §4.2.1 (at most 50 sets), §5.1
 * step 2 (a chain whose newest seal failed is not continued), and the status this hop found,
 * which must fit the fields (none without sets; pass or fail with them, pass only for a
 * complete chain).
 */
function sealStatus(position: ArcPosition, chain: ChainStatus): ChainStatus | { reason: string } {
  if (position.highest >= MAX_ARC_INSTANCE) {
    return { reason: `the chain already has ${MAX_ARC_INSTANCE} ARC sets, the most allowed` };
  }
  if (position.newestCv === "fail") {
    return { reason: `the newest ARC-Seal (i=${position.highest}) says cv=fail` };
  }
  if (position.highest === 0) {
    // An ARC field without a usable instance: nothing we could add would make a valid chain.
    if (position.problem !== null) return { reason: position.problem };
    // RFC 8617 §4.1.3, §5.2 step 3.C: the first set says cv=none.
    return "none";
  }
  if (chain === "none") {
    return { reason: "the message has ARC sets but no chain validation status" };
  }
  if (chain === "pass" && position.problem !== null) {
    return { reason: `the chain was reported to pass, but ${position.problem}` };
  }
  return chain;
}

/** The message's ARC fields, top to bottom. */
function arcFields(split: SplitMessage): ArcField[] {
  const out: ArcField[] = [];
  for (const field of split.fields) {
    const kind = KINDS[field.name.toLowerCase()];
    if (kind === undefined) continue;
    const value = latin1(field.raw).slice(field.name.length).replace(/^[ \t]*:/, "")
      .replace(/\r\n(?=[ \t])/g, "");
    const tags = kind === "aar" ? null : tagList(value);
    // §4.1.1: an AAR starts with "i=N;"; the other two carry an i= tag (§4.2.1).
    const i = kind === "aar"
      ? /^[ \t]*i[ \t]*=[ \t]*([0-9]{1,2})[ \t]*;/.exec(value)?.[1]
      : tags!.get("i");
    const n = i !== undefined && /^[0-9]{1,2}$/.test(i) ? Number(i) : 0;
    out.push({
      kind,
      instance: n >= 1 && n <= MAX_ARC_INSTANCE ? n : null,
      raw: field.raw,
      cv: kind === "as" ? tags!.get("cv")?.toLowerCase() ?? null : null,
    });
  }
  return out;
}

function positionOf(fields: readonly ArcField[]): ArcPosition {
  let highest = 0;
  for (const f of fields) if (f.instance !== null && f.instance > highest) highest = f.instance;
  const newest = fields.find((f) => f.kind === "as" && f.instance === highest && highest > 0);
  let problem: string | null = null;
  if (fields.some((f) => f.instance === null)) {
    problem = "an ARC field has no instance from 1 to 50";
  } else {
    for (let i = 1; i <= highest && problem === null; i++) {
      for (const kind of ["aar", "ams", "as"] as const) {
        const count = fields.filter((f) => f.kind === kind && f.instance === i).length;
        if (count !== 1) {
          problem = `ARC set ${i} has ${count} ${kind.toUpperCase()} fields`;
          break;
        }
      }
    }
  }
  return { highest, newestCv: newest?.cv ?? null, problem };
}

/** RFC 6376 §3.2 tag-list: names to values, white space removed around both. */
function tagList(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const spec of value.split(";")) {
    const eq = spec.indexOf("=");
    if (eq < 0) continue;
    const name = spec.slice(0, eq).trim();
    if (!tags.has(name)) tags.set(name, spec.slice(eq + 1).replace(/[ \t\r\n]+/g, ""));
  }
  return tags;
}

/**
 * The AAR (RFC 8617 §4.1.1, arc-info = instance ";" authres-payload): the payload unfolded,
 * stripped of any line break or control character (so it can start no field of its own), and
 * folded again at its spaces to {@link LINE} columns where the words allow.
 */
function aarField(instance: number, payload: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  const clean = payload.replace(/\r\n(?=[ \t])/g, "").replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  const words = `i=${instance}; ${clean}`.split(/ +/);
  const lines: string[] = [];
  let line = "ARC-Authentication-Results:";
  for (const word of words) {
    if (line.length + 1 + word.length <= LINE) {
      line += ` ${word}`;
    } else {
      lines.push(line);
      line = `\t${word}`;
    }
  }
  lines.push(line);
  return lines.join("\r\n") + "\r\n";
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return s;
}
