/**
 * The XSS corpus in a real browser (Debian's Chromium, driven by playwright-core), in three
 * settings, each of which must hold on its own (defence in depth):
 *
 * 1. the sanitiser as the only defence — its output in a plain, unsandboxed srcdoc frame
 *    without a CSP: no dialog opens and no request leaves the page;
 * 2. the sandbox and the CSP as the only defence — the corpus unsanitised in the webmail's
 *    frame: no dialog, no request (not even `<meta refresh>`);
 * 3. as the webmail shows it with remote content allowed: the corpus's remote images load
 *    (so the listener that counts requests is seen to work), and still nothing runs.
 *
 * A control page with an unsanitised, unsandboxed payload shows that the harness does see a
 * dialog and a request when there is one.
 *
 * playwright-core reads files under /proc/sys when it is loaded, which Deno allows only with
 * every permission; the test suite runs with fewer, so the test runs this file again in a
 * `deno test -A` child process and passes when the child passes.
 */

import { assertEquals } from "../../../tests/assert.ts";
import { type XssCase, xssCorpus } from "../../../tests/xss_corpus.ts";
import { escapeHtml, FRAME_SANDBOX, frameDocument, sanitizeMessageHtml } from "./mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
/** Whether this process has every permission (ffi is granted by nothing less than -A here). */
const allPermissions = (await Deno.permissions.query({ name: "ffi" })).state === "granted";

/** Runs this file under `deno test -A` and fails with its output when it fails. */
async function inChild(): Promise<void> {
  const root = new URL("../../../", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--no-prompt",
      "--config",
      `${root}deno.json`,
      new URL(import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`The browser test failed in its child process:\n${output}`);
}

/**
 * A page of frames, one per case: srcdoc documents, sandboxed or not. The frames are small
 * enough to all be in the viewport, so that nothing is left unloaded as off-screen.
 */
function page(cases: XssCase[], frame: (entry: XssCase) => string): string {
  return "<!doctype html><html><head><style>iframe{width:60px;height:40px;border:0}</style>" +
    "</head><body>" + cases.map(frame).join("\n") + "</body></html>";
}

Deno.test({
  name: "XSS corpus in Chromium: nothing runs, nothing loads until allowed, then images load",
  ignore: !haveChromium && Deno.env.get("CI") !== "true", // CI installs it (.ci/run)
  sanitizeResources: false, // Chromium's pipes are closed by browser.close(), after the test's checks
  sanitizeOps: false,
  async fn() {
    if (!allPermissions) return await inChild();
    const { chromium } = await import("playwright-core");
    const hits: string[] = [];
    const counter = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      hits.push(new URL(request.url).pathname);
      return new Response("", { status: 404 });
    });
    const origin = `http://127.0.0.1:${counter.addr.port}`;
    const corpus = xssCorpus(origin);
    const pages = new Map<string, string>();
    pages.set(
      "/sanitiser-only",
      page(corpus, (entry) => {
        const { html } = sanitizeMessageHtml(entry.html, { allowRemote: false });
        return `<iframe title="${entry.name}" srcdoc="${escapeHtml(html)}"></iframe>`;
      }),
    );
    pages.set(
      "/deployed-remote-allowed",
      page(corpus, (entry) => {
        const { html } = sanitizeMessageHtml(entry.html, { allowRemote: true });
        const doc = frameDocument(html, true);
        return `<iframe title="${entry.name}" sandbox="${FRAME_SANDBOX}" srcdoc="${
          escapeHtml(doc)
        }"></iframe>`;
      }),
    );
    pages.set(
      "/sandbox-and-csp-only",
      page(corpus, (entry) => {
        const doc = frameDocument(entry.html, false); // not sanitised: the other two layers alone
        return `<iframe title="${entry.name}" sandbox="${FRAME_SANDBOX}" srcdoc="${
          escapeHtml(doc)
        }"></iframe>`;
      }),
    );
    // A control, not sanitised: proves that this harness sees script run and images load.
    const control = `<img src=x onerror="alert('control')"><img src="${origin}/control.gif">`;
    pages.set("/control", `<!doctype html><iframe srcdoc="${escapeHtml(control)}"></iframe>`);
    const host = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const body = pages.get(new URL(request.url).pathname);
      return body === undefined
        ? new Response("", { status: 404 })
        : new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const tab = await browser.newPage();
      const dialogs: string[] = [];
      const requests: string[] = [];
      tab.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      tab.on("request", (request) => requests.push(request.url()));
      const hostOrigin = `http://127.0.0.1:${host.addr.port}`;

      await tab.goto(`${hostOrigin}/control`, { waitUntil: "load" });
      // The positive control: waited for (a loaded machine is slow), not given a fixed time.
      for (let i = 0; i < 100 && (dialogs.length === 0 || hits.length === 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertEquals([dialogs, hits], [["control"], ["/control.gif"]]);
      dialogs.length = 0;
      hits.length = 0;
      requests.length = 0;

      await tab.goto(`${hostOrigin}/sanitiser-only`, { waitUntil: "load" });
      for (let y = 0; y < 2000; y += 100) await tab.mouse.move(150, y); // hover handlers, if any
      await tab.keyboard.press("Tab");
      await new Promise((resolve) => setTimeout(resolve, 500));
      assertEquals(dialogs, []);
      assertEquals(requests, [`${hostOrigin}/sanitiser-only`]);
      assertEquals(hits, []);

      await tab.goto(`${hostOrigin}/sandbox-and-csp-only`, { waitUntil: "load" });
      for (let y = 0; y < 2000; y += 100) await tab.mouse.move(150, y);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assertEquals([dialogs, hits], [[], []]); // meta refresh too: sandboxed automatic features

      requests.length = 0;
      await tab.goto(`${hostOrigin}/deployed-remote-allowed`, { waitUntil: "load" });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assertEquals(dialogs, []);
      // What reached the listener (the browser's own request events miss some made by
      // sandboxed frames): the corpus's remote images, now allowed — http src, srcset,
      // backgrounds, the pixel. The https and protocol-relative ones fail their TLS handshake
      // with this plain-HTTP listener. CSS url() backgrounds stay out, as documented.
      const remote = [...new Set(hits)].sort();
      assertEquals(remote, ["/1x.gif", "/bg.gif", "/http.gif", "/pixel.gif", "/td.gif"]);
    } finally {
      await browser.close();
      await host.shutdown();
      await counter.shutdown();
    }
  },
});
