import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/assert.ts";
import { makeTestPki, type TestPki } from "../../tests/tls.ts";
import { silentLogger } from "../ops/log.ts";
import {
  type Connection,
  LineTooLongError,
  ReadTimeoutError,
  type StartTlsOptions,
  WriteTimeoutError,
} from "./connection.ts";
import { type ListenerSpec, type RunningListener, startListener } from "./listener.ts";
import { type CertificatePair, TlsContexts } from "./tls_contexts.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What the test protocol saw: each command, and whether it came over TLS. */
type Seen = { command: string; tls: boolean }[];

/** Just enough of SMTP's and IMAP's STARTTLS dialogue for real clients to drive the transport. */
function miniProtocol(seen: Seen, style: "smtp" | "imap") {
  return async (conn: Connection, startTls: StartTlsOptions) => {
    await conn.write(
      style === "smtp" ? "220 test ESMTP\r\n" : "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
    );
    for (;;) {
      const line = await conn.readLine(512, 10_000);
      if (!line) return;
      const text = decoder.decode(line.bytes);
      seen.push({ command: text, tls: conn.tls !== null });
      const [first = "", second = ""] = text.split(" ");
      const verb = (style === "smtp" ? first : second).toUpperCase();
      const tag = first;
      if (verb === "STARTTLS") {
        await conn.startTls(
          style === "smtp" ? "220 2.0.0 Ready\r\n" : `${tag} OK Begin TLS\r\n`,
          startTls,
        );
      } else if (verb === "QUIT" || verb === "LOGOUT") {
        await conn.write(style === "smtp" ? "221 bye\r\n" : `* BYE\r\n${tag} OK bye\r\n`);
        return;
      } else if (style === "smtp") {
        await conn.write(
          verb === "EHLO" && !conn.tls ? "250-test\r\n250 STARTTLS\r\n" : "250 OK\r\n",
        );
      } else {
        const caps = conn.tls ? "IMAP4rev1" : "IMAP4rev1 STARTTLS";
        await conn.write(
          verb === "CAPABILITY"
            ? `* CAPABILITY ${caps}\r\n${tag} OK done\r\n`
            : `${tag} OK done\r\n`,
        );
      }
    }
  };
}

let pki: TestPki;
let main: CertificatePair & { certFile: string };

async function withListener(
  spec: Partial<ListenerSpec> & Pick<ListenerSpec, "mode" | "session">,
  fn: (listener: RunningListener, tls: TlsContexts) => Promise<void>,
): Promise<void> {
  pki ??= await makeTestPki();
  main ??= await pki.issue(["localhost", "127.0.0.1"]);
  const tls = spec.tls ?? new TlsContexts({ fallback: main, byName: new Map() });
  const listener = await startListener({
    name: "test",
    addresses: ["127.0.0.1"],
    port: 0,
    tls,
    log: silentLogger,
    ...spec,
  });
  try {
    await fn(listener, tls);
  } finally {
    await listener.close();
  }
}

async function run(args: string[], input = ""): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(input));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  return { code, out: decoder.decode(stdout) + decoder.decode(stderr) };
}

function opensslClient(
  port: number,
  extra: string[],
  input = "",
): Promise<{ code: number; out: string }> {
  return run(
    [
      "timeout",
      "20",
      "openssl",
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-CAfile",
      pki.caFile,
      "-crlf",
      ...extra,
    ],
    input,
  );
}

Deno.test("openssl s_client -starttls smtp and imap: the handshake completes on the same socket", async () => {
  for (const style of ["smtp", "imap"] as const) {
    const seen: Seen = [];
    await withListener(
      { mode: "starttls", session: miniProtocol(seen, style) },
      async (listener) => {
        const port = listener.endpoints[0]!.port;
        const input = style === "smtp" ? "EHLO after\nQUIT\n" : "a1 CAPABILITY\na2 LOGOUT\n";
        const { out } = await opensslClient(port, [
          "-starttls",
          style,
          "-servername",
          "localhost",
          "-ign_eof",
        ], input);
        assertStringIncludes(out, "Verify return code: 0 (ok)");
        assert(/New, TLSv1\.[23], Cipher is/.test(out), out);
        const afterTls = seen.filter((s) => s.tls).map((s) => s.command);
        assertEquals(
          afterTls,
          style === "smtp" ? ["EHLO after", "QUIT"] : ["a1 CAPABILITY", "a2 LOGOUT"],
        );
      },
    );
  }
});

