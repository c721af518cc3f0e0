/**
 * An independent DKIM verifier for tests: dkimpy (Debian's python3-dkim, the module behind
 * `dkimverify`), given our TXT records through its `dnsfunc` instead of DNS.
 *
 * @module
 */

/** The Python that has Debian's `dkim` module: the interpreter `dkimverify` runs under. */
async function python(): Promise<string> {
  for (const dir of ["/usr/bin", "/bin"]) {
    try {
      const head = (await Deno.readTextFile(`${dir}/dkimverify`)).split("\n")[0]!;
      if (head.startsWith("#!")) return head.slice(2).trim().split(" ")[0]!;
    } catch {
      // not there
    }
  }
  return "python3";
}

const SCRIPT = `
import json, sys, dkim
records = json.loads(sys.argv[1])
message = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    text = records.get(name.rstrip("."))
    return text.encode() if text is not None else None
d = dkim.DKIM(message, minkey=1024)
count = sum(1 for line in message.split(b"\\r\\n\\r\\n")[0].split(b"\\r\\n")
            if line.lower().startswith(b"dkim-signature:"))
results = []
for i in range(count):
    try:
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        ok = False  # e.g. "body hash mismatch"
    results.append({"ok": bool(ok), "algorithm": d.signature_fields.get(b"a", b"").decode()})
print(json.dumps(results))
`;

/** One signature's verdict. */
export interface Verdict {
  readonly ok: boolean;
  readonly algorithm: string;
}

/**
 * Verifies every DKIM-Signature field of `message` with dkimpy; `records` maps a record name
 * (`sel._domainkey.example.org`) to its TXT text.
 */
export async function dkimpyVerify(
  message: Uint8Array,
  records: Record<string, string>,
): Promise<Verdict[]> {
  const child = new Deno.Command(await python(), {
    args: ["-c", SCRIPT, JSON.stringify(records)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { LANG: "C.UTF-8", PATH: "/usr/bin:/bin" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(message);
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`dkimpy failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as Verdict[];
}

const ARC_SCRIPT = `
import json, sys, dkim
records = json.loads(sys.argv[1])
message = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    text = records.get(name.rstrip("."))
    return text.encode() if text is not None else None
cv, sets, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
def text(value):
    return value.decode() if isinstance(value, bytes) else value
print(json.dumps({
    "cv": text(cv),
    "reason": reason,
    "sets": [{
        "instance": s["instance"],
        "amsValid": bool(s.get("ams-valid")),
        "asValid": bool(s.get("as-valid")),
        "cv": text(s.get("cv")),
        "domain": text(s.get("as-domain")),
    } for s in sets],
}))
`;

/** What dkimpy's ARC verifier (`arcverify`'s `dkim.arc_verify`) found. */
export interface ArcVerdict {
  /** The chain's status; null for a chain a `cv=fail` seal ended (RFC 8617 §5.1 step 2). */
  readonly cv: "pass" | "fail" | "none" | null;
  readonly reason: string;
  /** One entry per ARC Set, newest first. */
  readonly sets: readonly {
    readonly instance: number;
    readonly amsValid: boolean;
    readonly asValid: boolean;
    readonly cv: string;
    readonly domain: string;
  }[];
}

/**
 * Verifies the ARC chain of `message` with dkimpy (the module behind `arcverify`); `records`
 * maps a record name (`sel._domainkey.example.org`) to its TXT text.
 */
export async function arcpyVerify(
  message: Uint8Array,
  records: Record<string, string>,
): Promise<ArcVerdict> {
  const child = new Deno.Command(await python(), {
    args: ["-c", ARC_SCRIPT, JSON.stringify(records)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { LANG: "C.UTF-8", PATH: "/usr/bin:/bin" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(message);
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`dkimpy failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as ArcVerdict;
}

const ARC_SIGN_SCRIPT = `
import sys, dkim
selector, domain, srv_id, key_file = sys.argv[1:5]
message = sys.stdin.buffer.read()
with open(key_file, "rb") as f:
    key = f.read()
fields = dkim.arc_sign(message, selector.encode(), domain.encode(), key, srv_id.encode())
if not fields:
    sys.exit("arc_sign added no ARC set")
sys.stdout.buffer.write(b"".join(fields) + message)
`;

/**
 * Seals `message` with dkimpy's ARC signer (what `arcsign` runs): its Authentication-Results
 * for `srvId` become the AAR, and the set is prepended. `pkcs8` is the RSA key (DER), which
 * openssl rewrites as the PKCS#1 PEM dkimpy reads.
 */
export async function arcpySign(
  message: Uint8Array,
  key: { readonly pkcs8: Uint8Array; readonly domain: string; readonly selector: string },
  srvId: string,
): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-arcpy-" });
  try {
    await Deno.writeFile(`${dir}/key.der`, key.pkcs8, { mode: 0o600 });
    const converted = await new Deno.Command("openssl", {
      args: [
        "pkey",
        "-inform",
        "DER",
        "-in",
        `${dir}/key.der`,
        "-traditional",
        "-out",
        `${dir}/key.pem`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!converted.success) {
      throw new Error(`openssl failed: ${new TextDecoder().decode(converted.stderr)}`);
    }
    const child = new Deno.Command(await python(), {
      args: ["-c", ARC_SIGN_SCRIPT, key.selector, key.domain, srvId, `${dir}/key.pem`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: { LANG: "C.UTF-8", PATH: "/usr/bin:/bin" },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(message);
    await writer.close();
    const output = await child.output();
    if (!output.success) {
      throw new Error(`dkimpy arc_sign failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    return output.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
