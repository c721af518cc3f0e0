/**
 * The webmail's Hono app: security headers and the same-origin check on every request, the
 * routes of each area mounted with `app.route()`, one error handler, static assets.
 *
 * Areas: sign-in (routes/sign_in.tsx), mail (routes/mail.tsx), new-mail events
 * (routes/events.ts). Compose (`routes/compose.tsx`, `/compose`) and settings
 * (`routes/settings.tsx`, `/settings`: password, 2FA enrolment, app passwords, sessions list
 * from `WebSessions.list`) mount here the same way.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { type WebDeps, type WebEnv, WebError } from "./context.ts";
import { sameOrigin } from "./middleware/csrf.ts";
import { securityHeaders } from "./middleware/security.ts";
import type { ClientInfo } from "./node_fetch.ts";
import { eventRoutes, PING_MS } from "./routes/events.ts";
import { mailRoutes } from "./routes/mail.tsx";
import { signInRoutes } from "./routes/sign_in.tsx";
import { Assets } from "./static_files.ts";
import { Page } from "./views/layout.tsx";

/** Builds the app. */
export async function createWebApp(deps: WebDeps): Promise<Hono<WebEnv>> {
  const assets = await Assets.load(deps.staticDir);
  const app = new Hono<WebEnv>();
  app.use("*", securityHeaders);
  app.use("*", sameOrigin);

  app.get("/static/:name", (c) => {
    const asset = assets.files.get(c.req.param("name"));
    if (!asset) return c.notFound();
    const versioned = c.req.query("v") === asset.version;
    return c.body(asset.body, 200, {
      "content-type": asset.type,
      // A versioned URL never changes content; an unversioned one may.
      "cache-control": versioned ? "public, max-age=31536000, immutable" : "no-cache",
    });
  });
  app.get("/", (c) => c.redirect("/mail", 303));
  app.route("/", signInRoutes(deps, assets));
  app.route("/mail", mailRoutes(deps, assets));
  app.route("/events", eventRoutes(deps, { pingMs: deps.eventPingMs ?? PING_MS }));

  const errorPage = (title: string, message: string) => (
    <Page title={title} assets={assets}>
      <section class="card narrow">
        <h1>{title}</h1>
        <p role="alert">{message}</p>
        <p>
          <a href="/mail">Back to your mail</a>
        </p>
      </section>
    </Page>
  );
  app.notFound((c) => c.html(errorPage("Not found", "There is nothing at this address."), 404));
  // The one place errors become responses: our sentence for a WebError, nothing internal else.
  app.onError((error, c) => {
    if (error instanceof WebError) {
      const title = error.status === 403 ? "Refused" : "Cannot do that";
      return c.html(errorPage(title, error.message), error.status);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.html(errorPage("Cannot do that", "The request was malformed."), 400);
    }
    deps.log.error("web request failed", { path: c.req.path, error });
    return c.html(errorPage("Something went wrong", "Please try again in a moment."), 500);
  });
  return app;
}

/** The app as the HTTPS listener's handler. */
export function webHandler(app: Hono<WebEnv>) {
  return (request: Request, client: ClientInfo): Promise<Response> =>
    Promise.resolve(app.fetch(request, { ip: client.ip }));
}
