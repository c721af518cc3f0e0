import { X509Certificate } from "node:crypto";
import { makeTestPki } from "../../tests/tls.ts";
import { assertEquals } from "../../tests/assert.ts";
import type { TlsaRecord } from "../dns/mod.ts";
import { matchChain, usable } from "./mod.ts";

/** DER of a PEM certificate, and of its SPKI, both as openssl writes them (not our code). */
async function openssl(pemFile: string): Promise<{ cert: Uint8Array; spki: Uint8Array }> {
  const run = async (args: string[], stdin?: Uint8Array) => {
    const child = new Deno.Command("openssl", {
      args,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin) {
      const writer = child.stdin.getWriter();
      await writer.write(stdin);
      await writer.close();
    }
    const { stdout, success } = await child.output();
    assertEquals(success, true);
    return stdout;
  };
  const cert = await run(["x509", "-in", pemFile, "-outform", "DER"]);
  const pubkey = await run(["x509", "-in", pemFile, "-pubkey", "-noout"]);
  const spki = await run(["pkey", "-pubin", "-outform", "DER"], pubkey);
  return { cert, spki };
}

async function digest(algorithm: "SHA-256" | "SHA-512", data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, new Uint8Array(data)));
}

function tlsa(usage: number, selector: number, matchingType: number, data: Uint8Array): TlsaRecord {
  return {
    type: "TLSA",
    name: "_25._tcp.mx.example.net",
    ttl: 300,
    usage,
    selector,
    matchingType,
    data,
  };
}

const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);

Deno.test("DANE matching of a server's certificate chain (RFC 7672 §3.1)", async (t) => {
  const pki = await makeTestPki();
  const other = await makeTestPki();
  try {
    const leaf = await pki.issue(["mx.example.net"]);
    const stranger = await other.issue(["mx.example.net"]);
    const mine = await openssl(leaf.certFile);
    const theirs = await openssl(stranger.certFile);
    const ca = await openssl(pki.caFile);
    const names = ["mx.example.net"];
    const check = async (records: TlsaRecord[], chain: Uint8Array[], n = names) =>
      await matchChain(usable(records), chain, { names: n });

    await t.step(
      "DANE-EE: 3 1 1, 3 0 1, 3 1 2, 3 1 0, 3 0 0 match the server's certificate",
      async () => {
        for (
          const record of [
            tlsa(3, 1, 1, await digest("SHA-256", mine.spki)),
            tlsa(3, 0, 1, await digest("SHA-256", mine.cert)),
            tlsa(3, 1, 2, await digest("SHA-512", mine.spki)),
            tlsa(3, 1, 0, mine.spki),
            tlsa(3, 0, 0, mine.cert),
          ]
        ) {
          const result = await check([record], [der(leaf.certPem)]);
          assertEquals(
            result,
            { ok: true, record },
            `${record.usage} ${record.selector} ${record.matchingType}`,
          );
        }
      },
    );

    await t.step("DANE-EE ignores the name (RFC 7672 §3.1.1)", async () => {
      const record = tlsa(3, 1, 1, await digest("SHA-256", mine.spki));
      assertEquals(await check([record], [der(leaf.certPem)], ["elsewhere.example"]), {
        ok: true,
        record,
      });
    });

    await t.step(
      "DANE-EE: another key matches nothing; one of several records suffices",
      async () => {
        const wrong = tlsa(3, 1, 1, await digest("SHA-256", theirs.spki));
        assertEquals(await check([wrong], [der(leaf.certPem)]), {
          ok: false,
          problem: "the server's certificate matches no DANE-EE TLSA record",
        });
        const right = tlsa(3, 1, 1, await digest("SHA-256", mine.spki));
        assertEquals(await check([wrong, right], [der(leaf.certPem)]), { ok: true, record: right });
      },
    );

    await t.step(
      "PKIX usages, unknown types and short digests are unusable (RFC 7672 §3.1.3)",
      async () => {
        const hash = await digest("SHA-256", mine.spki);
        const records = [
          tlsa(0, 1, 1, hash),
          tlsa(1, 1, 1, hash),
          tlsa(3, 2, 1, hash),
          tlsa(3, 1, 3, hash),
          tlsa(3, 1, 1, hash.slice(1)),
          tlsa(3, 1, 2, hash),
        ];
        assertEquals(usable(records), []);
      },
    );

    await t.step("DANE-TA: 2 1 1 of the CA sent in the chain, the name checked", async () => {
      const record = tlsa(2, 1, 1, await digest("SHA-256", ca.spki));
      const chain = [der(leaf.certPem), der(pki.caPem)];
      assertEquals(await check([record], chain), { ok: true, record });
      assertEquals(await check([record], chain, ["other.example.net"]), {
        ok: false,
        problem: "the server's certificate names none of other.example.net",
      });
    });

    await t.step(
      "DANE-TA: 2 0 0 gives the anchor in full, so the server need not send it",
      async () => {
        const record = tlsa(2, 0, 0, ca.cert);
        assertEquals(await check([record], [der(leaf.certPem)]), { ok: true, record });
      },
    );

    await t.step(
      "DANE-TA: a certificate from another CA does not chain to the anchor",
      async () => {
        const record = tlsa(2, 0, 0, ca.cert);
        assertEquals(await check([record], [der(stranger.certPem)]), {
          ok: false,
          problem: 'certificate "CN=mx.example.net" is not signed by the next one',
        });
        const hashed = tlsa(2, 1, 1, await digest("SHA-256", ca.spki));
        assertEquals(await check([hashed], [der(stranger.certPem), der(other.caPem)]), {
          ok: false,
          problem: "the server's certificate chain matches no TLSA record",
        });
      },
    );

    await t.step("no certificate at all matches nothing", async () => {
      const record = tlsa(3, 1, 1, await digest("SHA-256", mine.spki));
      assertEquals(await check([record], []), {
        ok: false,
        problem: "the server sent no certificate",
      });
    });
  } finally {
    await pki.remove();
    await other.remove();
  }
});