Deno.test("commands pipelined after STARTTLS in the same packet are discarded (CVE-2011-0411)", async () => {
  const seen: Seen = [];
  await withListener(
    { mode: "starttls", session: miniProtocol(seen, "smtp") },
    async (listener) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
      const reader = async () => {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf);
        return decoder.decode(buf.subarray(0, n ?? 0));
      };
      assertStringIncludes(await reader(), "220 test");
      await conn.write(encoder.encode("EHLO plain\r\n"));
      assertStringIncludes(await reader(), "STARTTLS");
      await conn.write(encoder.encode("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n"));
      assertStringIncludes(await reader(), "220 2.0.0 Ready");
      const secure = await Deno.startTls(conn, { hostname: "localhost", caCerts: [pki.caPem] });
      await secure.write(encoder.encode("EHLO secure\r\n"));
      const buf = new Uint8Array(1024);
      const n = await secure.read(buf);
      assertStringIncludes(decoder.decode(buf.subarray(0, n ?? 0)), "250");
      secure.close();
      assertEquals(seen.map((s) => [s.command, s.tls]), [
        ["EHLO plain", false],
        ["STARTTLS", false],
        ["EHLO secure", true],
      ]);
    },
  );
});

Deno.test("implicit TLS: TLS 1.2 and 1.3 only, forward-secret AEAD suites only", async () => {
  const seen: Seen = [];
  await withListener({ mode: "tls", session: miniProtocol(seen, "imap") }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    const ok13 = await opensslClient(port, ["-tls1_3"], "a LOGOUT\n");
    assert(
      /New, TLSv1\.3, Cipher is TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)/.test(ok13.out),
      ok13.out,
    );
    const ok12 = await opensslClient(port, ["-tls1_2"], "a LOGOUT\n");
    assert(
      /New, TLSv1\.2, Cipher is ECDHE-ECDSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)/.test(ok12.out),
      ok12.out,
    );
    for (
      const refused of [["-tls1_1"], ["-tls1"], ["-tls1_2", "-cipher", "AES128-SHA"], [
        "-tls1_2",
        "-cipher",
        "ECDHE-ECDSA-AES128-SHA",
      ]]
    ) {
      const { out } = await opensslClient(port, refused);
      assertStringIncludes(out, "Cipher is (NONE)", refused.join(" "));
    }
  });
});

Deno.test("implicit TLS with ALPN: a client offering only another protocol is refused (ALPACA)", async () => {
  const seen: Seen = [];
  await withListener(
    { mode: "tls", alpn: ["imap"], session: miniProtocol(seen, "imap") },
    async (listener) => {
      const port = listener.endpoints[0]!.port;
      const http = await opensslClient(port, ["-alpn", "http/1.1"]);
      assertStringIncludes(http.out, "no application protocol");
      const imap = await opensslClient(port, ["-alpn", "imap"], "a LOGOUT\n");
      assertStringIncludes(imap.out, "ALPN protocol: imap");
      const none = await opensslClient(port, [], "a LOGOUT\n");
      assertStringIncludes(none.out, "Verify return code: 0 (ok)");
    },
  );
});

Deno.test("SNI selects the certificate; unknown names get the default; a reload takes effect at once", async () => {
  pki ??= await makeTestPki();
  main ??= await pki.issue(["localhost", "127.0.0.1"]);
  const other = await pki.issue(["mail.other.test"]);
  const wild = await pki.issue(["*.wild.test"]);
  const tls = new TlsContexts({
    fallback: main,
    byName: new Map([["mail.other.test", other], ["*.wild.test", wild]]),
  });
  const subject = async (port: number, name: string) =>
    (await opensslClient(port, ["-servername", name], "a LOGOUT\n")).out.match(
      /subject=CN ?= ?(\S+)/,
    )?.[1];
  await withListener(
    { mode: "tls", tls, session: miniProtocol([], "imap") },
    async (listener, contexts) => {
      const port = listener.endpoints[0]!.port;
      assertEquals(await subject(port, "mail.other.test"), "mail.other.test");
      assertEquals(await subject(port, "MAIL.OTHER.TEST"), "mail.other.test");
      assertEquals(await subject(port, "imap.wild.test"), "*.wild.test");
      assertEquals(await subject(port, "unknown.test"), "localhost");
      const renewed = await pki.issue(["renewed.localhost", "127.0.0.1"]);
      contexts.update({ fallback: renewed, byName: new Map() });
      assertEquals(await subject(port, "unknown.test"), "renewed.localhost");
      // A client without SNI (an IP address) also gets the new default.
      const { out } = await run([
        "timeout",
        "20",
        "openssl",
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-noservername",
      ], "");
      assertStringIncludes(out, "CN = renewed.localhost");
    },
  );
});

