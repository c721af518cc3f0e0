/**
 * IMAP by hand: what the real clients never do (refusals before TLS, over-large literals,
 * injected commands, a run of bad commands) and IDLE push, as short transcripts.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { ImapClient, signedIn, withImap } from "./imap.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

function last(lines: string[]): string {
  return lines[lines.length - 1]!;
}

Deno.test("IMAP: before STARTTLS on 143, LOGINDISABLED, no AUTH=, and LOGIN is refused", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connect(t.ports.imap);
    try {
      const greeting = (await c.line())!;
      assertMatch(greeting, /^\* OK \[CAPABILITY [^\]]*LOGINDISABLED/);
      assert(!greeting.includes("AUTH="), greeting);
      const caps = await c.command("a1 CAPABILITY");
      assertStringIncludes(caps[0]!, "STARTTLS");
      assertStringIncludes(caps[0]!, "LOGINDISABLED");
      assert(!caps[0]!.includes("AUTH="), caps[0]);
      assertMatch(last(await c.command(`a2 LOGIN alice@example.org "${GOOD_PASSWORD}"`)), /^a2 NO/);
      assertMatch(last(await c.command("a3 AUTHENTICATE PLAIN")), /^a3 NO/);
      // After STARTTLS: AUTH= is offered, LOGINDISABLED is gone, LOGIN works.
      assertEquals(last(await c.command("a4 STARTTLS")), "a4 OK Begin TLS negotiation now");
      await c.startTls(t.caPem);
      const after = await c.command("a5 CAPABILITY");
      assertStringIncludes(after[0]!, "AUTH=PLAIN");
      assert(!after[0]!.includes("LOGINDISABLED") && !after[0]!.includes("STARTTLS"), after[0]);
      assertMatch(
        last(await c.command(`a6 LOGIN alice@example.org "${GOOD_PASSWORD}"`)),
        /^a6 OK \[CAPABILITY /,
      );
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: a command sent with STARTTLS in the same packet is not executed", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connect(t.ports.imap);
    try {
      await c.line();
      await c.send(`a1 STARTTLS\r\na2 LOGIN alice@example.org "${GOOD_PASSWORD}"\r\n`);
      assertEquals(await c.line(), "a1 OK Begin TLS negotiation now");
      await c.startTls(t.caPem);
      // The injected LOGIN was discarded: the session is still not authenticated.
      assertMatch(last(await c.command("a3 SELECT INBOX")), /^a3 BAD/);
      assertMatch(last(await c.command("a4 NOOP")), /^a4 OK/);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: before authentication a large literal gets no continuation", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connect(t.ports.imaps).catch(() => null) ?? null;
    c?.close();
    const s = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await s.line();
      await s.send("a1 LOGIN {100000}\r\n");
      const reply = (await s.line())!;
      assertMatch(reply, /^a1 BAD \[TOOBIG\]/);
      // Still usable: the literal was never invited.
      assertMatch(last(await s.command("a2 NOOP")), /^a2 OK/);
      // A small one is invited.
      await s.send("a3 LOGIN {17}\r\n");
      assertMatch((await s.line())!, /^\+ /);
      await s.send(`alice@example.org "${GOOD_PASSWORD}"\r\n`);
      assertMatch(last(await s.until("a3 ")), /^a3 OK/);
      // A non-synchronising literal too large before authentication ends the session.
      const u = await ImapClient.connectTls(t.ports.imaps, t.caPem);
      await u.line();
      await u.send("b1 LOGIN {100000+}\r\n");
      assertMatch((await u.line())!, /^b1 BAD \[TOOBIG\]/);
      assertMatch((await u.line())!, /^\* BYE/);
      assert(await u.closedByServer());
      u.close();
    } finally {
      s.close();
    }
  });
});

Deno.test("IMAP: 20 bad commands end the session with BYE", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await c.line();
      for (let i = 1; i < 20; i++) assertMatch(last(await c.command(`x${i} FROB`)), /BAD/);
      await c.send("x20 FROB\r\n");
      assertMatch((await c.line())!, /^x20 BAD/);
      assertMatch((await c.line())!, /^\* BYE/);
      assert(await c.closedByServer());
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: IDLE hears a delivery within a second", async () => {
  await withImap(async (t) => {
    const c = await signedIn(t);
    try {
      const select = await c.command("s1 SELECT INBOX");
      assert(select.includes("* 0 EXISTS"), select.join("\n"));
      await c.send("i1 IDLE\r\n");
      assertMatch((await c.line())!, /^\+ /);
      const started = Date.now();
      await t.store.messages.deliver(sampleMessage("idle"), [{ accountId: t.alice.id }]);
      assertEquals(await c.line(1000), "* 1 EXISTS");
      assert(Date.now() - started < 1000);
      await c.send("DONE\r\n");
      assertEquals(await c.line(), "i1 OK IDLE terminated");
      assertMatch(last(await c.command("l1 LOGOUT")), /^l1 OK/);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: a client that does not sign in in time gets BYE", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await c.line();
      assertMatch((await c.line(3000))!, /^\* BYE Autologout/);
      assert(await c.closedByServer());
    } finally {
      c.close();
    }
  }, { settings: { preAuthTimeoutMs: 300 } });
});

Deno.test("IMAP: LIST with a pile of wildcards answers at once", async () => {
  await withImap(async (t) => {
    const c = await signedIn(t);
    try {
      assertMatch(last(await c.command('a1 CREATE "abcdefgh/abcdefgh/abcdefgh/z"')), /^a1 OK/);
      const started = Date.now();
      const lines = await c.command(`a2 LIST "" "${"*".repeat(40)}q"`);
      assertEquals(last(lines), "a2 OK LIST completed");
      assert(Date.now() - started < 2000, `LIST took ${Date.now() - started} ms`);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: a FETCH that would copy a message many times is refused with [LIMIT]", async () => {
  await withImap(async (t) => {
    await t.store.messages.deliver(sampleMessage("big", 20_000), [{ accountId: t.alice.id }]);
    const c = await signedIn(t);
    try {
      await c.command("a1 SELECT INBOX");
      const items = Array.from({ length: 8 }, (_, i) => `BODY.PEEK[]<${i}.20000>`).join(" ");
      assertMatch(last(await c.command(`a2 FETCH 1 (${items})`)), /^a2 NO \[LIMIT\]/);
      // One copy is fine.
      assertMatch(last(await c.command("a3 FETCH 1 (BODY.PEEK[])")), /^a3 OK/);
    } finally {
      c.close();
    }
  }, { settings: { maxMessageSize: 50_000 } });
});

Deno.test("IMAP: the time to sign in is one budget, NOOPs and a silent AUTHENTICATE included", async () => {
  await withImap(async (t) => {
    for (const stall of ["noops", "authenticate"]) {
      const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
      try {
        await c.line();
        const started = Date.now();
        if (stall === "noops") {
          for (let i = 0; i < 20 && Date.now() - started < 2000; i++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            const lines = await c.command(`n${i} NOOP`).catch(() => ["closed"]);
            if (!last(lines).startsWith(`n${i} OK`)) break;
          }
        } else {
          await c.send("a1 AUTHENTICATE PLAIN\r\n");
          assertMatch((await c.line())!, /^\+/);
        }
        assert(await c.closedByServer(), `${stall}: the server closes`);
        const waited = Date.now() - started;
        assert(waited < 2000, `${stall}: closed after ${waited} ms`);
      } finally {
        c.close();
      }
    }
  }, { settings: { preAuthTimeoutMs: 500 } });
});

Deno.test("IMAP: commands before sign-in are bounded", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await c.line();
      let closed = false;
      for (let i = 0; i < 40 && !closed; i++) {
        const lines = await c.command(`c${i} CAPABILITY`).catch(() => ["* BYE"]);
        closed = lines.some((l) => l.startsWith("* BYE"));
      }
      assert(closed, "BYE after a bounded number of commands");
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: after sign-in only APPEND may be megabytes long", async () => {
  await withImap(async (t) => {
    const c = await signedIn(t);
    try {
      await c.command("a1 SELECT INBOX");
      const big = "x".repeat(1100 * 1024);
      await c.send(`a2 SEARCH SUBJECT {${big.length}+}\r\n${big}\r\n`);
      let reply: string | null = null;
      while ((reply = await c.line()) !== null && !reply.startsWith("a2 ")) { /* untagged */ }
      assertMatch(reply!, /^a2 BAD \[TOOBIG\]/);
      assertMatch(last(await c.command("a3 NOOP")), /^a3 OK/);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: an IDLE that is never ended is ended by the server (BYE)", async () => {
  await withImap(async (t) => {
    const c = await signedIn(t);
    try {
      await c.command("a1 SELECT INBOX");
      await c.send("a2 IDLE\r\n");
      assertMatch((await c.line())!, /^\+/);
      const started = Date.now();
      let line: string | null;
      while ((line = await c.line(5000)) !== null && !line.startsWith("* BYE")) { /* updates */ }
      assertMatch(line ?? "", /^\* BYE/);
      assert(Date.now() - started < 3000, `ended after ${Date.now() - started} ms`);
    } finally {
      c.close();
    }
  }, { settings: { idleMaxMs: 400 } });
});

