import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, type TestStore, withStore } from "../../tests/store.ts";
import { arcpyVerify } from "../../tests/dkimpy.ts";
import { dkimRecordName, dkimRecordText } from "../dkim/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { OverQuotaError, type PreparedQueueEntry, Queue, type TxSql } from "../store/mod.ts";
import { type MailAddress, parseAddress } from "../util/address.ts";
import { type AcceptedMessage, type AcceptedRecipient, Delivery } from "./delivery.ts";
import { Recipients } from "./recipients.ts";

const decoder = new TextDecoder();
const SENDER = parseAddress("sender@remote.example");

/** alice, bob (admin); aliases team (both), fwd (alice + a remote address); example.net → alice. */
async function setUp(t: TestStore, queue?: Queue) {
  const { store } = t;
  const alice = await store.accounts.create({
    address: "alice@example.org",
    password: GOOD_PASSWORD,
  });
  const bob = await store.accounts.create({
    address: "bob@example.org",
    password: GOOD_PASSWORD,
    isAdmin: true,
  });
  await store.aliases.add("team@example.org", ["alice@example.org", "bob@example.org"]);
  await store.aliases.add("fwd@example.org", ["x@remote.example", "alice@example.org"]);
  await store.domains.add("example.net");
  await store.aliases.add("@example.net", ["alice@example.org"]);
  const recipients = new Recipients(store);
  const delivery = new Delivery({
    store: { ...store, queue: queue ?? store.queue },
    hostname: "mx.example.org",
    log: silentLogger,
  });
  /** Resolves like the SMTP session does at RCPT time, then accepts. */
  const accept = async (
    rcpts: readonly (string | "postmaster")[],
    overrides: Partial<AcceptedMessage> = {},
  ) => {
    const resolved: AcceptedRecipient[] = [];
    for (const rcpt of rcpts) {
      const address: MailAddress | "postmaster" = rcpt === "postmaster"
        ? "postmaster"
        : parseAddress(rcpt);
      const resolution = await recipients.resolve(address);
      if (resolution.kind === "unknown") throw new Error(`unknown recipient ${rcpt}`);
      resolved.push({ address, resolution, notify: null, orcpt: null });
    }
    return await delivery.accept({
      raw: sampleMessage("deliver"),
      sender: SENDER,
      recipients: resolved,
      quarantine: null,
      account: null,
      envid: null,
      ret: null,
      ...overrides,
    });
  };
  /** The texts of the messages in an account's mailbox. */
  const mailbox = async (accountId: number, name = "INBOX") => {
    const box = await store.mailboxes.get(accountId, name);
    const list = await store.messages.list(box.id);
    return await Promise.all(
      list.map(async (m) => decoder.decode(await store.messages.read(accountId, m.messageId))),
    );
  };
  return { alice, bob, recipients, delivery, accept, mailbox };
}

const RAW = decoder.decode(sampleMessage("deliver"));

async function counts(t: TestStore) {
  const [row] = await t.store.sql<{ messages: number; queued: number; rcpts: number }[]>`
    select (select count(*)::int from messages) as messages,
           (select count(*)::int from queue_messages) as queued,
           (select count(*)::int from queue_recipients) as rcpts`;
  return row!;
}

Deno.test("alias fan-out: one copy per account, each with its own Delivered-To", async () => {
  await withStore(async (t) => {
    const { alice, bob, accept, mailbox } = await setUp(t);
    const result = await accept(["team@example.org"]);
    assertEquals(result.queueId, null);
    assertEquals(result.delivered.map((d) => d.accountId).sort(), [alice.id, bob.id].sort());
    const prefix = "Return-Path: <sender@remote.example>\r\nDelivered-To: team@example.org\r\n";
    assertEquals(await mailbox(alice.id), [prefix + RAW]);
    assertEquals(await mailbox(bob.id), [prefix + RAW]);
    // The account's own address, given first, is what alice's copy names; bob's came by team.
    await accept(["alice@example.org", "team@example.org"]);
    assertEquals((await mailbox(alice.id))[1]!.split("\r\n")[1], "Delivered-To: alice@example.org");
    assertEquals((await mailbox(bob.id))[1]!.split("\r\n")[1], "Delivered-To: team@example.org");
    assertEquals((await counts(t)).messages, 4, "one stored message per account and delivery");
    // Quota counts the stored bytes, prefix included.
    const stored = new TextEncoder().encode((await mailbox(alice.id))[0]!).length +
      new TextEncoder().encode((await mailbox(alice.id))[1]!).length;
    assertEquals((await t.store.accounts.getById(alice.id)).usedBytes, stored);
  });
});