Deno.test("garbage and failed handshakes do not disturb other sessions", async () => {
  const seen: Seen = [];
  await withListener({ mode: "tls", session: miniProtocol(seen, "imap") }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    const good = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pki.caPem] });
    const buf = new Uint8Array(1024);
    assertStringIncludes(decoder.decode(buf.subarray(0, (await good.read(buf)) ?? 0)), "* OK");
    for (let i = 0; i < 5; i++) {
      const bad = await Deno.connect({ hostname: "127.0.0.1", port });
      await bad.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).catch(() => {});
      await bad.read(new Uint8Array(100)).catch(() => null);
      bad.close();
      const dropped = await Deno.connect({ hostname: "127.0.0.1", port });
      await dropped.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // a truncated ClientHello
      dropped.close();
    }
    await good.write(encoder.encode("a CAPABILITY\r\n"));
    assertStringIncludes(
      decoder.decode(buf.subarray(0, (await good.read(buf)) ?? 0)),
      "* CAPABILITY",
    );
    good.close();
  });
});

Deno.test("line limits, slow-loris timeouts and a silent client", async () => {
  const results: string[] = [];
  await withListener({
    mode: "starttls",
    session: async (conn) => {
      for (;;) {
        try {
          const line = await conn.readLine(16, 300);
          if (!line) return;
          results.push(`line ${decoder.decode(line.bytes)} ${line.ending}`);
        } catch (error) {
          results.push(
            error instanceof LineTooLongError
              ? "too long"
              : error instanceof ReadTimeoutError
              ? "timeout"
              : "other",
          );
          if (error instanceof ReadTimeoutError) return;
        }
      }
    },
  }, async (listener) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
    await conn.write(encoder.encode("short\r\n" + "x".repeat(40) + "\r\nbare\nnext\r\n"));
    // Slow-loris: a line that never ends within the deadline.
    await conn.write(encoder.encode("dribble"));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await conn.write(encoder.encode("-more"));
    const closed = await conn.read(new Uint8Array(10)).catch(() => null);
    assertEquals(closed, null, "the server closed the connection");
    conn.close();
    assertEquals(results, [
      "line short crlf",
      "too long",
      "line bare lf",
      "line next crlf",
      "timeout",
    ]);
  });
});

Deno.test("a busy port is a clear error; flow control refuses with the protocol's reply", async () => {
  await withListener({ mode: "starttls", session: miniProtocol([], "smtp") }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    await assertRejects(
      () =>
        startListener({
          name: "smtp",
          addresses: ["127.0.0.1"],
          port,
          mode: "starttls",
          tls: new TlsContexts({ fallback: main, byName: new Map() }),
          session: () => Promise.resolve(),
          log: silentLogger,
        }),
      Error,
      "Cannot listen for smtp on 127.0.0.1 port",
    );
  });
  let admitted = 0;
  await withListener({
    mode: "starttls",
    admit: () => (admitted++ < 1
      ? {
        ok: true,
        release: () => admitted--,
      }
      : { ok: false, reason: "per-ip" }),
    refusal: (reason) => `421 4.7.0 Too many connections (${reason})\r\n`,
    session: miniProtocol([], "smtp"),
  }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    const first = await Deno.connect({ hostname: "127.0.0.1", port });
    const buf = new Uint8Array(200);
    assertStringIncludes(decoder.decode(buf.subarray(0, (await first.read(buf)) ?? 0)), "220");
    const second = await Deno.connect({ hostname: "127.0.0.1", port });
    assertStringIncludes(
      decoder.decode(buf.subarray(0, (await second.read(buf)) ?? 0)),
      "421 4.7.0 Too many connections (per-ip)",
    );
    second.close();
    first.close();
  });
});

Deno.test("a client that asks for STARTTLS and never handshakes is cut off", async () => {
  const outcome: string[] = [];
  await withListener({
    mode: "starttls",
    handshakeTimeoutMs: 300,
    session: async (conn, startTls) => {
      await conn.write("220 test\r\n");
      await conn.readLine(100, 5000);
      try {
        await conn.startTls("220 Ready\r\n", startTls);
        outcome.push("handshake");
      } catch (error) {
        outcome.push(error instanceof ReadTimeoutError ? "timeout" : "error");
      }
    },
  }, async (listener) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
    const buf = new Uint8Array(100);
    await conn.read(buf);
    await conn.write(encoder.encode("STARTTLS\r\n"));
    assertStringIncludes(decoder.decode(buf.subarray(0, (await conn.read(buf)) ?? 0)), "220 Ready");
    // Say nothing more: the server must give up and close.
    assertEquals(await conn.read(buf).catch(() => null), null);
    conn.close();
  });
  assertEquals(outcome, ["timeout"]);
});

