/**
 * X.509 checked against OpenSSL: what we make, openssl reads and verifies; what openssl makes
 * (a root, an intermediate and server certificates in a temporary folder), we accept in the
 * right order only.
 *
 * @module
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/assert.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  coversName,
  createCsr,
  createSelfSigned,
  describeChain,
  formatFingerprint,
  normalizeCertName,
  privateKeyPem,
  validateCertificate,
} from "./x509.ts";

const DAY = 24 * 3600 * 1000;

async function openssl(dir: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`openssl ${args.join(" ")} failed: ${text}`);
  return text;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-x509-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const read = (dir: string, name: string) => Deno.readTextFile(`${dir}/${name}`);

/**
 * A test PKI made by openssl: a root CA (10 years), an intermediate (5 years), and a server
 * certificate for mail.example.org (90 days) whose key is `keyType` ("ec" or "rsa").
 */
async function makePki(dir: string, keyType: "ec" | "rsa" = "ec"): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await Deno.writeTextFile(
    `${dir}/ca.ext`,
    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
  );
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=DNS:mail.example.org,DNS:Example.ORG,IP:192.0.2.25",
      "",
    ].join("\n"),
  );
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "root.key",
    "-out",
    "root.pem",
    "-days",
    "3650",
    "-subj",
    "/O=Fumi Test/CN=Fumi Test Root CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await openssl(
    dir,
    "req",
    ...ec,
    "-keyout",
    "inter.key",
    "-out",
    "inter.csr",
    "-subj",
    "/O=Fumi Test/CN=Fumi Test Intermediate",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "inter.csr",
    "-CA",
    "root.pem",
    "-CAkey",
    "root.key",
    "-set_serial",
    "1001",
    "-days",
    "1825",
    "-extfile",
    "ca.ext",
    "-out",
    "inter.pem",
  );
  if (keyType === "ec") {
    // SEC1 "EC PRIVATE KEY" with an "EC PARAMETERS" block before it, as `ecparam` writes.
    await openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-out", "leaf.key");
  } else {
    await openssl(dir, "genrsa", "-traditional", "-out", "leaf.key", "2048");
  }
  await openssl(
    dir,
    "req",
    "-new",
    "-key",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=mail.example.org",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "inter.pem",
    "-CAkey",
    "inter.key",
    "-set_serial",
    "2002",
    "-days",
    "90",
    "-extfile",
    "leaf.ext",
    "-out",
    "leaf.pem",
  );
  await openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-out", "leaf.pk8");
}

Deno.test("a self-signed certificate reads and verifies in openssl", async () => {
  await withDir(async (dir) => {
    const made = await createSelfSigned({
      names: ["Mail.Example.ORG", "example.org", "127.0.0.1", "::1"],
    });
    await Deno.writeTextFile(`${dir}/cert.pem`, made.chainPem);
    await Deno.writeTextFile(`${dir}/key.pem`, privateKeyPem(made.keyPkcs8));
    const text = await openssl(dir, "x509", "-in", "cert.pem", "-noout", "-text");
    for (
      const expected of [
        "Subject: CN = mail.example.org",
        "Issuer: CN = mail.example.org",
        "DNS:mail.example.org, DNS:example.org, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
        "CA:FALSE",
        "Digital Signature",
        "TLS Web Server Authentication",
        "ecdsa-with-SHA256",
        "NIST CURVE: P-256",
      ]
    ) assertStringIncludes(text, expected);
    assertStringIncludes(
      await openssl(dir, "verify", "-CAfile", "cert.pem", "cert.pem"),
      "cert.pem: OK",
    );
    // The key is the certificate's.
    assertEquals(
      await openssl(dir, "pkey", "-in", "key.pem", "-pubout"),
      await openssl(dir, "x509", "-in", "cert.pem", "-noout", "-pubkey"),
    );
    const [info] = made.chain;
    assertEquals(info!.names, ["mail.example.org", "example.org", "127.0.0.1", "::1"]);
    const days = (info!.notAfter.getTime() - Date.now()) / DAY;
    assert(days > 89.9 && days <= 90, `90 days of validity, got ${days}`);
    const fingerprint = await openssl(
      dir,
      "x509",
      "-in",
      "cert.pem",
      "-noout",
      "-fingerprint",
      "-sha256",
    );
    assertStringIncludes(fingerprint, formatFingerprint(info!.fingerprintSha256));
    // What we made, we accept.
    const valid = await validateCertificate({
      chainPem: made.chainPem,
      keyPem: privateKeyPem(made.keyPkcs8),
    });
    assertEquals(valid.chain[0]!.fingerprintSha256, info!.fingerprintSha256);
  });
});

