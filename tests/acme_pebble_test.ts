/**
 * ACME for real: Debian's `pebble` (Let's Encrypt's ACME test server) on loopback issues
 * certificates to Fumi, whose HTTP listener answers the HTTP-01 challenges from the database —
 * no shortcut (PEBBLE_VA_ALWAYS_VALID is not set). Pebble rejects 5 % of nonces, so the
 * client's badNonce retry runs too.
 *
 * Debian's package ships no certificate for pebble's own HTTPS listener, so each run makes a
 * throw-away CA with openssl and gives pebble a `localhost` certificate from it; the client
 * trusts that CA for the directory only. Issued certificates chain to pebble's per-run root,
 * fetched from its management API and checked with `openssl verify`.
 *
 * Names: pebble's validation authority resolves `localhost` through /etc/hosts to 127.0.0.1,
 * where the test's HTTP listener runs on the port pebble's config names.
 *
 * @module
 */

import {
  Acme,
  type AcmeEvent,
  http01Handler,
  renewalTime,
  storedChallenges,
} from "../src/acme/mod.ts";
import { type HttpListener, serveHealth } from "../src/ops/health.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Store } from "../src/store/open.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./assert.ts";
import { freePort, fumi, fumiProcess, withCommandDatabase } from "./cli.ts";
import { withStore } from "./store.ts";

const PEBBLE = "/usr/bin/pebble";
/** Pebble's certificates live this long (a fake clock reaches two thirds of it). */
const VALIDITY_SECONDS = 90 * 24 * 3600;

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${command} ${args.join(" ")}: ${text}`);
  return text;
}

/** A running pebble. */
interface Pebble {
  readonly directoryUrl: string;
  /** The CA of pebble's own HTTPS listener (not of the certificates it issues). */
  readonly httpsCaPem: string;
  readonly httpsCaFile: string;
  /** Pebble's per-run root, which issued certificates chain to (management API). */
  root(): Promise<string>;
  /** What pebble printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

async function startPebble(dir: string, httpPort: number): Promise<Pebble> {
  try {
    await Deno.stat(PEBBLE);
  } catch {
    throw new Error(`${PEBBLE} is missing: install Debian's package with: apt-get install pebble`);
  }
  await run("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Pebble HTTPS test CA"],
  ], dir);
  await run("openssl", [
    ...["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=localhost"],
    ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
  ], dir);
  await run("openssl", [
    ...["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key"],
    ...["-set_serial", "1", "-days", "2", "-copy_extensions", "copy", "-out", "cert.pem"],
  ], dir);
  const [acmePort, managementPort, tlsPort] = [freePort(), freePort(), freePort()];
  await Deno.writeTextFile(
    `${dir}/pebble.json`,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: `${dir}/cert.pem`,
        privateKey: `${dir}/key.pem`,
        httpPort,
        tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        certificateValidityPeriod: VALIDITY_SECONDS,
      },
    }),
  );
  const child = new Deno.Command(PEBBLE, {
    args: ["-config", `${dir}/pebble.json`],
    cwd: dir,
    clearEnv: true,
    // No random sleeps before validating; never reuse an authorization, so that every order
    // (the renewal too) is validated again.
    env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_AUTHZREUSE: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) lines.push(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const httpsCaPem = await Deno.readTextFile(`${dir}/ca.pem`);
  const client = Deno.createHttpClient({ caCerts: [httpsCaPem] });
  const stop = async () => {
    client.close();
    try {
      child.kill("SIGTERM");
    } catch {
      // exited already
    }
    await child.status;
    await drained;
  };
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const response = await fetch(directoryUrl, { client });
        await response.body?.cancel();
        if (response.ok) break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`pebble did not start: ${lines.join("")}`, { cause: error });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    directoryUrl,
    httpsCaPem,
    httpsCaFile: `${dir}/ca.pem`,
    root: async () => {
      const response = await fetch(`https://127.0.0.1:${managementPort}/roots/0`, { client });
      return await response.text();
    },
    output: () => lines.join(""),
    stop,
  };
}

/** The HTTP listener as the server runs it: health plus the HTTP-01 route, recording tokens. */
function httpListener(store: Store, port: number, requested: string[]): HttpListener[] {
  const challenges = http01Handler(storedChallenges(store.sql));
  return serveHealth(
    ["127.0.0.1"],
    port,
    async () => {
      await store.sql`select 1`;
    },
    silentLogger,
    {
      routes: async (request) => {
        const response = await challenges(request);
        if (response) requested.push(`${response.status} ${new URL(request.url).pathname}`);
        return response;
      },
    },
  );
}

/** Runs `fn` with pebble and the HTTP listener on the port pebble validates against. */
async function withPebble(
  store: Store,
  fn: (pebble: Pebble, requested: string[], dir: string, httpPort: number) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-pebble-" });
  const httpPort = freePort();
  const requested: string[] = [];
  const listeners = httpListener(store, httpPort, requested);
  try {
    const pebble = await startPebble(dir, httpPort);
    try {
      await fn(pebble, requested, dir, httpPort);
    } catch (error) {
      console.error(`pebble's output:\n${pebble.output().slice(-4000)}`);
      throw error;
    } finally {
      await pebble.stop();
    }
  } finally {
    await Promise.all(listeners.map((l) => l.stop()));
    await Deno.remove(dir, { recursive: true });
  }
}

