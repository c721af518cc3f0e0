/**
 * Where `fumi version` learns its commit and build date.
 *
 * A compiled binary carries `dist/build_info.json`, which compile.sh writes, embeds with
 * `--include`, and removes from the work tree again. Run from source, that file is not read even
 * while a build is under way (it is that build's, not this checkout's): the commit is read from the checkout's `.git` (HEAD, then the branch's ref, loose or packed;
 * plain file reads, since Fumi may not run programs such as git) and the build date is "from
 * source". What cannot be found is "unknown", never a guess.
 *
 * @module
 */

/** The commit and build date of this Fumi. */
export interface BuildInfo {
  /** A commit id (40 hex digits, "-dirty" when built from a changed tree), or "unknown". */
  readonly commit: string;
  /** An ISO 8601 UTC date, "from source", or "unknown". */
  readonly date: string;
}

/** Reads a file as text; null when it does not exist or cannot be read. */
export type ReadText = (url: URL) => Promise<string | null>;

const ROOT = new URL("../../", import.meta.url);

/** Reads files with Deno; any failure (missing, a directory, denied) is null. */
export const readTextOrNull: ReadText = async (url) => {
  try {
    return await Deno.readTextFile(url);
  } catch {
    return null;
  }
};

/**
 * The build stamp of a compiled binary (`standalone`), else what the source checkout says.
 */
export async function buildInfo(
  read: ReadText = readTextOrNull,
  root = ROOT,
  standalone = Deno.build.standalone,
): Promise<BuildInfo> {
  if (standalone) {
    const stamp = parseStamp(await read(new URL("dist/build_info.json", root)));
    if (stamp) return stamp;
  }
  return {
    commit: await gitCommit(read, new URL(".git/", root)) ?? "unknown",
    date: "from source",
  };
}

function parseStamp(text: string | null): BuildInfo | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const { commit, date } = value as Record<string, unknown>;
    if (typeof commit !== "string" || typeof date !== "string") return null;
    return { commit, date };
  } catch {
    return null;
  }
}

const COMMIT = /^[0-9a-f]{40}$/;

/** The commit HEAD names in a `.git` directory, following one symbolic ref; null if unknown. */
export async function gitCommit(read: ReadText, gitDir: URL): Promise<string | null> {
  const head = (await read(new URL("HEAD", gitDir)))?.trim();
  if (head === undefined) return null;
  if (COMMIT.test(head)) return head; // a detached HEAD
  const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
  if (ref === undefined || ref.split("/").includes("..")) return null;
  const loose = (await read(new URL(ref, gitDir)))?.trim();
  if (loose !== undefined && COMMIT.test(loose)) return loose;
  // gitrepository-layout(5): packed-refs lines are "<id> <ref>", peeled tags "^<id>".
  for (const line of (await read(new URL("packed-refs", gitDir)))?.split("\n") ?? []) {
    const [id, name] = line.trim().split(" ");
    if (name === ref && id !== undefined && COMMIT.test(id)) return id;
  }
  return null;
}
