import { X509Certificate } from "node:crypto";
import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import {
  removeScriptedPki,
  scriptedPki,
  withScriptedServer,
} from "../../../tests/scripted_smtp.ts";
import { withSmtp } from "../../../tests/smtp.ts";
import { connectTo } from "../../net/connection.ts";
import {
  type ClientOptions,
  dotStuff,
  type OutboundMessage,
  SessionRefusedError,
  SmtpClient,
  TlsRequiredError,
} from "./mod.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const { pki, leaf } = await scriptedPki();

function clientOptions(overrides: Partial<ClientOptions> = {}): ClientOptions {
  return {
    heloName: "fumi.example.org",
    tls: "opportunistic",
    serverName: "mx.example.net",
    ca: [pki.caPem],
    timeouts: { greeting: 2000, command: 2000, mail: 2000, rcpt: 2000, dataEnd: 2000 },
    ...overrides,
  };
}

async function open(port: number, overrides: Partial<ClientOptions> = {}): Promise<SmtpClient> {
  return await SmtpClient.open(await connectTo("127.0.0.1", port, 2000), clientOptions(overrides));
}

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    sender: "alice@example.org",
    recipients: [
      { address: "one@example.net", notify: null, orcpt: null },
      { address: "two@example.net", notify: null, orcpt: null },
    ],
    envid: null,
    ret: null,
    content: encoder.encode("Subject: hi\r\n\r\n.leading dot\r\nbody\r\n"),
    smtputf8: false,
    ...overrides,
  };
}

Deno.test("dotStuff doubles leading dots, adds a missing CRLF and the final dot", () => {
  const text = (s: string) => decoder.decode(dotStuff(encoder.encode(s)));
  assertEquals(text(".a\r\nb\r\n..c\r\n"), "..a\r\nb\r\n...c\r\n.\r\n");
  assertEquals(text("no newline"), "no newline\r\n.\r\n");
  assertEquals(text(""), ".\r\n");
});

Deno.test("client: pipelined, STARTTLS verified, one recipient refused, the other delivered", async () => {
  await withScriptedServer(
    (command) => command.startsWith("RCPT TO:<two@") ? "550 5.1.1 No such user" : null,
    {},
    async (server) => {
      const client = await open(server.port, { tls: "verify" });
      assert(client.tls?.verified, "certificate verified for mx.example.net");
      const results = await client.send(message());
      assertEquals(results.map((r) => [r.address, r.outcome, r.reply.code]), [
        ["one@example.net", "delivered", 250],
        ["two@example.net", "permanent", 550],
      ]);
      assertEquals(results[1]!.reply.enhanced, "5.1.1");
      await client.quit();
      // After STARTTLS: EHLO again; MAIL, both RCPTs and DATA as one pipelined group.
      assertEquals(server.seen.slice(0, 3), [
        "EHLO fumi.example.org",
        "STARTTLS",
        "EHLO fumi.example.org",
      ]);
      assertEquals(server.seen.slice(3, 7), [
        "MAIL FROM:<alice@example.org> SIZE=35",
        "RCPT TO:<one@example.net>",
        "RCPT TO:<two@example.net>",
        "DATA",
      ]);
      assertEquals(server.contents, ["Subject: hi\r\n\r\n..leading dot\r\nbody"]);
    },
  );
});

Deno.test("client: temporary and permanent failures at each stage", async () => {
  const cases: [string, string, string[]][] = [
    ["MAIL FROM", "451 4.3.0 Try later", ["temporary", "temporary"]],
    ["RCPT TO:<one@", "452 4.2.2 Mailbox full", ["temporary", "delivered"]],
    ["DATA", "554 5.5.1 No valid recipients", ["permanent", "permanent"]],
    [".", "552 5.3.4 Too big after all", ["permanent", "permanent"]],
  ];
  for (const [at, answer, outcomes] of cases) {
    for (const extensions of [["PIPELINING", "8BITMIME"], ["8BITMIME"]]) {
      await withScriptedServer(
        (command) => command.startsWith(at) ? answer : null,
        { extensions },
        async (server) => {
          const client = await open(server.port, { tls: "none" });
          const results = await client.send(message());
          assertEquals(results.map((r) => r.outcome), outcomes, `${at} ${extensions}`);
          await client.quit();
        },
      );
    }
  }
});