Deno.test("plus-address, catch-all, bare postmaster and the null sender", async () => {
  await withStore(async (t) => {
    const { alice, bob, accept, mailbox } = await setUp(t);
    await accept(["alice+news@example.org"]);
    await accept(["whoever@example.net"], { sender: null });
    await accept(["postmaster"]);
    const [plus, catchAll] = await mailbox(alice.id);
    assert(plus!.startsWith("Return-Path: <sender@remote.example>\r\n"));
    assertEquals(plus!.split("\r\n")[1], "Delivered-To: alice+news@example.org");
    assert(catchAll!.startsWith("Return-Path: <>\r\nDelivered-To: whoever@example.net\r\n"));
    assertEquals(
      (await mailbox(bob.id))[0],
      "Return-Path: <sender@remote.example>\r\nDelivered-To: postmaster@mx.example.org\r\n" + RAW,
    );
  });
});

Deno.test("a remote forward is queued as received, in the transaction of the local copy", async () => {
  await withStore(async (t) => {
    const { alice, accept, mailbox } = await setUp(t);
    const result = await accept(["fwd@example.org"], { envid: "e-1", ret: "HDRS" });
    assertEquals(result.delivered.map((d) => d.accountId), [alice.id]);
    assert(result.queueId !== null);
    assertEquals((await mailbox(alice.id)).length, 1);
    const queued = await t.store.queue.read(result.queueId);
    assertEquals(decoder.decode(queued.message), RAW, "no Return-Path or Delivered-To");
    assertEquals(queued.sender, "sender@remote.example");
    assertEquals(queued.accountId, null);
    assertEquals([queued.envid, queued.ret], ["e-1", "HDRS"]);
    assertEquals(queued.recipients.map((r) => [r.address, r.orcpt, r.status]), [
      ["x@remote.example", "rfc822;fwd@example.org", "queued"],
    ]);
  });
});

Deno.test("submission to remote recipients: queued once each, with DSN parameters and submitter", async () => {
  await withStore(async (t) => {
    const { alice, delivery } = await setUp(t);
    const remote = { kind: "remote" } as const;
    const fwd = await new Recipients(t.store).resolve(parseAddress("fwd@example.org"));
    assert(fwd.kind === "local");
    const result = await delivery.accept({
      raw: sampleMessage("deliver"),
      sender: parseAddress("alice@example.org"),
      recipients: [
        {
          address: parseAddress("Bob@Remote.example"),
          resolution: remote,
          notify: ["FAILURE", "DELAY"],
          orcpt: { type: "rfc822", address: "Bob@Remote.example" },
        },
        {
          address: parseAddress("bob@remote.example"),
          resolution: remote,
          notify: null,
          orcpt: null,
        },
        {
          address: parseAddress("x@remote.example"),
          resolution: remote,
          notify: "NEVER",
          orcpt: null,
        },
        { address: parseAddress("fwd@example.org"), resolution: fwd, notify: null, orcpt: null },
      ],
      quarantine: null,
      account: { id: alice.id, address: "alice@example.org" },
      envid: null,
      ret: "FULL",
    });
    const queued = await t.store.queue.read(result.queueId!);
    assertEquals(queued.accountId, alice.id);
    assertEquals(queued.sender, "alice@example.org");
    assertEquals(queued.recipients.map((r) => [r.address, r.notify, r.orcpt]), [
      ["Bob@remote.example", "FAILURE,DELAY", "rfc822;Bob@Remote.example"],
      ["x@remote.example", "NEVER", null],
    ]);
    assertEquals(result.delivered.map((d) => d.accountId), [alice.id], "fwd reaches alice too");
  });
});

Deno.test("only remote recipients: a transaction with the queue entry alone", async () => {
  await withStore(async (t) => {
    const { delivery } = await setUp(t);
    const result = await delivery.accept({
      raw: sampleMessage("deliver"),
      sender: null,
      recipients: [{
        address: parseAddress("z@remote.example"),
        resolution: { kind: "remote" },
        notify: null,
        orcpt: null,
      }],
      quarantine: null,
      account: null,
      envid: null,
      ret: null,
    });
    assertEquals(result.delivered, []);
    assertEquals((await t.store.queue.read(result.queueId!)).sender, "");
    assertEquals(await counts(t), { messages: 0, queued: 1, rcpts: 1 });
  });
});

/** A queue whose insert fails after writing, like a constraint or a lost connection would. */
class FailingQueue extends Queue {
  override async insert(tx: TxSql, prepared: PreparedQueueEntry): Promise<number> {
    await super.insert(tx, prepared);
    throw new Error("queue insert failed");
  }
}

