/**
 * Moving mail in and out: `fumi export-mbox` then `fumi import-mbox` into another account
 * gives the same messages (bytes, flags, dates, mailboxes), and a Maildir made by Dovecot's own
 * `doveadm` (Maildir++ and LAYOUT=fs) imports with folders, flags and keywords, checked over IMAP.
 *
 * @module
 */

import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type CliResult, fumi, withCommandDatabase } from "./cli.ts";
import type { ImapClient } from "./imap.ts";
import { mailView, withImapClient } from "./mail_view.ts";
import { GOOD_PASSWORD } from "./store.ts";

const enc = new TextEncoder();

function message(subject: string, body: string): Uint8Array {
  return enc.encode(
    `From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\n` +
      `Date: Tue, 3 Mar 2026 10:00:00 +0000\r\nMessage-ID: <${
        subject.replace(/\W/g, "")
      }@example.org>\r\n\r\n${body}`,
  );
}

function ok(result: CliResult): string[] {
  const shown = `stdout ${JSON.stringify(result.out)}, stderr ${JSON.stringify(result.err)}`;
  assertEquals(result.code, 0, shown);
  return result.out;
}

/** The mail of an account as IMAP shows it, without what differs between accounts. */
function messagesView(store: Store, user: string): Promise<string[]> {
  return withImapClient(store, user, GOOD_PASSWORD, async (client) => {
    const lines = await mailView(client);
    return lines.filter((l) => !/^\* (OK|FLAGS|\d+ EXISTS|\d+ RECENT|LIST)/.test(l));
  });
}

/** FETCH results of a mailbox: flags, INTERNALDATE and the message text, by subject. */
async function fetchAll(
  client: ImapClient,
  mailbox: string,
): Promise<Map<string, { flags: string[]; date: string; text: string }>> {
  const select = await client.command(`F1 SELECT ${JSON.stringify(mailbox)}`);
  assert(select.at(-1)!.startsWith("F1 OK"), select.join("\n"));
  const lines = await client.command("F2 UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])");
  const out = new Map<string, { flags: string[]; date: string; text: string }>();
  const joined = lines.slice(0, -1).join("\r\n");
  for (const part of joined.split(/^(?=\* \d+ FETCH )/m)) {
    const head = /FLAGS \(([^)]*)\) INTERNALDATE "([^"]+)" BODY\[\] \{\d+\}\r\n/.exec(part);
    if (!head) continue;
    const text = part.slice(head.index + head[0].length).replace(/\)\r?\n?$/, "");
    const subject = /^Subject: (.*)$/m.exec(text)![1]!.trim();
    out.set(subject, { flags: head[1]!.split(" ").filter((f) => f).sort(), date: head[2]!, text });
  }
  return out;
}

