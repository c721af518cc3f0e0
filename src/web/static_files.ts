/**
 * The web app's assets from static/, read once at start and served from memory under a
 * content-hashed URL (`/static/webmail.js?v=…`), so they can be cached for a year: a new
 * version has a new URL. Only the files listed here are served, with their own media types.
 *
 * @module
 */

/** Served files and their media types. */
const FILES: Readonly<Record<string, string>> = {
  "webmail.css": "text/css; charset=utf-8",
  "webmail.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

/** One asset in memory. */
export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  /** First 16 hex digits of its SHA-256. */
  readonly version: string;
}

/** The assets by file name, and the URL of each. */
export class Assets {
  constructor(readonly files: ReadonlyMap<string, Asset>) {}

  /** Reads the listed files of `dir`. */
  static async load(dir: URL): Promise<Assets> {
    const files = new Map<string, Asset>();
    for (const [name, type] of Object.entries(FILES)) {
      const body = await Deno.readFile(new URL(name, dir));
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      files.set(name, { body, type, version: hash.toHex().slice(0, 16) });
    }
    return new Assets(files);
  }

  /** The versioned URL of a file. */
  url(name: string): string {
    const asset = this.files.get(name);
    if (!asset) throw new Error(`No static file "${name}"`);
    return `/static/${name}?v=${asset.version}`;
  }
}