Deno.test("IMAP: signed-in sessions per account and address are bounded on both listeners ([LIMIT])", async () => {
  await withImap(async (t) => {
    const open = [await signedIn(t), await signedIn(t)];
    try {
      // The third, on the STARTTLS listener: the count is shared.
      const c = await ImapClient.connect(t.ports.imap);
      open.push(c);
      await c.line();
      assertMatch(last(await c.command("s1 STARTTLS")), /^s1 OK/);
      await c.startTls(t.caPem);
      const refused = last(await c.command(`s2 LOGIN alice@example.org "${GOOD_PASSWORD}"`));
      assertMatch(refused, /^s2 NO \[LIMIT\] Too many connections/);
      // Still not signed in, and another account from the same address is not affected.
      assertMatch(last(await c.command("s3 SELECT INBOX")), /^s3 BAD/);
      assertMatch(last(await c.command(`s4 LOGIN bob@example.org "${GOOD_PASSWORD}"`)), /^s4 OK/);
      // One of alice's leaves: her next sign-in is served.
      await open[0]!.command("x LOGOUT");
      let again = "";
      for (let i = 0; i < 50 && !again.startsWith("a OK"); i++) {
        const d = await ImapClient.connectTls(t.ports.imaps, t.caPem);
        await d.line();
        again = last(await d.command(`a LOGIN alice@example.org "${GOOD_PASSWORD}"`));
        d.close();
        if (!again.startsWith("a OK")) await new Promise((r) => setTimeout(r, 20));
      }
      assertMatch(again, /^a OK/);
    } finally {
      for (const c of open) c.close();
    }
  }, { connectionsPerUserIp: 2 });
});