Deno.test("IPv6 and IPv4 on one port, each a listener address of its own", async () => {
  const seen: Seen = [];
  pki ??= await makeTestPki();
  main ??= await pki.issue(["localhost", "127.0.0.1"]);
  const tls = new TlsContexts({ fallback: main, byName: new Map() });
  const first = await startListener({
    name: "dual",
    addresses: ["::1"],
    port: 0,
    mode: "starttls",
    tls,
    log: silentLogger,
    session: miniProtocol(seen, "smtp"),
  });
  const port = first.endpoints[0]!.port;
  await first.close();
  // Bind both families on the same port (IPv6 with ipv6Only, so they do not collide).
  const listener = await startListener({
    name: "dual",
    addresses: ["::1", "127.0.0.1"],
    port,
    mode: "starttls",
    tls,
    log: silentLogger,
    session: miniProtocol(seen, "smtp"),
  });
  try {
    for (const hostname of ["::1", "127.0.0.1"]) {
      const conn = await Deno.connect({ hostname, port });
      const buf = new Uint8Array(100);
      assertStringIncludes(
        decoder.decode(buf.subarray(0, (await conn.read(buf)) ?? 0)),
        "220 test",
      );
      await conn.write(encoder.encode("QUIT\r\n"));
      await conn.read(buf);
      conn.close();
    }
    assertEquals(listener.endpoints.map((e) => e.address), ["::1", "127.0.0.1"]);
    assertEquals(seen.map((s) => s.command), ["QUIT", "QUIT"]);
  } finally {
    await listener.close();
  }
});

/** Polls until `check` holds or `ms` pass. */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

async function readText(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf).catch(() => null);
  return decoder.decode(buf.subarray(0, n ?? 0));
}

Deno.test("a client that sends STARTTLS and resets does not take the listener down", async () => {
  const seen: Seen = [];
  let admitted = 0;
  let released = 0;
  await withListener(
    {
      mode: "starttls",
      handshakeTimeoutMs: 300,
      admit: () => {
        admitted++;
        return { ok: true, release: () => released++ };
      },
      session: miniProtocol(seen, "smtp"),
    },
    async (listener) => {
      const port = listener.endpoints[0]!.port;
      // Unread greeting + close: the kernel answers the server's "220 Ready" with a reset.
      const reset = await Deno.connect({ hostname: "127.0.0.1", port });
      await reset.write(encoder.encode("STARTTLS\r\n"));
      reset.close();
      // Reads "220 Ready", then goes away before the handshake.
      const gone = await Deno.connect({ hostname: "127.0.0.1", port });
      assertStringIncludes(await readText(gone), "220 test");
      await gone.write(encoder.encode("STARTTLS\r\n"));
      assertStringIncludes(await readText(gone), "220 2.0.0 Ready");
      gone.close();
      // Past the handshake timeout: a late rejection would surface now.
      await new Promise((r) => setTimeout(r, 500));
      await eventually(() => listener.active === 0);
      const next = await Deno.connect({ hostname: "127.0.0.1", port });
      assertStringIncludes(await readText(next), "220 test");
      await next.write(encoder.encode("STARTTLS\r\n"));
      assertStringIncludes(await readText(next), "220 2.0.0 Ready");
      const secure = await Deno.startTls(next, { hostname: "localhost", caCerts: [pki.caPem] });
      await secure.write(encoder.encode("QUIT\r\n"));
      const buf = new Uint8Array(100);
      assertStringIncludes(decoder.decode(buf.subarray(0, (await secure.read(buf)) ?? 0)), "221");
      secure.close();
      // Every admission is released, after resets and after a completed STARTTLS alike.
      await eventually(() => released === 3 && listener.active === 0);
      assertEquals([admitted, released], [3, 3]);
    },
  );
});

Deno.test("implicit TLS: every admission is released, also after failed handshakes", async () => {
  let admitted = 0;
  let released = 0;
  await withListener({
    mode: "tls",
    admit: () => {
      admitted++;
      return { ok: true, release: () => released++ };
    },
    session: miniProtocol([], "imap"),
  }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    for (let i = 0; i < 5; i++) {
      const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pki.caPem] });
      assertStringIncludes(await readText(conn), "* OK");
      conn.close();
    }
    for (let i = 0; i < 2; i++) {
      const bad = await Deno.connect({ hostname: "127.0.0.1", port });
      await bad.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).catch(() => {});
      await bad.read(new Uint8Array(100)).catch(() => null);
      bad.close();
    }
    await eventually(() => released === 7 && listener.active === 0);
    assertEquals(admitted, 7);
    assertEquals(released, admitted);
  });
});