Deno.test("export-mbox then import-mbox gives the same messages, From lines included", async () => {
  await withCommandDatabase("fumi-mb-", async (env, store, tmp) => {
    await store.domains.add("example.org");
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
    await store.mailboxes.create(alice.id, "Projects");
    await store.mailboxes.create(alice.id, "Projects/2026");
    const tricky = message(
      "From lines",
      "From the start of a line.\r\n>From quoted once.\r\n>>From twice.\r\n\r\nFrom after an empty line.\r\n",
    );
    const date = new Date("2026-02-03T04:05:06Z");
    await store.messages.deliver(
      tricky,
      [{ accountId: alice.id, flags: ["\\Seen", "\\Flagged"] }],
      {
        internalDate: date,
      },
    );
    await store.messages.deliver(message("plain", "Hello.\r\n"), [{ accountId: alice.id }], {
      internalDate: date,
    });
    await store.messages.deliver(
      message("in a folder", "Nested.\r\n"),
      [{
        accountId: alice.id,
        mailbox: "Projects/2026",
        flags: ["\\Answered", "\\Draft", "$Forwarded", "project-x"],
      }],
      { internalDate: date },
    );
    await store.messages.deliver(message("sent", "Sent.\r\n"), [
      { accountId: alice.id, mailbox: "Sent", flags: ["\\Seen"] },
    ], { internalDate: date });

    const file = `${tmp}/alice.mbox`;
    const out = ok(await fumi(["export-mbox", "alice@example.org", file], { env, cwd: tmp }));
    assertEquals(out, [
      `Exported 4 message(s) from 8 mailbox(es) of alice@example.org to ${file}.`,
    ]);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(file);
    assertStringIncludes(
      text,
      "\n>From the start of a line.\n>>From quoted once.\n>>>From twice.\n",
    );
    assertStringIncludes(text, "\n>From after an empty line.\n");
    assertStringIncludes(text, "Status: RO\nX-Status: F\nX-Fumi-Mailbox: INBOX\n\n");
    assertStringIncludes(text, "X-Keywords: $Forwarded project-x\n");
    assertMatch(text, /^From MAILER-DAEMON Tue Feb {2}3 04:05:06 2026\n/);

    const imported = ok(await fumi(["import-mbox", "bob@example.org", file], { env, cwd: tmp }));
    assertEquals(imported, ["Imported 4 message(s) into bob@example.org; skipped 0."]);
    assertEquals(
      await messagesView(store, "bob@example.org"),
      await messagesView(store, "alice@example.org"),
    );
    await withImapClient(store, "bob@example.org", GOOD_PASSWORD, async (client) => {
      const inbox = await fetchAll(client, "INBOX");
      assertEquals(inbox.get("From lines")!.text, new TextDecoder().decode(tricky));
      assertEquals(inbox.get("From lines")!.flags, ["\\Flagged", "\\Seen"]);
      assertEquals(inbox.get("From lines")!.date, " 3-Feb-2026 04:05:06 +0000");
    });

    // One mailbox alone carries no X-Fumi-Mailbox; --mailbox chooses where it goes.
    const one = `${tmp}/folder.mbox`;
    ok(
      await fumi(["export-mbox", "alice@example.org", "--mailbox", "Projects/2026", one], {
        env,
        cwd: tmp,
      }),
    );
    assertEquals((await Deno.readTextFile(one)).includes("X-Fumi-Mailbox"), false);
    ok(
      await fumi(["import-mbox", "bob@example.org", one, "--mailbox", "Imported/Old"], {
        env,
        cwd: tmp,
      }),
    );
    await withImapClient(store, "bob@example.org", GOOD_PASSWORD, async (client) => {
      const folder = await fetchAll(client, "Imported/Old");
      assertEquals([...folder.keys()], ["in a folder"]);
      assertEquals(folder.get("in a folder")!.flags, [
        "$Forwarded",
        "\\Answered",
        "\\Draft",
        "project-x",
      ]);
    });

    // The quota holds: what does not fit is skipped, and the summary says why.
    await store.accounts.create({
      address: "carol@example.org",
      password: GOOD_PASSWORD,
      quotaBytes: 100, // smaller than any of the messages
    });
    assertEquals(ok(await fumi(["import-mbox", "carol@example.org", file], { env, cwd: tmp })), [
      "Imported 0 message(s) into carol@example.org; skipped 4: 4 over quota.",
    ]);

    const notMbox = `${tmp}/not.mbox`;
    await Deno.writeTextFile(notMbox, "hello\nworld\n");
    const refused = await fumi(["import-mbox", "bob@example.org", notMbox], { env, cwd: tmp });
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.err.at(-1)!, "not an mbox file");
    const exists = await fumi(["export-mbox", "alice@example.org", file], { env, cwd: tmp });
    assertEquals(exists.code, 1);
    assertStringIncludes(exists.err.at(-1)!, "exists already");
  });
});

/** Runs doveadm with a private configuration (no daemon, no auth service). */
class Dovecot {
  constructor(readonly dir: string, readonly maildir: string) {}

  static async create(dir: string, layout: "" | ":LAYOUT=fs"): Promise<Dovecot> {
    // Dovecot refuses to access mail as root; as root the test uses nobody's ids.
    const uid = Deno.uid() === 0 ? 65534 : Deno.uid()!;
    const gid = Deno.uid() === 0 ? 65534 : Deno.gid()!;
    for (const sub of ["run", "state", "home"]) {
      await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    }
    const maildir = `${dir}/Maildir`;
    await Deno.writeTextFile(
      `${dir}/dovecot.conf`,
      [
        `base_dir = ${dir}/run`,
        `state_dir = ${dir}/state`,
        "log_path = /dev/stderr",
        "ssl = no",
        `mail_location = maildir:${maildir}${layout}`,
        `mail_uid = ${uid}`,
        `mail_gid = ${gid}`,
        `first_valid_uid = ${uid}`,
        "namespace inbox {\n  inbox = yes\n  separator = /\n}",
        "",
      ].join("\n"),
    );
    await Deno.chmod(dir, 0o755);
    await Deno.chown(dir, uid, gid);
    for (const sub of ["run", "state", "home"]) await Deno.chown(`${dir}/${sub}`, uid, gid);
    return new Dovecot(dir, maildir);
  }

