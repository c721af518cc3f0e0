/**
 * Sign-in and sign-out: address and password, then a TOTP code when the account's second factor
 * is on (src/auth/login.ts `checkPassword`, `checkSecondFactor`: the brute-force delays, counting
 * and bans of every protocol), "sign out" and "sign out everywhere".
 *
 * A wrong password and an unknown address get the same page, status and (through Login) the
 * same time. A new session id is issued at each step, so a session id seen before sign-in is
 * worth nothing after it.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { WebDeps, WebEnv } from "../context.ts";
import {
  clearSessionCookie,
  currentSession,
  requireSession,
  setSessionCookie,
} from "../middleware/session.ts";
import { checkCsrfToken, requireFetchMetadata } from "../middleware/csrf.ts";
import type { Assets } from "../static_files.ts";
import { Page, Problems } from "../views/layout.tsx";
import { MAX_CODE_ATTEMPTS, type WebSession } from "../sessions.ts";
import type { Logger } from "../../ops/log.ts";
import { problemsOf } from "./validation.ts";

const signInForm = z.object({
  address: z.string({ error: "Enter your email address" }).trim().min(1, "Enter your email address")
    .max(
      320,
      "The email address is too long",
    ),
  password: z.string({ error: "Enter your password" }).min(1, "Enter your password").max(
    1024,
    "The password is too long",
  ),
});

const codeForm = z.object({
  code: z.string({ error: "Enter the 6-digit code from your authenticator app" }).transform((s) =>
    s.replace(/\s/g, "")
  ).pipe(
    z.string().regex(/^\d{6}$/, "Enter the 6-digit code from your authenticator app"),
  ),
});

/** The same sentence for an unknown address and a wrong password. */
export const SIGN_IN_FAILED = "The email address or password is wrong";
/** A wrong TOTP code. */
export const CODE_FAILED = "The code is wrong or was used already; wait for the next one";

function SignInPage(
  props: { assets: Assets; problems: readonly string[]; address?: string; notice?: string },
) {
  return (
    <Page title="Sign in" assets={props.assets}>
      <section class="card narrow">
        <h1>Sign in</h1>
        {props.notice && <p class="notice" role="status">{props.notice}</p>}
        <Problems messages={props.problems} />
        <form method="post" action="/login" class="stack">
          <label for="address">Email address</label>
          <input
            id="address"
            name="address"
            type="email"
            autocomplete="username"
            required
            autofocus
            value={props.address ?? ""}
          />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
          <button type="submit" class="primary">Sign in</button>
        </form>
      </section>
    </Page>
  );
}

function CodePage(props: { assets: Assets; problems: readonly string[]; csrfToken: string }) {
  return (
    <Page title="Two-factor code" assets={props.assets}>
      <section class="card narrow">
        <h1>Two-factor code</h1>
        <p>Enter the 6-digit code your authenticator app shows for this account.</p>
        <Problems messages={props.problems} />
        <form method="post" action="/login/code" class="stack">
          <input type="hidden" name="_csrf" value={props.csrfToken} />
          <label for="code">Code</label>
          <input
            id="code"
            name="code"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            maxlength={7}
            required
            autofocus
          />
          <button type="submit" class="primary">Continue</button>
        </form>
        <form method="post" action="/logout">
          <input type="hidden" name="_csrf" value={props.csrfToken} />
          <button type="submit" class="link">Cancel</button>
        </form>
      </section>
    </Page>
  );
}

const NOTICES: Readonly<Record<string, string>> = {
  "signed-out": "You are signed out.",
  everywhere: "You are signed out on every device.",
  expired: "Your session ended; sign in again.",
  "too-many-codes": "Too many wrong codes; sign in again.",
};

function client(c: Context<WebEnv>) {
  return { ip: c.env.ip, userAgent: c.req.header("user-agent") ?? "" };
}

