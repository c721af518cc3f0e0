/**
 * mbsync (Debian's isync) syncing alice's INBOX both ways with a local Maildir, over implicit
 * TLS and over STARTTLS, trusting only the test CA: new messages, flags and deletions travel
 * in both directions, and each step is checked on both sides — the Maildir's files and what
 * the store holds.
 *
 * Maildir semantics (mbsync(1), and the Maildir spec): the info suffix `:2,` carries the flags
 * (D draft, F flagged, R replied, S seen, T trashed); mbsync keeps the server's UID in the
 * file name (`,U=n`). A file marked T is a deletion, and so is a file that disappeared; with
 * `Expunge Both` mbsync marks the server copy \Deleted and expunges it.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { type ImapFixture, withImap } from "./imap.ts";
import { runTool } from "./smtp_clients.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

const decoder = new TextDecoder();

/** A message file of the Maildir. */
interface LocalMessage {
  /** "new" or "cur". */
  readonly dir: string;
  readonly file: string;
  /** The server UID mbsync wrote into the name, if any. */
  readonly uid: number | null;
  /** The Maildir flags (letters after `:2,`). */
  readonly flags: string;
  readonly subject: string;
}

/** Lists the Maildir's messages, ordered by subject. */
async function maildir(path: string): Promise<LocalMessage[]> {
  const out: LocalMessage[] = [];
  for (const dir of ["new", "cur"]) {
    for await (const entry of Deno.readDir(`${path}/${dir}`)) {
      if (!entry.isFile) continue;
      const text = await Deno.readTextFile(`${path}/${dir}/${entry.name}`);
      const subject = /^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? "";
      const uid = /,U=(\d+)/.exec(entry.name)?.[1];
      const flags = /:2,([A-Za-z]*)$/.exec(entry.name)?.[1] ?? "";
      out.push({ dir, file: entry.name, uid: uid ? Number(uid) : null, flags, subject });
    }
  }
  return out.sort((a, b) => a.subject.localeCompare(b.subject));
}