/** `openssl verify` of a stored chain against pebble's root; returns openssl's output. */
async function verifyChain(dir: string, chainPem: string, rootPem: string): Promise<string> {
  const blocks = chainPem.match(
    /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g,
  )!;
  assert(blocks.length >= 2, "leaf and intermediate");
  await Deno.writeTextFile(`${dir}/leaf.pem`, blocks[0]!);
  await Deno.writeTextFile(`${dir}/intermediates.pem`, blocks.slice(1).join(""));
  await Deno.writeTextFile(`${dir}/root.pem`, rootPem);
  return await run("openssl", [
    ...["verify", "-CAfile", "root.pem", "-untrusted", "intermediates.pem"],
    ...["-purpose", "sslserver", "-verify_hostname", "localhost", "leaf.pem"],
  ], dir);
}

Deno.test("ACME: pebble issues over HTTP-01 answered by the HTTP listener; renewal at two thirds replaces it", async () => {
  await withStore(async ({ store }) => {
    await withPebble(store, async (pebble, requested, dir, httpPort) => {
      const events: AcmeEvent[] = [];
      const acme = new Acme({
        sql: store.sql,
        vault: store.vault,
        certificates: store.certificates,
        log: silentLogger,
        onEvent: (event) => events.push(event),
      });
      const issued = await acme.issue("web", ["LOCALHOST"], {
        directoryUrl: pebble.directoryUrl,
        email: "hostmaster@example.org",
        caPem: pebble.httpsCaPem,
      });
      assertEquals(issued.accountCreated, true);
      assertEquals(issued.replaced, false);
      assertEquals(issued.certificate.source, "acme");
      assertEquals(issued.certificate.names, ["localhost"]);
      assertMatch(issued.termsOfService ?? "", /^data:|^https:/);
      // The CA really fetched the key authorization from our listener, and it is gone now.
      assert(requested.some((r) => /^200 \/\.well-known\/acme-challenge\/[\w-]{22,}$/.test(r)));
      const [left] = await store.sql<
        { n: number }[]
      >`select count(*)::int as n from acme_challenges`;
      assertEquals(left!.n, 0);
      // The health endpoint still answers beside the challenge route.
      const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      assertEquals([health.status, await health.text()], [200, "ok\n"]);

      const first = await store.certificates.get("web");
      const rootPem = await pebble.root();
      assertStringIncludes(await verifyChain(dir, first.chainPem, rootPem), "leaf.pem: OK");

      // The account key is sealed, bound to its row.
      const [account] = await store.sql<{ key: Uint8Array; account_url: string; email: string }[]>`
        select key, account_url, email from acme_accounts`;
      assertEquals(account!.key[0], 1, "the envelope format");
      assert(!new TextDecoder("latin1").decode(account!.key).includes("PRIVATE KEY"));
      assertEquals(account!.email, "hostmaster@example.org");
      assert(account!.account_url.startsWith(pebble.directoryUrl.replace(/\/dir$/, "")));

      await store.certificates.assign("default", "web");
      await store.certificates.assign("imaps", "web");
      const version = await store.certificates.version();
      const firstKeyPem = (await store.certificates.resolveForListener("imaps")).fallback.keyPem;

      // Not due yet: nothing happens, nothing is sent.
      const before = requested.length;
      assertEquals(await acme.renewDue(new Date()), { locked: false, renewed: [], failed: [] });
      assertEquals(requested.length, before);

      // A clock past two thirds of the lifetime: renewed, validated again, same name and id.
      const notBefore = first.notBefore!.getTime();
      const lifetime = first.notAfter!.getTime() - notBefore;
      const later = new Date(notBefore + Math.ceil(lifetime * 2 / 3) + 60_000);
      const logBefore = pebble.output().length;
      const report = await acme.renewDue(later);
      assertEquals(report, { locked: false, renewed: ["web"], failed: [] });
      // Pebble 2.4 may still reuse the valid authorization of the first order (its log then
      // shows no new authorization), and then there is nothing to answer; otherwise the new
      // authorization's challenge must have been fetched from our listener.
      const renewalLog = pebble.output().slice(logBefore);
      if (/There are now \d+ authorizations in the db/.test(renewalLog)) {
        assert(
          requested.length > before,
          `the renewal's challenge was not fetched; our listener saw ${JSON.stringify(requested)}`,
        );
      } else {
        assertEquals(requested.length, before, "a reused authorization needs no challenge");
      }
      const second = await store.certificates.get("web");
      assertEquals(second.id, first.id);
      assertEquals(second.source, "acme");
      assertEquals(second.usedBy, ["default", "imaps"]);
      assertNotEquals(second.chain[0]!.serialNumber, first.chain[0]!.serialNumber);
      assertNotEquals(second.fingerprintSha256, first.fingerprintSha256);
      assertNotEquals(await store.certificates.version(), version);
      assertStringIncludes(await verifyChain(dir, second.chainPem, rootPem), "leaf.pem: OK");
      const served = (await store.certificates.resolveForListener("imaps")).fallback;
      assertEquals(served.fingerprintSha256, second.fingerprintSha256);
      assertNotEquals(served.keyPem, firstKeyPem, "a renewal makes a new key");
      assertEquals(
        events.map((e) => [e.type, e.name, e.type === "issued" ? e.renewal : null]),
        [["issued", "web", false], ["issued", "web", true]],
      );
      // Renewed: due again two thirds into the new lifetime, not now.
      const [state] = await acme.renewals();
      assertEquals(state!.failures, 0);
      assertEquals(renewalTime(state!.notBefore, state!.notAfter) > new Date(), true);
      assertEquals(await acme.renewDue(new Date()), { locked: false, renewed: [], failed: [] });
    });
  });
});