/** The sign-in and sign-out routes. */
export function signInRoutes(deps: WebDeps, assets: Assets): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const { sessions, login } = deps;

  app.get("/login", async (c) => {
    const session = await currentSession(c, sessions);
    if (session?.stage === "full") return c.redirect("/mail", 303);
    if (session?.stage === "second-factor") return c.redirect("/login/code", 303);
    const notice = NOTICES[c.req.query("notice") ?? ""];
    return c.html(
      <SignInPage assets={assets} problems={[]} {...(notice ? { notice } : {})} />,
    );
  });

  // No session, so no token: the browser must say where the form came from.
  app.post("/login", requireFetchMetadata, async (c) => {
    const parsed = signInForm.safeParse(await c.req.parseBody());
    if (!parsed.success) {
      return c.html(<SignInPage assets={assets} problems={problemsOf(parsed.error)} />, 400);
    }
    const { address, password } = parsed.data;
    const checked = await login.checkPassword(address, password, { protocol: "web", ip: c.env.ip });
    if (checked === null) {
      return c.html(
        <SignInPage assets={assets} problems={[SIGN_IN_FAILED]} address={address} />,
        401,
      );
    }
    const previous = await currentSession(c, sessions);
    if (previous) await sessions.revoke(previous.id);
    const stage = checked.secondFactorDue ? "second-factor" : "full";
    const issued = await sessions.create(checked.account.id, stage, client(c));
    setSessionCookie(c, issued.token);
    return c.redirect(checked.secondFactorDue ? "/login/code" : "/mail", 303);
  });

  app.get("/login/code", requireSession(sessions, "second-factor"), (c) => {
    return c.html(
      <CodePage assets={assets} problems={[]} csrfToken={c.get("session").csrfToken} />,
    );
  });

  app.post("/login/code", requireSession(sessions, "second-factor"), async (c) => {
    const session = c.get("session");
    const parsed = codeForm.safeParse(await c.req.parseBody());
    if (!parsed.success) {
      return c.html(
        <CodePage
          assets={assets}
          problems={problemsOf(parsed.error)}
          csrfToken={session.csrfToken}
        />,
        400,
      );
    }
    // The attempt is claimed (atomically) before the code is checked, so parallel requests on
    // one session get MAX_CODE_ATTEMPTS checks between them, not one each.
    const attempt = await sessions.claimCodeAttempt(session.id);
    if (attempt === null) {
      clearSessionCookie(c);
      return c.redirect("/login?notice=too-many-codes", 303);
    }
    const account = { id: session.accountId, address: session.address };
    const ok = await login.checkSecondFactor(
      account,
      () => deps.store.twoFactor.verify(session.accountId, parsed.data.code),
      { protocol: "web", ip: c.env.ip },
    );
    if (!ok) {
      if (attempt >= MAX_CODE_ATTEMPTS) {
        await sessions.revoke(session.id);
        clearSessionCookie(c);
        return c.redirect("/login?notice=too-many-codes", 303);
      }
      return c.html(
        <CodePage assets={assets} problems={[CODE_FAILED]} csrfToken={session.csrfToken} />,
        401,
      );
    }
    await sessions.revoke(session.id);
    const issued = await sessions.create(session.accountId, "full", client(c));
    setSessionCookie(c, issued.token);
    return c.redirect("/mail", 303);
  });

  // Signing out needs the session's token like any change, so another site cannot do it.
  app.post("/logout", async (c) => {
    const session = await currentSession(c, sessions);
    if (session) {
      await checkCsrfToken(c, session.csrfToken);
      await sessions.revoke(session.id);
      logSessionEnd(deps, session, c.env.ip, "signed-out");
    }
    clearSessionCookie(c);
    // Also drop what the browser cached of the signed-in pages (W3C Clear Site Data §3.1).
    c.header("clear-site-data", '"cache"');
    return c.redirect("/login?notice=signed-out", 303);
  });

  app.post("/logout/everywhere", requireSession(sessions), async (c) => {
    const session = c.get("session");
    const count = await sessions.revokeAll(session.accountId);
    logSessionEnd(deps, session, c.env.ip, "signed-out-everywhere", { revoked: count });
    clearSessionCookie(c);
    c.header("clear-site-data", '"cache"');
    return c.redirect("/login?notice=everywhere", 303);
  });

  return app;
}

/**
 * The one line a web session's end leaves, as SMTP transactions and IMAP sessions do (issue 9):
 * the session's row id as correlation id, the account, how long it lasted; never its token.
 * A session that only times out ends without a request, so it leaves no line.
 */
function logSessionEnd(
  deps: { readonly log: Logger },
  session: WebSession,
  ip: string,
  reason: string,
  fields: Record<string, unknown> = {},
): void {
  deps.log.info("web session", {
    session: session.id,
    user: session.address,
    ip,
    reason,
    ms: Date.now() - session.createdAt.getTime(),
    ...fields,
  });
}