Deno.test("RSA 2048 on request, with a year of validity", async () => {
  await withDir(async (dir) => {
    const made = await createSelfSigned({
      names: ["legacy.example.org"],
      keyAlgorithm: "rsa-2048",
      validityDays: 365,
    });
    await Deno.writeTextFile(`${dir}/cert.pem`, made.chainPem);
    const text = await openssl(dir, "x509", "-in", "cert.pem", "-noout", "-text");
    assertStringIncludes(text, "Public-Key: (2048 bit)");
    assertStringIncludes(text, "sha256WithRSAEncryption");
    assertStringIncludes(text, "Digital Signature, Key Encipherment");
    assertEquals(made.chain[0]!.keyAlgorithm, "RSA 2048");
    assertStringIncludes(
      await openssl(dir, "verify", "-CAfile", "cert.pem", "cert.pem"),
      "cert.pem: OK",
    );
  });
});

Deno.test("a CSR verifies in openssl, and the certificate signed for it imports with its key", async () => {
  await withDir(async (dir) => {
    await makePki(dir);
    const request = await createCsr(["mail.example.org", "*.Example.org"]);
    assertEquals(request.names, ["mail.example.org", "*.example.org"]);
    await Deno.writeTextFile(`${dir}/our.csr`, request.csrPem);
    const text = await openssl(dir, "req", "-in", "our.csr", "-noout", "-verify", "-text");
    assertStringIncludes(text, "verify OK");
    assertStringIncludes(text, "Subject: CN = mail.example.org");
    assertStringIncludes(text, "DNS:mail.example.org, DNS:*.example.org");
    await Deno.writeTextFile(`${dir}/eku.ext`, "extendedKeyUsage=serverAuth\n");
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      "our.csr",
      "-CA",
      "inter.pem",
      "-CAkey",
      "inter.key",
      "-set_serial",
      "3003",
      "-days",
      "90",
      "-copy_extensions",
      "copy",
      "-extfile",
      "eku.ext",
      "-out",
      "our.pem",
    );
    const chainPem = (await read(dir, "our.pem")) + (await read(dir, "inter.pem"));
    const valid = await validateCertificate({ chainPem, keyPkcs8: request.keyPkcs8 });
    assertEquals(valid.chain[0]!.names, ["mail.example.org", "*.example.org"]);
    assertEquals(valid.chain.length, 2);
    // Another key does not complete it.
    const other = await createCsr(["mail.example.org"]);
    await assertRejects(
      () => validateCertificate({ chainPem, keyPkcs8: other.keyPkcs8 }),
      InvalidInputError,
      "does not belong to the certificate",
    );
  });
});