/** Runs `fn` with an environment whose commands reach a fresh database, and a store on it. */
function withCliEnv(
  fn: (env: Record<string, string>, store: Store) => Promise<void>,
): Promise<void> {
  return withCommandDatabase("fumi-acme-", (env, store) => fn(env, store));
}

Deno.test("fumi cert issue: the command stores the tokens, another node's HTTP listener answers", async () => {
  await withCliEnv(async (env, store) => {
    await withPebble(store, async (pebble, requested) => {
      const args = ["--directory", pebble.directoryUrl, "--ca", pebble.httpsCaFile];
      const first = await fumi(
        ["cert", "issue", "mail", "localhost", ...args, "--email", "postmaster@example.org"],
        { env },
      );
      assertEquals([first.code, first.err], [0, []], first.err.join("\n"));
      assertEquals(first.out.length, 3, first.out.join("\n"));
      assertStringIncludes(first.out[0]!, `Registered an ACME account with ${pebble.directoryUrl}`);
      assertMatch(
        first.out[1]!,
        /^Issued mail: localhost, valid until \d{4}-\d\d-\d\d; renewed automatically\.$/,
      );
      assertEquals(first.out[2], "Not in use yet; assign it with: fumi cert assign TARGET mail");
      assert(requested.some((r) => r.startsWith("200 /.well-known/acme-challenge/")));

      const assigned = await fumi(["cert", "assign", "smtp", "mail"], { env });
      assertEquals(assigned.code, 0, assigned.err.join("\n"));
      // Again under the same name, as the real executable with the permissions of
      // `deno task fumi` (env FUMI_* only): the account is reused, the CA trust remembered, the
      // certificate replaced, the assignment kept.
      const again = await fumiProcess(
        ["cert", "issue", "mail", "localhost", "--directory", pebble.directoryUrl],
        { env },
      );
      assertEquals([again.code, again.err], [0, []], again.err.join("\n"));
      assertMatch(again.out[0]!, /^Replaced mail: localhost, valid until /);
      assertEquals(again.out[1], "In use by smtp; listeners reload it now.");
      const list = await fumi(["cert", "list"], { env });
      assertMatch(
        list.out.find((l) => l.startsWith("mail "))!,
        /^mail\s+localhost\s.*\sacme\s+smtp$/,
      );
      const [account] = await store.sql<{ n: number; email: string }[]>`
        select count(*)::int as n, max(email) as email from acme_accounts`;
      assertEquals([account!.n, account!.email], [1, "postmaster@example.org"]);
    });
  });
});

Deno.test("fumi cert issue: bad input is refused before anything is sent", async () => {
  const env = { FUMI_DATA_DIR: "/nonexistent/fumi-acme-usage" };
  const usage: [string[], string][] = [
    [["issue", "web"], "Missing DNSNAME; usage: fumi cert issue NAME DNSNAME…"],
    [
      ["issue", "web", "a.example.org", "--directory", "http://ca.example/dir"],
      'Invalid --directory "http://ca.example/dir"',
    ],
    [["issue", "web", "a.example.org", "--directory"], "Option --directory needs a value"],
    [["issue", "web", "a.example.org", "--bogus"], 'Unknown option "--bogus"'],
  ];
  for (const [argv, message] of usage) {
    const result = await fumi(["cert", ...argv], { env });
    assertEquals(result.code, 2, `${argv.join(" ")}: ${result.err.join(" | ")}`);
    assertStringIncludes(result.err[0] ?? "", message);
  }
  await withCliEnv(async (cliEnv) => {
    const wildcard = await fumi(["cert", "issue", "web", "*.example.org"], { env: cliEnv });
    assertEquals(wildcard.code, 1);
    assertStringIncludes(wildcard.err[0]!, "wildcard names need DNS-01");
    const email = await fumi(["cert", "issue", "web", "a.example.org", "--email", "nobody"], {
      env: cliEnv,
    });
    assertEquals(email.code, 1);
    assertStringIncludes(email.err[0]!, 'Cannot parse address "nobody"');
  });
});
