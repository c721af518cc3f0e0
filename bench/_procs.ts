/**
 * Processes a benchmark started (Linux): a process and its descendants, their memory, and
 * stopping them by id. Nothing here touches a process outside the trees it is given.
 *
 * Deno allows reading /proc only with --allow-all, which the bench task does not give, so
 * /proc is read through `ps` and `grep` (the task allows running programs).
 *
 * @module
 */

const decoder = new TextDecoder();

/** Every live process now (zombies left out): id and parent. */
async function processTable(): Promise<{ pid: number; ppid: number }[]> {
  const { text, ok } = await output("ps", ["-e", "-o", "pid=,ppid=,stat="]);
  if (!ok) throw new Error(`ps failed: ${text}`);
  return text.trim().split("\n").flatMap((line) => {
    const [pid, ppid, stat] = line.trim().split(/\s+/);
    return stat?.startsWith("Z") ? [] : [{ pid: Number(pid), ppid: Number(ppid) }];
  });
}

/** The ids of `root` and every process below it that is alive now. */
export async function processTree(root: number): Promise<number[]> {
  const table = await processTable();
  const found: number[] = [];
  const visit = (pid: number) => {
    found.push(pid);
    for (const child of table) if (child.ppid === pid) visit(child.pid);
  };
  if (table.some((p) => p.pid === root)) visit(root);
  return found;
}

/** The sum of a field over the processes' proc(5) files, in bytes; gone processes count 0. */
async function sumField(pids: readonly number[], file: string, field: string): Promise<number> {
  if (pids.length === 0) return 0;
  // grep exits 2 when a process ended meanwhile; the others' lines are still printed.
  const { text } = await output("grep", [
    "-h",
    `^${field}:`,
    ...pids.map((p) => `/proc/${p}/${file}`),
  ]);
  let sum = 0;
  for (const match of text.matchAll(/^\w+:\s+(\d+) kB/gm)) sum += Number(match[1]) * 1024;
  return sum;
}

/** The summed PSS of the processes, in bytes, now; gone processes count 0. */
export function pssNow(pids: readonly number[]): Promise<number> {
  return sumField(pids, "smaps_rollup", "Pss");
}

/** A process's peak resident memory (VmHWM of /proc/PID/status) in bytes; 0 if it is gone. */
export function peakRss(pid: number): Promise<number> {
  return sumField([pid], "status", "VmHWM");
}

/**
 * Samples the summed proportional set size (PSS: each shared page divided among the processes
 * that map it, so shared libraries count once) of the trees under `roots()` every `everyMs`;
 * the returned function stops and gives the largest sum seen, in bytes.
 */
export function samplePss(roots: () => number[], everyMs = 500): () => Promise<number> {
  let peak = 0;
  let running = true;
  let wake = () => {};
  const loop = (async () => {
    while (running) {
      const pids = (await Promise.all(roots().map(processTree))).flat();
      peak = Math.max(peak, await pssNow(pids));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  loop.catch(() => {}); // Rethrown by the returned function.
  return async () => {
    running = false;
    wake();
    await loop;
    return peak;
  };
}

/**
 * Waits up to `ms` for every process in `pids` to end, then kills those left with SIGKILL;
 * returns the ids it had to kill.
 */
export async function reap(pids: readonly number[], ms: number): Promise<number[]> {
  const until = performance.now() + ms;
  const living = async () => {
    const table = new Set((await processTable()).map((p) => p.pid));
    return pids.filter((pid) => table.has(pid));
  };
  let left = await living();
  while (left.length > 0 && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await living();
  }
  for (const pid of left) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // It ended in between.
    }
  }
  return left;
}

/** A process's resident memory now (VmRSS of /proc/PID/status) in bytes; 0 if it is gone. */
export function rssNow(pid: number): Promise<number> {
  return sumField([pid], "status", "VmRSS");
}

/** Mebibytes, for people. */
export function mib(bytes: number): string {
  return bytes > 0 ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : "-";
}

/** Runs a program to its end; its stdout and stderr, and whether it succeeded. */
export async function output(
  command: string,
  args: string[],
): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  return { ok: out.success, text: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}