Deno.test("an openssl chain: the right order passes, anything else says what is wrong", async () => {
  await withDir(async (dir) => {
    await makePki(dir);
    const [leaf, inter, root, key, pk8] = await Promise.all(
      ["leaf.pem", "inter.pem", "root.pem", "leaf.key", "leaf.pk8"].map((n) => read(dir, n)),
    );
    assertStringIncludes(key!, "BEGIN EC PARAMETERS");
    assertStringIncludes(key!, "BEGIN EC PRIVATE KEY");

    const valid = await validateCertificate({ chainPem: leaf! + inter!, keyPem: key! });
    assertEquals(valid.chain.map((c) => c.subject), [
      "CN=mail.example.org",
      "O=Fumi Test, CN=Fumi Test Intermediate",
    ]);
    assertEquals(valid.chain[0]!.names, ["mail.example.org", "example.org", "192.0.2.25"]);
    assertEquals(valid.chain[1]!.isCa, true);
    // The stored chain holds certificates only, and openssl accepts it against the root.
    await Deno.writeTextFile(`${dir}/stored.pem`, valid.chainPem);
    assertEquals(valid.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assertStringIncludes(
      await openssl(dir, "verify", "-CAfile", "root.pem", "-untrusted", "stored.pem", "leaf.pem"),
      "leaf.pem: OK",
    );
    // The key is now PKCS#8 and still the leaf's.
    await Deno.writeTextFile(`${dir}/stored.key`, privateKeyPem(valid.keyPkcs8));
    assertEquals(
      await openssl(dir, "pkey", "-in", "stored.key", "-pubout"),
      await openssl(dir, "pkey", "-in", "leaf.key", "-pubout"),
    );

    // With the root, with a PKCS#8 key, or a key file that also holds the certificate: fine.
    await validateCertificate({ chainPem: leaf! + inter! + root!, keyPem: pk8! });
    await validateCertificate({ chainPem: leaf! + inter!, keyPem: leaf! + pk8! });
    // A combined file as the chain keeps only its certificates.
    const combined = await validateCertificate({ chainPem: pk8! + leaf! + inter!, keyPem: pk8! });
    assert(!combined.chainPem.includes("PRIVATE KEY"));

    const refused: [string, string, string][] = [
      [
        leaf!,
        key!,
        'Missing intermediate certificate: the file holds only the server\'s certificate, issued by "O=Fumi Test, CN=Fumi Test Intermediate"',
      ],
      [inter! + leaf!, key!, "out of order: the key belongs to certificate 2"],
      [
        leaf! + root! + inter!,
        key!,
        'out of order: certificate 3 ("O=Fumi Test, CN=Fumi Test Intermediate") issued certificate 1',
      ],
      [leaf! + root!, key!, "did not issue certificate 1"],
      [leaf! + inter!, "", "No private key found"],
      [leaf! + inter!, root!, "No private key found"],
      [key!, key!, "holds a private key but no certificate"],
      ["hello", key!, "No certificate found"],
      [leaf! + inter!, await read(dir, "root.key"), "does not belong to the certificate"],
    ];
    for (const [chainPem, keyPem, message] of refused) {
      await assertRejects(
        () => validateCertificate({ chainPem, keyPem }),
        InvalidInputError,
        message,
      );
    }
    await openssl(
      dir,
      "pkcs8",
      "-topk8",
      "-in",
      "leaf.key",
      "-passout",
      "pass:secret",
      "-out",
      "enc.key",
    );
    await assertRejects(
      async () =>
        validateCertificate({ chainPem: leaf! + inter!, keyPem: await read(dir, "enc.key") }),
      InvalidInputError,
      "The private key is encrypted",
    );
  });
});

Deno.test('an RSA key in PKCS#1 ("RSA PRIVATE KEY") is converted to PKCS#8', async () => {
  await withDir(async (dir) => {
    await makePki(dir, "rsa");
    const key = await read(dir, "leaf.key");
    assertStringIncludes(key, "BEGIN RSA PRIVATE KEY");
    const valid = await validateCertificate({
      chainPem: (await read(dir, "leaf.pem")) + (await read(dir, "inter.pem")),
      keyPem: key,
    });
    assertEquals(valid.chain[0]!.keyAlgorithm, "RSA 2048");
    await Deno.writeTextFile(`${dir}/stored.key`, privateKeyPem(valid.keyPkcs8));
    assertStringIncludes(await read(dir, "stored.key"), "BEGIN PRIVATE KEY");
    assertEquals(
      await openssl(dir, "pkey", "-in", "stored.key", "-pubout"),
      await openssl(dir, "pkey", "-in", "leaf.key", "-pubout"),
    );
    // An EC key cannot stand in for it.
    const ec = await createSelfSigned({ names: ["mail.example.org"] });
    await assertRejects(
      async () =>
        validateCertificate({
          chainPem: (await read(dir, "leaf.pem")) + (await read(dir, "inter.pem")),
          keyPem: privateKeyPem(ec.keyPkcs8),
        }),
      InvalidInputError,
      "cannot be read as RSA",
    );
  });
});

Deno.test("an expired or not yet valid certificate is refused", async () => {
  const now = Date.now();
  const old = await createSelfSigned({
    names: ["mail.example.org"],
    now: new Date(now - 120 * DAY),
    validityDays: 90,
  });
  await assertRejects(
    () => validateCertificate({ chainPem: old.chainPem, keyPkcs8: old.keyPkcs8 }),
    InvalidInputError,
    "expired on",
  );
  // Valid at the time it names.
  await validateCertificate({
    chainPem: old.chainPem,
    keyPkcs8: old.keyPkcs8,
    now: new Date(now - 100 * DAY),
  });
  const future = await createSelfSigned({
    names: ["mail.example.org"],
    now: new Date(now + 30 * DAY),
  });
  await assertRejects(
    () => validateCertificate({ chainPem: future.chainPem, keyPkcs8: future.keyPkcs8 }),
    InvalidInputError,
    "is not valid before",
  );
});

Deno.test("a certificate not meant for TLS servers is refused", async () => {
  await withDir(async (dir) => {
    await openssl(
      dir,
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "30",
      "-subj",
      "/CN=client.example.org",
      "-addext",
      "extendedKeyUsage=clientAuth",
    );
    await assertRejects(
      async () =>
        validateCertificate({
          chainPem: await read(dir, "cert.pem"),
          keyPem: await read(dir, "key.pem"),
        }),
      InvalidInputError,
      "not for TLS servers",
    );
  });
});

Deno.test("certificate names: DNS names, wildcards and IP addresses", () => {
  const cases: [string, string][] = [
    ["Mail.Example.ORG.", "mail.example.org"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["*.Example.org", "*.example.org"],
    ["192.0.2.1", "192.0.2.1"],
    ["2001:DB8::0:1", "2001:db8::1"],
    ["localhost", "localhost"],
  ];
  for (const [input, expected] of cases) assertEquals(normalizeCertName(input), expected, input);
  for (
    const bad of [
      "mail.*.example.org",
      "a*.example.org",
      "exa mple.org",
      "",
      "010.0.0.1",
      "256.1.1.1",
    ]
  ) {
    let threw = false;
    try {
      normalizeCertName(bad);
    } catch (error) {
      threw = error instanceof InvalidInputError;
    }
    assert(threw, `"${bad}" is refused`);
  }
  assert(coversName(["*.example.org"], "mail.example.org"));
  assert(!coversName(["*.example.org"], "a.mail.example.org"));
  assert(!coversName(["*.example.org"], "example.org"));
  assert(coversName(["mail.example.org"], "MAIL.example.org."));
});

Deno.test("what we make serves TLS: a Deno client trusts it for its names", async () => {
  for (const keyAlgorithm of ["ecdsa-p256", "rsa-2048"] as const) {
    const made = await createSelfSigned({
      names: ["mail.example.org", "127.0.0.1"],
      keyAlgorithm,
    });
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: made.chainPem,
      key: privateKeyPem(made.keyPkcs8),
    });
    try {
      for (const hostname of ["mail.example.org", "127.0.0.1"]) {
        const served = (async () => {
          const conn = await listener.accept();
          await conn.write(new TextEncoder().encode("220 ok\r\n"));
          conn.close();
        })();
        const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
        const tls = await Deno.startTls(tcp, { hostname, caCerts: [made.chainPem] });
        const buffer = new Uint8Array(16);
        const n = await tls.read(buffer);
        assertEquals(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "220 ok\r\n", hostname);
        tls.close();
        await served;
      }
    } finally {
      listener.close();
    }
  }
});

Deno.test("describeChain lists what is stored", async () => {
  const made = await createSelfSigned({ names: ["mail.example.org"] });
  const [info] = await describeChain(made.chainPem);
  assertEquals(info!.subject, "CN=mail.example.org");
  assertEquals(info!.selfIssued, true);
  assertEquals(info!.isCa, false);
  assertEquals(info!.keyAlgorithm, "ECDSA P-256");
  assertEquals(info!.fingerprintSha256.length, 64);
});
