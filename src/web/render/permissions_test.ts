/**
 * The renderer loads and runs under the server's own permission set (deno.json's `fumi`
 * task): sanitize-html's dependencies read a few environment variables when loaded and when
 * parsing CSS, and a denied read would throw where the server runs, never in a test with
 * `--allow-env`. So this runs it in a child process with exactly the server's flags.
 */

import { assertEquals } from "../../../tests/assert.ts";

Deno.test("rendering works under the server's permission flags", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../../deno.json", import.meta.url)),
  ) as {
    tasks: { fumi: string };
  };
  const flags = config.tasks.fumi.split(/\s+/).filter((word) => word.startsWith("--"));
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { renderMessage } from ${JSON.stringify(new URL("./mod.ts", import.meta.url).href)};
const raw = new TextEncoder().encode(
  "Content-Type: text/html\\r\\n\\r\\n<p style='color: red; margin: 0 }'>a</p><p style='color: blue'>b</p>",
);
console.log(renderMessage(raw, { allowRemote: false }).html);
`,
    );
    // `deno run`, not `deno eval`: eval would run with every permission.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("../../../deno.json", import.meta.url).pathname,
        ...flags,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assertEquals({ code, err: decode(stderr).slice(0, 500) }, { code: 0, err: "" });
    assertEquals(decode(stdout).trim(), '<p>a</p><p style="color:blue">b</p>');
  } finally {
    await Deno.remove(script);
  }
});