Deno.test("client: a refusing greeting, and HELO when EHLO is unknown", async () => {
  await withScriptedServer(() => null, { greeting: "554 5.7.1 Go away" }, async (server) => {
    const error = await assertRejects(() => open(server.port), SessionRefusedError);
    assertEquals(error.reply.code, 554);
  });
  await withScriptedServer(
    (command) => command.startsWith("EHLO") ? "502 5.5.1 What?" : null,
    {},
    async (server) => {
      const client = await open(server.port);
      assertEquals(client.extensions.size, 0);
      assertEquals(client.tls, null, "no STARTTLS without EHLO");
      // Without 8BITMIME an 8-bit message is refused before anything is sent.
      const results = await client.send(message({ content: encoder.encode("Subject: é\r\n\r\n") }));
      assertEquals(results.map((r) => [r.outcome, r.reply.enhanced, r.local]), [
        ["permanent", "5.6.3", true],
        ["permanent", "5.6.3", true],
      ]);
      const sent = await client.send(message());
      assertEquals(sent.map((r) => r.outcome), ["delivered", "delivered"]);
      await client.quit();
      assert(server.seen.includes("HELO fumi.example.org"));
    },
  );
});

Deno.test("client: TLS policy — verify needs STARTTLS and the right name; opportunistic takes any", async () => {
  await withScriptedServer(() => null, { extensions: ["PIPELINING"] }, async (server) => {
    await assertRejects(() => open(server.port, { tls: "verify" }), TlsRequiredError, "STARTTLS");
    const clear = await open(server.port, { tls: "opportunistic" });
    assertEquals(clear.tls, null);
    await clear.quit();
  });
  await withScriptedServer(() => null, {}, async (server) => {
    await assertRejects(
      () => open(server.port, { tls: "verify", serverName: "other.example.net" }),
      TlsRequiredError,
      "handshake",
    );
    // Opportunistic TLS: encrypted although the certificate is not for this name.
    const client = await open(server.port, { serverName: "other.example.net" });
    assert(client.tls !== null && !client.tls.verified);
    assertEquals(client.tls.verifyError, "ERR_TLS_CERT_ALTNAME_INVALID");
    await client.quit();
  });
});

Deno.test("client: TLS policy — required needs STARTTLS, takes any certificate and hands over the chain", async () => {
  await withScriptedServer(() => null, { extensions: ["PIPELINING"] }, async (server) => {
    await assertRejects(() => open(server.port, { tls: "required" }), TlsRequiredError, "STARTTLS");
  });
  await withScriptedServer(() => null, {}, async (server) => {
    // For DANE (RFC 7672 §3.1.1) the caller judges the certificate: a wrong name is no failure.
    const client = await open(server.port, { tls: "required", serverName: "other.example.net" });
    assert(client.tls !== null && !client.tls.verified);
    // The server sent its certificate alone; node adds the issuer it found among `ca`.
    const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
    assertEquals(client.tls.peerCertificates, [der(leaf.certPem), der(pki.caPem)]);
    await client.quit();
  });
});

Deno.test("client: SIZE is respected and DSN parameters are passed on when offered", async () => {
  await withScriptedServer(
    () => null,
    { extensions: ["SIZE 20", "DSN", "8BITMIME"] },
    async (s) => {
      const client = await open(s.port, { tls: "none" });
      const tooBig = await client.send(message());
      assertEquals(tooBig.map((r) => [r.outcome, r.reply.code, r.local]), [
        ["permanent", 552, true],
        ["permanent", 552, true],
      ]);
      const small = await client.send(message({
        content: encoder.encode("x\r\n"),
        envid: "id+1",
        ret: "HDRS",
        recipients: [{ address: "one@example.net", notify: "FAILURE,DELAY", orcpt: "rfc822;ü@x" }],
      }));
      assertEquals(small.map((r) => r.outcome), ["delivered"]);
      await client.quit();
      assertEquals(s.seen.slice(-4, -1), [
        "MAIL FROM:<alice@example.org> SIZE=3 RET=HDRS ENVID=id+2B1",
        "RCPT TO:<one@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;+C3+BC@x",
        "DATA",
      ]);
    },
  );
});

