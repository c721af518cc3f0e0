/**
 * `deno task bench tls [--seconds N] [--idle N]`: TLS handshakes per second on an implicit-TLS
 * listener (driven by `openssl s_time`, TLS 1.3 and 1.2) and on a STARTTLS listener (a Deno
 * client doing the plaintext dialogue and the upgrade, 8 at a time), and the memory each idle
 * TLS connection holds in the server process. Server and clients are separate processes.
 *
 * @module
 */

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const here = new URL(".", import.meta.url).pathname;

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
}

async function output(command: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decoder.decode(stdout) + decoder.decode(stderr);
}

/** Runs the benchmark. */
export async function run(args: readonly string[]): Promise<number> {
  const seconds = option(args, "seconds", 10);
  const idle = option(args, "idle", 1000);
  console.log(
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; ${seconds} s per handshake run, ${idle} idle connections`,
  );
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", `${here}_tls_server.ts`],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = server.stdin.getWriter();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the bench server ended");
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return line;
  };
  const ask = async (command: string) => {
    await writer.write(encoder.encode(command + "\n"));
    return JSON.parse(await nextLine());
  };
  try {
    const { implicit, starttls, caFile } = JSON.parse(await nextLine());

    // Memory first, on a quiet server: the handshake runs leave garbage behind.
    const before = await ask("mem");
    const client = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${here}_tls_client.ts`, "idle", String(implicit), caFile, String(idle)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const clientOut = client.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let ready = "";
    while (!ready.includes("ready")) {
      const { value, done } = await clientOut.read();
      if (done) break;
      ready += value;
    }
    const after = await ask("mem");
    await client.stdin.close();
    await clientOut.cancel();
    await client.status;
    const per = (key: "rss" | "heap" | "external") =>
      ((after[key] - before[key]) / idle / 1024).toFixed(1);
    console.log(`idle TLS connections held by the server: ${after.active - before.active}`);
    console.log(
      `memory per idle TLS connection: ${per("rss")} KiB RSS (${per("heap")} KiB JS heap, ${
        per("external")
      } KiB external)`,
    );
    for (const version of ["-tls1_3", "-tls1_2"]) {
      const out = await output("openssl", [
        "s_time",
        "-connect",
        `127.0.0.1:${implicit}`,
        "-new",
        "-time",
        String(seconds),
        "-CAfile",
        caFile,
        version,
      ]);
      const match = /(\d+) connections in ([\d.]+)s; ([\d.]+) connections\/user sec/.exec(out) ??
        /(\d+) connections in (\d+) real seconds/.exec(out);
      const count = Number(match?.[1] ?? 0);
      console.log(
        `implicit TLS ${version === "-tls1_3" ? "1.3" : "1.2"}: ${
          (count / seconds).toFixed(0)
        } handshakes/s (openssl s_time, new session each, ${count} in ${seconds} s)`,
      );
    }

    const started = performance.now();
    const countText = await output(Deno.execPath(), [
      "run",
      "-A",
      `${here}_tls_client.ts`,
      "starttls",
      String(starttls),
      caFile,
      String(seconds),
      "8",
    ]);
    const count = Number(countText.trim().split("\n").at(-1));
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `STARTTLS (greeting, STARTTLS, 220, TLS 1.3 handshake; 8 clients): ${
        (count / elapsed).toFixed(0)
      } handshakes/s (${count} in ${elapsed.toFixed(1)} s)`,
    );
  } finally {
    await writer.write(encoder.encode("quit\n")).catch(() => {});
    await writer.close().catch(() => {});
    await reader.cancel().catch(() => {});
    await server.status;
  }
  return 0;
}
