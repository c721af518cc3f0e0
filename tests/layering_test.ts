/**
 * The import graph keeps the architecture of shared/STYLE.md: imports point down the layers,
 * never up and never in a cycle; only the store talks to the database; the MIME parser is pure.
 * Read from `deno info --json`, so a new import that breaks a rule fails here, naming it.
 */

import { assertEquals } from "./assert.ts";

/** Layers, lowest first; a module may import from its own folder or a lower layer. */
const LAYER: Record<string, number> = {
  util: 0,
  config: 1,
  ops: 1,
  crypto: 2,
  mime: 2,
  net: 2,
  // The resolver: sockets and a cache, no store; mail authentication and the queue sit above.
  dns: 2,
  "smtp/proto": 2,
  // The outbound client: a connection (net) and the wire format (smtp/proto).
  "smtp/client": 3,
  // Above mime: ENVELOPE and BODYSTRUCTURE are written from src/mime's parsed structure.
  "imap/proto": 3,
  store: 3,
  filter: 3,
  // DKIM signing: over mime (the From address) and crypto (key types); the store hands it keys.
  dkim: 3,
  // MTA-STS policies: discovery and fetching over the resolver (dns), parsing, a cache.
  mtasts: 3,
  // DANE: TLSA lookups over the resolver (dns) and matching a certificate chain against them.
  dane: 3,
  // Webmail rendering: MIME (mime) to sanitised HTML (sanitize-html); pure, like mime.
  "web/render": 3,

  auth: 4,
  // A hosted domain's DNS records: what to publish (dkim's record text) and a check over dns.
  records: 4,
  // Installing as a systemd service: plans, the unit, files; a master key from crypto.
  install: 4,
  acme: 4,
  // Inbound reputation: checks of the filter chain over the resolver (dns) and mime; its
  // greylisting state comes from the store through an interface, wired by server.ts.
  reputation: 4,
  // Mail authentication: SPF, DKIM, DMARC, ARC over the resolver (dns) and mime, as checks of
  // the filter chain (filter); the SMTP server writes its Authentication-Results field.
  mailauth: 4,
  delivery: 5,

  "bootstrap.ts": 5,
  "tls_reload.ts": 5,
  "smtp/server": 6,
  // The queue's worker: DNS, the SMTP client, the store's queue, and delivery for its reports.
  outbound: 6,
  "imap/server": 6,
  // DMARC reports: recorded from mailauth's results, stored (store), sent and read through
  // delivery; wired by server.ts.
  dmarc: 6,
  // The webmail: Hono over HTTPS; sign-in (auth), the store, later delivery for sending.
  web: 6,
  "server.ts": 7,
  cli: 8,
};
/** Folders whose sub-folders are layers of their own (a protocol's wire format and its server). */
const SPLIT = new Set(["smtp", "imap"]);
/** Single sub-folders that are layers of their own, below the rest of their folder. */
const SUB_LAYERS = new Set(["web/render"]);
/** Parsers that take bytes and return values: no I/O, no timers, no npm packages. */
const PURE = new Set(["mime", "smtp/proto", "imap/proto", "dkim", "web/render"]);
/** The npm packages a pure folder may import all the same: pure libraries, no I/O. */
const PURE_NPM: Record<string, string[]> = {
  "web/render": ["sanitize-html", "@types/sanitize-html", "htmlparser2"],
};
/** npm packages only one folder may import. */
const OWNER: Record<string, string> = {
  postgres: "store",
  "@electric-sql/pglite": "store",
  mailauth: "mailauth",
  "sanitize-html": "web/render",
  hono: "web",
};

interface Module {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

const SRC = new URL("../src/", import.meta.url).href;

function area(specifier: string): string | null {
  if (!specifier.startsWith(SRC)) return null;
  const [top, sub] = specifier.slice(SRC.length).split("/");
  if (sub !== undefined && SUB_LAYERS.has(`${top}/${sub}`)) return `${top}/${sub}`;
  return SPLIT.has(top!) && sub !== undefined ? `${top}/${sub}` : top!;
}

function npmName(specifier: string): string | null {
  const match = /^npm:\/?(@[^/@]+\/[^/@]+|[^/@]+)/.exec(specifier);
  return match ? match[1]! : null;
}

Deno.test("imports point down the layers; postgres and PGlite only in store; parsers are pure", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../main.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  assertEquals(success, true);
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as { modules: Module[] };
  const problems: string[] = [];
  for (const module of graph.modules) {
    const from = area(module.specifier);
    if (from === null) continue;
    if (!(from in LAYER)) {
      problems.push(`${module.specifier}: src/${from} has no layer in this test`);
    }
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.code?.specifier ?? dependency.type?.specifier ?? "";
      const to = area(target);
      const name = module.specifier.slice(SRC.length);
      if (to !== null && to !== from && !(LAYER[to]! < LAYER[from]!)) {
        problems.push(`src/${name} imports src/${target.slice(SRC.length)} (up or sideways)`);
      }
      const npm = npmName(target);
      if (npm && OWNER[npm] && OWNER[npm] !== from) problems.push(`src/${name} imports ${npm}`);
      const allowed = npm !== null && (PURE_NPM[from] ?? []).includes(npm);
      if (PURE.has(from) && (target.startsWith("node:") || (npm && !allowed))) {
        problems.push(`src/${name} imports ${target}: src/${from} is pure`);
      }
    }
  }
  assertEquals(problems, []);
});

Deno.test("pure modules use no Deno or Node APIs", async () => {
  const problems: string[] = [];
  for (const folder of PURE) {
    const dir = new URL(`../src/${folder}/`, import.meta.url);
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) continue;
      const source = await Deno.readTextFile(new URL(entry.name, dir));
      const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, ""); // code only
      if (/\bDeno\.|from "node:|setTimeout|setInterval/.test(text)) {
        problems.push(`src/${folder}/${entry.name}`);
      }
    }
  }
  assertEquals(problems, []);
});
