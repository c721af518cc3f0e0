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