  async run(args: string[], stdin = ""): Promise<void> {
    const child = new Deno.Command("doveadm", {
      args: ["-c", `${this.dir}/dovecot.conf`, ...args],
      env: { USER: "fumitest", HOME: `${this.dir}/home` },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(enc.encode(stdin));
    await writer.close();
    const result = await child.output();
    if (!result.success) {
      throw new Error(`doveadm ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
    }
  }
}

/** Five messages in INBOX, Sent and Projects/2026, with flags and keywords, made by doveadm. */
async function dovecotMaildir(dir: string, layout: "" | ":LAYOUT=fs"): Promise<string> {
  const dovecot = await Dovecot.create(dir, layout);
  const lf = (subject: string, body: string) =>
    new TextDecoder().decode(message(subject, body)).replaceAll("\r\n", "\n");
  await dovecot.run(["save", "-m", "INBOX"], lf("one", "First.\nFrom a line.\n"));
  await dovecot.run(["save", "-m", "INBOX"], lf("two", "Second, unread.\n"));
  await dovecot.run(["save", "-m", "INBOX"], lf("three", "Third.\n"));
  await dovecot.run(["mailbox", "create", "Projects/2026"]);
  await dovecot.run(["save", "-m", "Projects/2026"], lf("four", "Nested.\n"));
  await dovecot.run(["mailbox", "create", "Sent"]);
  await dovecot.run(["save", "-m", "Sent"], lf("five", "Sent.\n"));
  await dovecot.run(["flags", "add", "\\Seen \\Flagged $Label1", "mailbox", "INBOX", "uid", "1"]);
  await dovecot.run(["flags", "add", "\\Answered \\Seen", "mailbox", "INBOX", "uid", "3"]);
  await dovecot.run(["flags", "add", "\\Draft project-x", "mailbox", "Projects/2026", "uid", "1"]);
  await dovecot.run(["flags", "add", "\\Seen", "mailbox", "Sent", "uid", "1"]);
  // Dovecot keeps the received date as the file's modification time.
  for (const sub of ["cur", "new"]) {
    for await (const entry of Deno.readDir(`${dovecot.maildir}/${sub}`)) {
      if (entry.name.includes(",S=") && /:2,.*F/.test(entry.name)) {
        const when = new Date("2020-01-02T03:04:05Z");
        await Deno.utime(`${dovecot.maildir}/${sub}/${entry.name}`, when, when);
      }
    }
  }
  return dovecot.maildir;
}

Deno.test("a Maildir made by doveadm imports with folders, flags and keywords", async (t) => {
  // Dovecot drops root's privileges: its folder must be reachable by that user.
  const dove = await Deno.makeTempDir({ prefix: "fumi-dove-" });
  await Deno.chmod(dove, 0o755);
  try {
    await importMaildirs(t, dove);
  } finally {
    await Deno.remove(dove, { recursive: true });
  }
});

async function importMaildirs(t: Deno.TestContext, dove: string): Promise<void> {
  await withCommandDatabase("fumi-md-", async (env, store, tmp) => {
    await store.domains.add("example.org");
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
    const expectMail = async (user: string) => {
      await withImapClient(store, user, GOOD_PASSWORD, async (client) => {
        const inbox = await fetchAll(client, "INBOX");
        assertEquals([...inbox.keys()], ["one", "two", "three"]);
        assertEquals(inbox.get("one")!.flags, ["$Label1", "\\Flagged", "\\Seen"]);
        assertEquals(inbox.get("one")!.date, " 2-Jan-2020 03:04:05 +0000");
        assertEquals(
          inbox.get("one")!.text,
          new TextDecoder().decode(message("one", "First.\r\nFrom a line.\r\n")),
        );
        assertEquals(inbox.get("two")!.flags, []);
        assertEquals(inbox.get("three")!.flags, ["\\Answered", "\\Seen"]);
        const nested = await fetchAll(client, "Projects/2026");
        assertEquals(nested.get("four")!.flags, ["\\Draft", "project-x"]);
        const sent = await fetchAll(client, "Sent");
        assertEquals(sent.get("five")!.flags, ["\\Seen"]);
      });
    };

    await t.step("Maildir++ (Dovecot's default layout)", async () => {
      const maildir = await dovecotMaildir(`${dove}/pp`, "");
      assert((await Deno.stat(`${maildir}/.Projects.2026/cur`)).isDirectory);
      const out = ok(
        await fumi(["import-maildir", "alice@example.org", maildir], { env, cwd: tmp }),
      );
      assertEquals(out, ["Imported 5 message(s) into alice@example.org; skipped 0."]);
      await expectMail("alice@example.org");
    });

    await t.step("LAYOUT=fs", async () => {
      const maildir = await dovecotMaildir(`${dove}/fs`, ":LAYOUT=fs");
      assert((await Deno.stat(`${maildir}/Projects/2026/cur`)).isDirectory);
      const out = ok(await fumi(["import-maildir", "bob@example.org", maildir], { env, cwd: tmp }));
      assertEquals(out, ["Imported 5 message(s) into bob@example.org; skipped 0."]);
      await expectMail("bob@example.org");
    });

    await t.step("not a Maildir, and a damaged file", async () => {
      const refused = await fumi(["import-maildir", "bob@example.org", `${dove}/pp/run`], {
        env,
        cwd: tmp,
      });
      assertEquals(refused.code, 1);
      assertStringIncludes(refused.err.at(-1)!, "is not a Maildir");
      const damaged = `${tmp}/damaged`;
      await Deno.mkdir(`${damaged}/cur`, { recursive: true });
      await Deno.writeTextFile(
        `${damaged}/cur/1700000000.M1P1.host,S=999:2,S`,
        "Subject: x\n\nshort\n",
      );
      await Deno.writeTextFile(`${damaged}/cur/1700000001.M1P1.host:2,S`, "Subject: y\n\nfine\n");
      const out = ok(await fumi(["import-maildir", "bob@example.org", damaged], { env, cwd: tmp }));
      assertEquals(out, [
        "Imported 1 message(s) into bob@example.org; skipped 1: 1 size differs from the S= in its name (damaged?).",
      ]);
    });
  });
}
