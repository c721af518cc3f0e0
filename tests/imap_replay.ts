/**
 * Replays golden IMAP transcripts (`C:` / `S:` lines) against the test server, for
 * tests/imap_transcript_test.ts (RFC 9051 §6's examples) and tests/imap_list_test.ts (RFC
 * 5258 §5's).
 *
 * @module
 */

import { ImapClient, type ImapFixture } from "./imap.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** Actions a transcript can run between lines (`DO: name`). */
export type Actions = Readonly<Record<string, () => Promise<void>>>;

/** A pattern where `…` matches any run of characters and everything else is literal. */
function pattern(want: string): RegExp {
  const parts = want.split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/**
 * Replays a transcript. `C: text` is sent with CRLF; `S: text` must match the next line, where
 * `…` matches any run of characters; a run of `U: text` lines must match as many lines in any
 * order (LIST answers, whose order the RFC leaves open and the database collation decides);
 * `TLS` upgrades the connection (after STARTTLS); `DO: name` runs an action; `CLOSED` expects
 * the server to have closed; `#` starts a comment. Lines are trimmed, so `S:` alone expects an
 * empty line.
 */
export async function replay(
  t: ImapFixture,
  start: "imap" | "imaps",
  transcript: string,
  actions: Actions = {},
): Promise<void> {
  const c = start === "imaps"
    ? await ImapClient.connectTls(t.ports.imaps, t.caPem)
    : await ImapClient.connect(t.ports.imap);
  const next = async (want: string) => {
    const line = await c.line();
    if (line === null) throw new Error(`Connection closed; expected ${JSON.stringify(want)}`);
    return line;
  };
  try {
    const lines = transcript.split("\n").map((l) => l.trim());
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw === "" || raw.startsWith("#")) continue;
      if (raw === "C:" || raw.startsWith("C: ")) {
        await c.send(`${raw.slice(3)}\r\n`);
      } else if (raw === "S:" || raw.startsWith("S: ")) {
        const want = raw.slice(3);
        const line = await next(want);
        if (!pattern(want).test(line)) {
          throw new Error(`Expected ${JSON.stringify(want)}, got ${JSON.stringify(line)}`);
        }
      } else if (raw.startsWith("U: ")) {
        const wanted = [raw.slice(3)];
        while (lines[i + 1]?.startsWith("U: ")) wanted.push(lines[++i]!.slice(3));
        const got: string[] = [];
        for (const want of [...wanted]) got.push(await next(want));
        for (const line of got) {
          const at = wanted.findIndex((want) => pattern(want).test(line));
          if (at === -1) {
            throw new Error(`Unexpected ${JSON.stringify(line)}; wanted ${JSON.stringify(wanted)}`);
          }
          wanted.splice(at, 1);
        }
      } else if (raw === "TLS") {
        await c.startTls(t.caPem);
      } else if (raw.startsWith("DO: ")) {
        const action = actions[raw.slice(4)];
        if (!action) throw new Error(`No action ${JSON.stringify(raw)}`);
        await action();
      } else if (raw === "CLOSED") {
        if (!(await c.closedByServer())) throw new Error("Expected the server to close");
      } else {
        throw new Error(`Bad transcript line ${JSON.stringify(raw)}`);
      }
    }
  } finally {
    c.close();
  }
}

/** Signs alice in with LOGIN (the server's capabilities after it are not checked). */
export const LOGIN = `C: L1 LOGIN alice@example.org "${GOOD_PASSWORD}"
S: L1 OK [CAPABILITY …] Signed in`;
