import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { removeScriptedPki, scriptedPki, withScriptedServer } from "../../tests/scripted_smtp.ts";
import { withSmtp } from "../../tests/smtp.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import { connectTo } from "../net/connection.ts";
import { silentLogger } from "../ops/log.ts";
import type { OutboundMessage } from "../smtp/client/mod.ts";
import { type AttemptDeps, deliverToDomain } from "./attempt.ts";

/** example.org's mail goes to `exchange` at 127.0.0.1 (Fumi's test MX answers as localhost). */
function records(exchange: string): DnsRecord[] {
  return [
    { type: "MX", name: "example.org", ttl: 60, preference: 10, exchange },
    { type: "A", name: exchange, ttl: 60, address: "127.0.0.1" },
  ];
}

function message(requireTls: boolean | null): OutboundMessage {
  return {
    sender: "carol@elsewhere.example",
    recipients: [{ address: "alice@example.org", notify: null, orcpt: null }],
    envid: null,
    ret: null,
    content: new TextEncoder().encode("Subject: secret\r\n\r\nOnly over TLS.\r\n"),
    smtputf8: false,
    requireTls,
  };
}

/** A policy source that answers `mx` in `mode` for every domain. */
function mtaSts(mode: "enforce" | "testing", mx: string[]) {
  return {
    policyFor: () =>
      Promise.resolve({
        policy: { mode, mx, maxAge: 86400 },
        id: "1",
        source: "fetched" as const,
        problem: null,
      }),
  };
}

function deps(resolver: FakeResolver, port: number, ca: string, connected: string[]): AttemptDeps {
  return {
    resolver,
    connect: (address, p) => {
      connected.push(address);
      return connectTo(address, p, 2000);
    },
    heloName: "out.elsewhere.example",
    port,
    ca: [ca],
    timeouts: { greeting: 2000, command: 2000, mail: 2000, rcpt: 2000, dataEnd: 2000 },
    log: silentLogger,
  };
}

Deno.test("REQUIRETLS: delivered over verified TLS to a host named by DNSSEC or MTA-STS (RFC 8689 §4.2.1)", async () => {
  await withSmtp(async (t) => {
    const signed = new FakeResolver(records("localhost"), { secure: ["example.org"] });
    const connected: string[] = [];
    const [bySec] = await deliverToDomain(
      deps(signed, t.ports.mx, t.caPem, connected),
      "example.org",
      message(true),
    );
    assertEquals([bySec?.outcome, connected], ["delivered", ["127.0.0.1"]]);
    // An unsigned zone, but an MTA-STS policy (testing is enough) that names the host.
    const unsigned = new FakeResolver(records("localhost"));
    const [bySts] = await deliverToDomain(
      { ...deps(unsigned, t.ports.mx, t.caPem, []), mtaSts: mtaSts("testing", ["localhost"]) },
      "example.org",
      message(true),
    );
    assertEquals(bySts?.outcome, "delivered");
    const inbox = await t.store.mailboxes.get(t.alice.id, "INBOX");
    assertEquals((await t.store.messages.list(inbox.id)).length, 2);
  });
});

Deno.test("REQUIRETLS: an unauthenticated MX name fails at once with 5.7.30, nothing sent", async () => {
  const connected: string[] = [];
  const resolver = new FakeResolver(records("localhost"));
  const [outcome] = await deliverToDomain(
    deps(resolver, 25, "", connected),
    "example.org",
    message(true),
  );
  assertEquals([outcome?.outcome, connected], ["permanent", []]);
  assertMatch(
    outcome?.reply ?? "",
    /^550 5\.7\.30 REQUIRETLS support required: localhost is neither DNSSEC-validated nor named/,
  );
});

Deno.test("REQUIRETLS: a certificate that does not verify leaves the message queued (4.7.5)", async () => {
  await withSmtp(async (t) => {
    // The test MX's certificate is not for mx.example.net.
    const resolver = new FakeResolver(records("mx.example.net"), { secure: ["example.org"] });
    const [outcome] = await deliverToDomain(
      deps(resolver, t.ports.mx, t.caPem, []),
      "example.org",
      message(true),
    );
    assertEquals(outcome?.outcome, "temporary");
    assertMatch(outcome?.reply ?? "", /^451 4\.7\.5 REQUIRETLS to example\.org: mx\.example\.net /);
  });
});

Deno.test("REQUIRETLS: a host that does not offer REQUIRETLS gets nothing; 550 5.7.30", async () => {
  const { pki } = await scriptedPki();
  await withScriptedServer(() => null, { extensions: ["PIPELINING", "STARTTLS"] }, async (s) => {
    const resolver = new FakeResolver(records("mx.example.net"), { secure: ["example.org"] });
    const [outcome] = await deliverToDomain(
      deps(resolver, s.port, pki.caPem, []),
      "example.org",
      message(true),
    );
    assertEquals(outcome?.outcome, "permanent");
    assertMatch(
      outcome?.reply ?? "",
      /^550 5\.7\.30 REQUIRETLS support required: mx\.example\.net \[127\.0\.0\.1\]: does not offer REQUIRETLS/,
    );
    assertEquals(s.seen.filter((l) => /^(MAIL|RCPT|DATA)/.test(l)), []);
    // Without REQUIRETLS the same host takes it.
    const [plain] = await deliverToDomain(
      deps(resolver, s.port, pki.caPem, []),
      "example.org",
      message(null),
    );
    assertEquals(plain?.outcome, "delivered");
  });
  await removeScriptedPki();
});

Deno.test("TLS-Required: No waives an MTA-STS policy that would refuse the host (RFC 8689 §4.2.2)", async () => {
  await withSmtp(async (t) => {
    const resolver = new FakeResolver(records("localhost"));
    const strict = {
      ...deps(resolver, t.ports.mx, t.caPem, []),
      mtaSts: mtaSts("enforce", ["mx.example.net"]),
    };
    const [enforced] = await deliverToDomain(strict, "example.org", message(null));
    assertEquals(enforced?.outcome, "temporary"); // RFC 8461 §5.1: not a host of the policy
    const [waived] = await deliverToDomain(strict, "example.org", message(false));
    assertEquals(waived?.outcome, "delivered");
  });
});
