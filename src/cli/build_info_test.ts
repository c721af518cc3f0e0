import { assertEquals } from "../../tests/assert.ts";
import { buildInfo, gitCommit, type ReadText } from "./build_info.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);

function files(entries: Record<string, string>): ReadText {
  return (url) => Promise.resolve(entries[url.pathname] ?? null);
}

const root = new URL("file:///repo/");
const git = new URL(".git/", root);

Deno.test("gitCommit follows HEAD to a loose ref, then to packed-refs", async () => {
  assertEquals(await gitCommit(files({ "/repo/.git/HEAD": `${A}\n` }), git), A);
  const loose = { "/repo/.git/HEAD": "ref: refs/heads/main\n", "/repo/.git/refs/heads/main": B };
  assertEquals(await gitCommit(files(loose), git), B);
  const packed = {
    "/repo/.git/HEAD": "ref: refs/heads/main\n",
    "/repo/.git/packed-refs":
      `# pack-refs with: peeled fully-peeled sorted\n${A} refs/heads/other\n${B} refs/heads/main\n^${A}\n`,
  };
  assertEquals(await gitCommit(files(packed), git), B);
});

Deno.test("gitCommit is null when it cannot know", async () => {
  assertEquals(await gitCommit(files({}), git), null);
  assertEquals(await gitCommit(files({ "/repo/.git/HEAD": "ref: refs/heads/gone\n" }), git), null);
  assertEquals(await gitCommit(files({ "/repo/.git/HEAD": "ref: refs/../../x\n" }), git), null);
  assertEquals(await gitCommit(files({ "/repo/.git/HEAD": "garbage" }), git), null);
});

Deno.test("buildInfo prefers the compiled stamp, else the checkout, else unknown", async () => {
  const stamp = { "/repo/dist/build_info.json": `{"commit":"${A}","date":"2026-11-28T07:00:00Z"}` };
  assertEquals(await buildInfo(files(stamp), root, true), {
    commit: A,
    date: "2026-11-28T07:00:00Z",
  });
  assertEquals(await buildInfo(files({ "/repo/.git/HEAD": B }), root, true), {
    commit: B,
    date: "from source",
  });
  assertEquals(await buildInfo(files({ "/repo/dist/build_info.json": "[]" }), root, true), {
    commit: "unknown",
    date: "from source",
  });
});

Deno.test("from source, a stamp that a build under way left in dist/ is not this checkout's", async () => {
  const building = {
    "/repo/dist/build_info.json": `{"commit":"${A}","date":"2026-11-28T07:00:00Z"}`,
    "/repo/.git/HEAD": B,
  };
  assertEquals(await buildInfo(files(building), root, false), { commit: B, date: "from source" });
  // What `fumi version` from source uses: this process is not a compiled binary.
  assertEquals(Deno.build.standalone, false);
});