Deno.test("client: REQUIRETLS only under TLS to a server that offers it (RFC 8689 §4.2.1)", async () => {
  const extensions = ["PIPELINING", "STARTTLS", "REQUIRETLS"];
  await withScriptedServer(() => null, { extensions }, async (s) => {
    const refusedFor = async (client: SmtpClient, text: string) => {
      const results = await client.send(message({ requireTls: true }));
      assertEquals(results.map((r) => [r.outcome, r.reply.enhanced, r.local]), [
        ["permanent", "5.7.30", true],
        ["permanent", "5.7.30", true],
      ], text);
    };
    // Offered, but in clear: not sent.
    const clear = await open(s.port, { tls: "none" });
    await refusedFor(clear, "in clear");
    await clear.quit();
    const secure = await open(s.port, { tls: "verify" });
    const results = await secure.send(message({ requireTls: true }));
    assertEquals(results.map((r) => r.outcome), ["delivered", "delivered"]);
    await secure.quit();
    assertEquals(s.seen.filter((l) => l.startsWith("MAIL")), [
      "MAIL FROM:<alice@example.org> REQUIRETLS",
    ]);
  });
  await withScriptedServer(() => null, { extensions: ["STARTTLS"] }, async (s) => {
    // Under TLS, but REQUIRETLS is not offered: nothing is sent.
    const client = await open(s.port, { tls: "verify" });
    const results = await client.send(message({ requireTls: true }));
    assertEquals(results.map((r) => [r.reply.code, r.reply.enhanced]), [
      [550, "5.7.30"],
      [550, "5.7.30"],
    ]);
    await client.quit();
    assertEquals(s.seen.filter((l) => l.startsWith("MAIL")), []);
  });
});

Deno.test("client: a server that goes silent or away makes every recipient temporary", async () => {
  await withScriptedServer(
    (command) => command === "." ? "" : null, // an empty line: not a reply
    {},
    async (server) => {
      const client = await open(server.port, { tls: "none" });
      const results = await client.send(message());
      assertEquals(results.map((r) => [r.outcome, r.local]), [
        ["temporary", true],
        ["temporary", true],
      ]);
      assert(client.closed);
    },
  );
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  try {
    const conn = await connectTo("127.0.0.1", (silent.addr as Deno.NetAddr).port, 2000);
    await assertRejects(
      () => SmtpClient.open(conn, clientOptions({ timeouts: { greeting: 200 } })),
      Error,
      "greeting",
    );
  } finally {
    silent.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("client: delivers into Fumi's own MX, over verified STARTTLS", async () => {
  await withSmtp(async (t) => {
    const conn = await connectTo("127.0.0.1", t.ports.mx, 2000);
    const client = await SmtpClient.open(conn, {
      heloName: "peer.example.net",
      tls: "verify",
      serverName: "localhost",
      ca: [t.caPem],
    });
    assert(client.tls?.verified);
    assert(client.extensions.has("PIPELINING") && client.extensions.has("CHUNKING"));
    const results = await client.send(message({
      sender: "bob@peer.example.net",
      recipients: [
        { address: "alice@example.org", notify: null, orcpt: null },
        { address: "nobody@example.org", notify: null, orcpt: null },
      ],
    }));
    assertEquals(results.map((r) => [r.outcome, r.reply.code]), [
      ["delivered", 250],
      ["permanent", 550],
    ]);
    // RFC 8689 §4.1: Fumi's MX offers REQUIRETLS after STARTTLS and takes such a message.
    assert(client.extensions.has("REQUIRETLS"));
    const bound = await client.send(message({
      sender: "bob@peer.example.net",
      recipients: [{ address: "alice@example.org", notify: null, orcpt: null }],
      requireTls: true,
    }));
    assertEquals(bound.map((r) => [r.outcome, r.reply.code]), [["delivered", 250]]);
    await client.quit();
    const inbox = await t.store.mailboxes.get(t.alice.id, "INBOX");
    assertEquals((await t.store.messages.list(inbox.id)).length, 2);
  });
});

Deno.test("cleanup of the test PKI", async () => {
  await removeScriptedPki();
});