Deno.test("implicit TLS: a client refused after its handshake completed never gets a session", async () => {
  let sessions = 0;
  await withListener({
    mode: "tls",
    // Slower than the handshake: refused only once the client's handshake is done.
    admit: () =>
      new Promise((resolve) => setTimeout(() => resolve({ ok: false, reason: "banned" }), 300)),
    session: async (conn) => {
      sessions++;
      await conn.write("* OK should never be seen\r\n");
    },
  }, async (listener) => {
    const port = listener.endpoints[0]!.port;
    const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pki.caPem] });
    try {
      await conn.handshake();
      const n = await conn.read(new Uint8Array(100)).catch(() => null);
      assertEquals(n, null, "the connection ends without a byte of session");
      assertEquals(sessions, 0);
    } finally {
      conn.close();
    }
  });
});

Deno.test("readExact of more than the high-water mark completes", async () => {
  const lengths: number[] = [];
  await withListener({
    mode: "starttls",
    session: async (conn) => {
      const bytes = await conn.readExact(1_000_000, 10_000);
      lengths.push(bytes?.length ?? -1);
      await conn.write(`${bytes?.length}\r\n`);
    },
  }, async (listener) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
    await conn.write(new Uint8Array(1_000_000).fill(0x61));
    assertStringIncludes(await readText(conn), "1000000");
    conn.close();
  });
  assertEquals(lengths, [1_000_000]);
});

Deno.test("close() does not wait for idle sessions' read timeouts", async () => {
  pki ??= await makeTestPki();
  main ??= await pki.issue(["localhost", "127.0.0.1"]);
  const listener = await startListener({
    name: "test",
    addresses: ["127.0.0.1"],
    port: 0,
    mode: "starttls",
    tls: new TlsContexts({ fallback: main, byName: new Map() }),
    log: silentLogger,
    session: miniProtocol([], "smtp"), // reads with a 10 s timeout
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
  assertStringIncludes(await readText(conn), "220 test");
  const started = Date.now();
  await listener.close();
  const took = Date.now() - started;
  assert(took < 1000, `close() took ${took} ms`);
  assertEquals(listener.active, 0);
  conn.close();
});

Deno.test("a client that stops reading cannot block a write forever", async () => {
  const outcome: string[] = [];
  await withListener({
    mode: "starttls",
    session: async (conn) => {
      const chunk = new Uint8Array(1024 * 1024).fill(0x61);
      try {
        for (let i = 0; i < 64; i++) await conn.write(chunk, 300);
        outcome.push("all written");
      } catch (error) {
        outcome.push(error instanceof WriteTimeoutError ? "timeout" : `other: ${error}`);
      }
      outcome.push(conn.closed ? "closed" : "open");
    },
  }, async (listener) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
    // Never read: the kernel buffers fill and the server's writes stall.
    await eventually(() => outcome.length === 2, 10_000);
    conn.close();
  });
  assertEquals(outcome, ["timeout", "closed"]);
});

Deno.test("a line trickled in many small pieces, after lines split across packets", async () => {
  const lines: string[] = [];
  await withListener({
    mode: "starttls",
    session: async (conn) => {
      for (;;) {
        const line = await conn.readLine(4096, 5000);
        if (!line) return;
        lines.push(`${decoder.decode(line.bytes)} ${line.ending}`);
        if (lines.length === 3) await conn.write("done\r\n");
      }
    },
  }, async (listener) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.endpoints[0]!.port });
    await conn.write(encoder.encode("one\r\ntw"));
    await new Promise((r) => setTimeout(r, 20));
    await conn.write(encoder.encode("o\n"));
    const long = "x".repeat(3000);
    for (let i = 0; i < long.length; i += 100) {
      await conn.write(encoder.encode(long.slice(i, i + 100)));
      await new Promise((r) => setTimeout(r, 1));
    }
    await conn.write(encoder.encode("\r\n"));
    assertStringIncludes(await readText(conn), "done");
    conn.close();
  });
  assertEquals(lines, ["one crlf", "two lf", `${"x".repeat(3000)} crlf`]);
});

Deno.test({
  name: "cleanup of the test PKI",
  fn: async () => {
    await pki?.remove();
  },
});