/** The server's INBOX: [subject, uid, flags], ordered by subject. */
async function serverInbox(t: ImapFixture): Promise<[string, number, string[]][]> {
  const { mailboxes, messages } = t.store;
  const inbox = await mailboxes.get(t.alice.id, "INBOX");
  const out: [string, number, string[]][] = [];
  for (const m of await messages.list(inbox.id)) {
    const text = decoder.decode(await messages.read(t.alice.id, m.messageId));
    const subject = /^Subject: (.*)$/m.exec(text)?.[1]?.trim() ?? "";
    out.push([subject, m.uid, [...m.flags]]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The mbsync configuration: one IMAP account, a Maildir store, and a channel for INBOX. */
function config(t: ImapFixture, dir: string, mode: "IMAPS" | "STARTTLS"): string {
  return [
    "IMAPAccount fumi",
    // isync 1.4 matches the certificate's DNS names only, not its IP addresses; the
    // listener is on 127.0.0.1, which mbsync reaches by trying each address of localhost.
    "Host localhost",
    `Port ${mode === "IMAPS" ? t.ports.imaps : t.ports.imap}`,
    `User ${t.alice.address}`,
    `Pass "${GOOD_PASSWORD}"`,
    // isync 1.4 names it SSLType; 1.5 renamed it TLSType and still reads the old name.
    `SSLType ${mode}`,
    "SystemCertificates no",
    `CertificateFile ${t.caFile}`,
    "Timeout 20",
    "",
    "IMAPStore fumi-remote",
    "Account fumi",
    "",
    "MaildirStore fumi-local",
    `Path ${dir}/mail/`,
    `Inbox ${dir}/mail/INBOX`,
    "",
    "Channel fumi-inbox",
    "Far :fumi-remote:",
    "Near :fumi-local:",
    "Patterns INBOX",
    "Sync All",
    "Create Both",
    "Expunge Both",
    "SyncState *",
    "",
  ].join("\n");
}

/** Runs mbsync on every channel, bounded; fails with its output when it does. */
async function mbsync(configFile: string): Promise<string> {
  const result = await runTool("mbsync", ["-c", configFile, "-a"], 60_000);
  if (result.code !== 0) {
    throw new Error(`mbsync failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout + result.stderr;
}

const LOCAL_NEW = [
  "From: Alice <alice@example.org>",
  "To: Bob <bob@example.org>",
  "Subject: Written offline",
  "Date: Sat, 28 Nov 2026 08:00:00 +0000",
  "Message-ID: <offline@example.org>",
  "",
  "Composed in the Maildir, pushed by mbsync.",
  "",
].join("\r\n");

for (const mode of ["IMAPS", "STARTTLS"] as const) {
  Deno.test(`mbsync: ${mode}, two-way sync of INBOX with flags and deletions`, async () => {
    await withImap(async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "fumi-mbsync-" });
      try {
        const { mailboxes, messages } = t.store;
        const inbox = await mailboxes.get(t.alice.id, "INBOX");
        // Server: four messages; "d" is already flagged.
        for (const marker of ["a", "b", "c", "d"]) {
          const flags = marker === "d" ? ["\\Flagged"] : [];
          await messages.deliver(sampleMessage(marker), [{ accountId: t.alice.id, flags }]);
        }
        const configFile = `${dir}/mbsyncrc`;
        await Deno.writeTextFile(configFile, config(t, dir, mode));
        // The store's root must exist; "Create Both" makes the INBOX Maildir in it.
        await Deno.mkdir(`${dir}/mail`);
        const box = `${dir}/mail/INBOX`;

        // 1. First sync pulls all four, with their flags and UIDs.
        await mbsync(configFile);
        let local = await maildir(box);
        assertEquals(local.map((m) => [m.subject, m.uid, m.flags]), [
          ["Secret subject a", 1, ""],
          ["Secret subject b", 2, ""],
          ["Secret subject c", 3, ""],
          ["Secret subject d", 4, "F"],
        ]);
        // Maildir keeps LF line ends; mbsync adds its X-TUID header, and nothing else changes.
        const pulled = await Deno.readTextFile(`${box}/${local[0]!.dir}/${local[0]!.file}`);
        assertEquals(
          pulled.replace(/^X-TUID: .*\n/m, ""),
          decoder.decode(sampleMessage("a")).replaceAll("\r\n", "\n"),
        );

        // 2. Locally: read "a" (S), trash "b" (T), remove "c", write a new message.
        const [a, b, c] = local as [LocalMessage, LocalMessage, LocalMessage];
        const base = (m: LocalMessage) => m.file.replace(/:2,[A-Za-z]*$/, "");
        await Deno.rename(`${box}/${a.dir}/${a.file}`, `${box}/cur/${base(a)}:2,S`);
        await Deno.rename(`${box}/${b.dir}/${b.file}`, `${box}/cur/${base(b)}:2,T`);
        await Deno.remove(`${box}/${c.dir}/${c.file}`);
        await Deno.writeTextFile(`${box}/new/1764316800.fumi-test.localhost`, LOCAL_NEW);
        await mbsync(configFile);

        // The server: "a" seen, "b" and "c" expunged, the new one appended (UID 5).
        assertEquals(await serverInbox(t), [
          ["Secret subject a", 1, ["\\Seen"]],
          ["Secret subject d", 4, ["\\Flagged"]],
          ["Written offline", 5, []],
        ]);
        const appended = (await messages.list(inbox.id)).find((m) => m.uid === 5)!;
        // mbsync tags what it uploads with X-TUID; the rest arrives as written.
        const uploaded = decoder.decode(await messages.read(t.alice.id, appended.messageId));
        assertEquals(uploaded.replace(/^X-TUID: .*\r\n/m, ""), LOCAL_NEW);
        // Locally: the trashed file is gone too, and the new one now carries its UID.
        local = await maildir(box);
        assertEquals(local.map((m) => [m.subject, m.uid, m.flags]), [
          ["Secret subject a", 1, "S"],
          ["Secret subject d", 4, "F"],
          ["Written offline", 5, ""],
        ]);

        // 3. On the server: flag "offline" as answered, unflag "d", expunge "a", deliver one.
        await messages.setFlags(inbox.id, [5], "add", ["\\Answered", "\\Seen"]);
        await messages.setFlags(inbox.id, [4], "remove", ["\\Flagged"]);
        await messages.setFlags(inbox.id, [1], "add", ["\\Deleted"]);
        assertEquals(await messages.expunge(inbox.id, [1]), [1]);
        await messages.deliver(sampleMessage("e"), [{ accountId: t.alice.id }]);
        await mbsync(configFile);

        local = await maildir(box);
        assertEquals(local.map((m) => [m.subject, m.uid, m.flags]), [
          ["Secret subject d", 4, ""],
          ["Secret subject e", 6, ""],
          ["Written offline", 5, "RS"],
        ]);
        const e = local[1]!;
        const text = await Deno.readTextFile(`${box}/${e.dir}/${e.file}`);
        assertStringIncludes(text, "Body line with the marker e-body.");

        // 4. A sync with nothing to do changes nothing on either side.
        const before = await serverInbox(t);
        await mbsync(configFile);
        assertEquals(await serverInbox(t), before);
        assertEquals(await maildir(box), local);
        assertEquals(before, [
          ["Secret subject d", 4, []],
          ["Secret subject e", 6, []],
          ["Written offline", 5, ["\\Answered", "\\Seen"]],
        ]);
        // Bob's INBOX was never touched.
        const bobInbox = await mailboxes.get(t.bob.id, "INBOX");
        assertEquals((await messages.list(bobInbox.id)).length, 0);
        assert(
          (await Deno.stat(`${box}/.mbsyncstate`)).isFile,
          "SyncState * keeps the state in the Maildir",
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  });
}