Deno.test("mixed local and remote recipients commit together or not at all", async () => {
  await withStore(async (t) => {
    const { alice, bob, accept, mailbox } = await setUp(
      t,
      new FailingQueue(t.store.sql, t.store.vault),
    );
    await assertRejects(
      () => accept(["team@example.org", "fwd@example.org"]),
      Error,
      "queue insert failed",
    );
    assertEquals(await counts(t), { messages: 0, queued: 0, rcpts: 0 });
    assertEquals(await mailbox(alice.id), []);
    assertEquals(await mailbox(bob.id), []);
    assertEquals((await t.store.mailboxes.get(alice.id, "INBOX")).uidNext, 1);
    assertEquals((await t.store.accounts.getById(alice.id)).usedBytes, 0);
    // Local-only mail does not touch the queue, so it still goes through.
    await accept(["team@example.org"]);
    assertEquals((await counts(t)).messages, 2);
  });
});

Deno.test("quarantined mail goes to Junk (INBOX when the account has no Junk mailbox)", async () => {
  await withStore(async (t) => {
    const { alice, bob, accept, mailbox } = await setUp(t);
    const result = await accept(["team@example.org"], { quarantine: "spam score 12" });
    assertEquals(result.delivered.length, 2);
    assertEquals((await mailbox(alice.id, "Junk")).length, 1);
    assertEquals(await mailbox(alice.id), []);
    await t.store.sql`update mailboxes set special_use = null
                      where account_id = ${bob.id} and name = 'Junk'`;
    await accept(["bob@example.org"], { quarantine: "spam" });
    assertEquals((await mailbox(bob.id, "Junk")).length, 1, "the first one only");
    assertEquals((await mailbox(bob.id)).length, 1);
  });
});

Deno.test("over quota: OverQuotaError, nothing stored, nothing queued", async () => {
  await withStore(async (t) => {
    const { alice, bob, accept, mailbox, recipients } = await setUp(t);
    // Room for the message as received, but not for it with its Return-Path and Delivered-To.
    await t.store.accounts.setQuota("alice@example.org", sampleMessage("deliver").length + 10);
    assertEquals(await recipients.overQuota([alice.id, bob.id], RAW.length), []);
    const error = await assertRejects(
      () => accept(["bob@example.org", "fwd@example.org"]),
      OverQuotaError,
    );
    assert(error.temporary, "452 4.2.2, not 5xx");
    assertEquals(await counts(t), { messages: 0, queued: 0, rcpts: 0 });
    assertEquals(await mailbox(bob.id), []);
    assertEquals((await t.store.accounts.getById(bob.id)).usedBytes, 0);
  });
});

Deno.test("MX forwards are ARC-sealed by the domain that forwarded them, a queue entry each", async () => {
  await withStore(async (t) => {
    const { alice, accept, mailbox } = await setUp(t);
    const { store } = t;
    await store.aliases.add("fwd@example.net", ["y@remote.example"]);
    await store.dkimKeys.rotate("example.org");
    await store.dkimKeys.rotate("example.net");
    const records: Record<string, string> = {};
    for (const domain of ["example.org", "example.net"]) {
      for (const key of await store.dkimKeys.published(domain)) {
        records[dkimRecordName(key.selector, domain)] = dkimRecordText(
          key.algorithm,
          key.publicKey,
        );
      }
    }
    const authentication = {
      authResults: "mx.example.org; spf=pass smtp.mailfrom=sender@remote.example; arc=none",
      chain: "none" as const,
    };
    const result = await accept(["fwd@example.org", "fwd@example.net"], { authentication });
    const entries = await Promise.all(
      (await store.queue.list()).map((s) => store.queue.read(s.id)),
    );
    assertEquals(entries.length, 2);
    assertEquals(result.queueId, entries[0]!.id);
    const sealers = entries.map((entry) => {
      const text = decoder.decode(entry.message);
      assert(text.endsWith(RAW), "the message follows the set unchanged");
      return [
        entry.recipients.map((r) => r.address).join(),
        /^ARC-Seal: i=1; a=rsa-sha256; cv=none; d=([a-z.]+);/.exec(text)?.[1],
      ];
    });
    assertEquals(sealers, [["x@remote.example", "example.org"], [
      "y@remote.example",
      "example.net",
    ]]);
    for (const entry of entries) {
      assertEquals((await arcpyVerify(entry.message, records)).cv, "pass");
    }
    // The local copy through the same alias is stored as received.
    assertEquals((await mailbox(alice.id))[0]!.includes("ARC-Seal:"), false);

    // Without this hop's results (no check ran), or submitted by an account: not sealed.
    await accept(["fwd@example.org"]);
    await accept(["fwd@example.org"], {
      authentication,
      account: { id: alice.id, address: alice.address },
    });
    const later = await Promise.all(
      (await store.queue.list()).slice(2).map((s) => store.queue.read(s.id)),
    );
    assertEquals(later.length, 2);
    for (const entry of later) {
      assertEquals(decoder.decode(entry.message).includes("ARC-Seal:"), false);
    }
  });
});
