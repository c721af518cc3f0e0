/**
 * The page shell: one stylesheet and one client module from static/ (no inline script or
 * style: the CSP forbids both), light and dark themes from `prefers-color-scheme` in the CSS.
 *
 * @module
 */

import type { Child } from "hono/jsx";
import type { Assets } from "../static_files.ts";

/** What every page shows in its header when signed in. */
export interface SignedInChrome {
  readonly address: string;
  readonly csrfToken: string;
}

/** A full HTML page. */
export function Page(
  props: { title: string; assets: Assets; chrome?: SignedInChrome; children?: Child },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title} · Fumi</title>
        <link rel="icon" href={props.assets.url("favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={props.assets.url("webmail.css")} />
        <script type="module" src={props.assets.url("webmail.js")}></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">Fumi</span>
          {props.chrome && (
            <nav class="account" aria-label="Account">
              <span class="who">{props.chrome.address}</span>
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={props.chrome.csrfToken} />
                <button type="submit">Sign out</button>
              </form>
              <form method="post" action="/logout/everywhere">
                <input type="hidden" name="_csrf" value={props.chrome.csrfToken} />
                <button type="submit" data-confirm="Sign out on every device?">
                  Sign out everywhere
                </button>
              </form>
            </nav>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

/** A list of validation or sign-in problems, announced to screen readers. */
export function Problems(props: { messages: readonly string[] }) {
  if (props.messages.length === 0) return null;
  return (
    <div class="problems" role="alert">
      <ul>{props.messages.map((m) => <li key={m}>{m}</li>)}</ul>
    </div>
  );
}
