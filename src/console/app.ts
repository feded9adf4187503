// The console's express router at /_secretslite/ui: sessions and login, CSRF, security headers, assets, and the
// page/action/stream tables (pages/index.ts). Every figure a page shows comes from ConsoleView.call (context.ts).
import { readFileSync, existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import express, { type Request, type Response, type Router } from "express";
import { AwsError, internalFailure } from "../errors";
import { models } from "../generated";
import { createConsoleView, type ConsoleServices } from "./context";
import { html, type Html } from "./html";
import { bare, layout, type Frame } from "./layout";
import { consoleTables } from "./pages";
import { clearedCookie, CONSOLE_PATH, sameSecret, Sessions, type Session } from "./session";
import type { ConsolePage, ConsoleUser, ConsoleViewWithFacts } from "./view";

/**
 * One small script and one stylesheet from this package, nothing inline and nothing from elsewhere: a value that
 * somehow reached a page as markup still could not run (script-src 'self'), post elsewhere (form-action 'self') or
 * call out (connect-src 'self'), and no other site can frame the console (frame-ancestors 'none').
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  // Console URLs carry secret names and key ids in their query: no other site learns them from a Referer. Not
  // no-referrer: under it browsers send `Origin: null` with the console's own form posts (Fetch standard, "serializing
  // a request origin"), and the same-origin check of every POST could no longer tell the console's pages from others.
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const ASSET_TYPES: Readonly<Record<string, string>> = {
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};

/** Next to this module in dist/ (`npm run build` and scripts/build.js copy them there), else the sources' (specs, ts-node). */
function assetsDir(): string {
  const beside = path.join(__dirname, "assets");
  return existsSync(path.join(beside, "console.js")) ? beside : path.join(__dirname, "..", "..", "src", "console", "assets");
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const DEFAULT_REGION = "us-east-1";

export const isConsolePath = (url: string | undefined): boolean =>
  url === CONSOLE_PATH || url?.startsWith(`${CONSOLE_PATH}/`) === true || url?.startsWith(`${CONSOLE_PATH}?`) === true;

/** Reached without a session: the login page and its form, and the assets the login page uses. */
const isPublicPath = (url: string | undefined): boolean => {
  const pathOnly = (url ?? "").split("?", 1)[0];
  return pathOnly === `${CONSOLE_PATH}/login` || pathOnly?.startsWith(`${CONSOLE_PATH}/assets/`) === true;
};

/** The origin this request was sent to, as a browser writes it in Origin. */
const ownOrigin = (req: IncomingMessage): string => `${(req.socket as Partial<TLSSocket>).encrypted === true ? "https" : "http"}://${(req.headers.host ?? "").toLowerCase()}`;

/**
 * Whether a request may reach the console from where it was sent: the console's own pages only. Stricter than the
 * admin routes' loopback rule: a page on another port of this machine is another origin, and no CORS answer is given.
 */
export function consoleOriginProblem(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== ownOrigin(req)) return `The console refuses requests from pages on ${origin}.`;
  // Fetch metadata: a subresource or fetch from another site (same-site counts: another port of localhost is one)
  // is refused even without Origin (a no-cors GET has none); a link followed from elsewhere (navigate) is fine.
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none" && !(req.headers["sec-fetch-mode"] === "navigate" && req.method === "GET")) {
    return "The console answers its own pages only.";
  }
  return undefined;
}

export interface Console {
  readonly router: Router;
  /** For server.ts's guard when admin credentials are required: the login page, assets, and a signed-in session pass. */
  readonly admits: (req: IncomingMessage) => boolean;
}

export function createConsole(services: ConsoleServices): Console {
  const { pages, actions, streams } = consoleTables(services.server);
  // Keyed by the admin token, which all --workers share: a session opened on one worker is good on every other.
  const sessions = new Sessions(services.adminToken);
  const needsLogin = services.verifySignatures;
  const assets = new Map<string, Buffer>();
  const dir = assetsDir();
  for (const name of Object.keys(ASSET_TYPES)) assets.set(name, readFileSync(path.join(dir, name)));

  const router = express.Router({ caseSensitive: true, strict: true });

  // Every answer: the security headers, and nothing cached but the assets.
  router.use((req, res, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!req.path.startsWith("/assets/")) res.setHeader("Cache-Control", "no-store");
    const problem = consoleOriginProblem(req);
    if (problem !== undefined) {
      sendPage(res, 403, bare(errorPage("Refused", problem)));
      return;
    }
    next();
  });

  router.get("/assets/:file", (req, res) => {
    const file = String(req.params.file);
    const body = assets.get(file);
    if (body === undefined) {
      res.status(404).type("text/plain").send("No such asset.");
      return;
    }
    res.setHeader("Cache-Control", "no-cache");
    res.writeHead(200, { "Content-Type": ASSET_TYPES[file] as string, "Content-Length": body.length });
    res.end(body);
  });

  /** The request's session, made (and its cookie set) when it has none; signed in at once when no login is needed. */
  const sessionOf = (req: Request, res: Response): Session => {
    const existing = sessions.of(req);
    if (existing !== undefined) {
      // The idle limit counts from lastSeen, which only the cookie holds: moved forward, it must be sent back.
      const refreshed = sessions.refreshed(existing);
      if (refreshed === undefined) return existing;
      res.append("Set-Cookie", sessions.cookie(refreshed, services.secure));
      return refreshed;
    }
    const session = sessions.create(needsLogin ? undefined : { kind: "open" });
    res.append("Set-Cookie", sessions.cookie(session, services.secure));
    return session;
  };

  const scopeOf = (req: Request): { account: string; region: string } | string => {
    const query = req.query as Record<string, unknown>;
    const account = query.account ?? services.defaultAccount;
    const region = query.region ?? DEFAULT_REGION;
    if (typeof account !== "string" || !ACCOUNT.test(account)) return `account must be a 12-digit account id, not ${JSON.stringify(account)}.`;
    if (typeof region !== "string" || !REGION.test(region)) return `region must be a region name such as eu-west-1, not ${JSON.stringify(region)}.`;
    return { account, region };
  };

  const hrefFor =
    (account: string, region: string) =>
    (target: string, query: Readonly<Record<string, string | undefined>> = {}): string => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, value);
      if (!params.has("account")) params.set("account", account);
      if (!params.has("region")) params.set("region", region);
      return `${target}?${params.toString()}`;
    };

  const viewFor = (req: Request, session: Session, account: string, region: string): ConsoleViewWithFacts =>
    createConsoleView(services, {
      req,
      account,
      region,
      csrfToken: session.csrfToken,
      accessKeyId: session.signedIn?.kind === "principal" ? session.signedIn.accessKeyId : undefined,
      hrefFor,
    });

  const frameOf = (view: ConsoleViewWithFacts, session: Session, current: string | undefined): Frame => ({
    account: view.account,
    region: view.region,
    csrfToken: session.csrfToken,
    user: view.user,
    current,
    href: view.href,
    accountFixed: view.user.kind === "principal",
  });

  /** Signed in, or sent to the login page (a GET) / refused (anything else). */
  const signedIn = (req: Request, res: Response): Session | undefined => {
    const session = sessionOf(req, res);
    if (session.signedIn !== undefined) return session;
    if (req.method === "GET" || req.method === "HEAD") {
      res.redirect(303, `${CONSOLE_PATH}/login?${new URLSearchParams({ next: req.originalUrl }).toString()}`);
    } else {
      sendPage(res, 403, bare(errorPage("Sign in first", "This session is not signed in.")));
    }
    return undefined;
  };

  /** A POST's CSRF token and origin: the session's token in the `csrf` field, sent by a page of this origin. */
  const postProblem = (req: Request, session: Session, form: Readonly<Record<string, string>>): string | undefined => {
    const origin = req.headers.origin;
    const referer = req.headers.referer;
    const own = ownOrigin(req);
    // Browsers send Origin with every form POST; a Referer of this origin is taken when one does not.
    if (origin === undefined && !(referer !== undefined && (referer.toLowerCase() === own || referer.toLowerCase().startsWith(`${own}/`)))) {
      return "The request does not say it comes from a console page (no Origin or Referer).";
    }
    const offered = form.csrf;
    if (offered === undefined || offered === "" || !sameSecret(offered, session.csrfToken)) return "The form's CSRF token is missing or not this session's: reload the page and try again.";
    return undefined;
  };

  const formOf = (req: Request): Record<string, string> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === "string") form[name] = value;
    return form;
  };

  const queryOf = (req: Request): Record<string, string> => {
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) if (typeof value === "string") query[name] = value;
    return query;
  };

  const urlencoded = express.urlencoded({ extended: false, limit: "256kb", parameterLimit: 200 });

  router.get("/", (req, res) => {
    const query = new URLSearchParams(queryOf(req)).toString();
    res.redirect(303, `${CONSOLE_PATH}/overview${query === "" ? "" : `?${query}`}`);
  });

  router.get("/login", (req, res) => {
    const session = sessionOf(req, res);
    if (session.signedIn !== undefined) {
      res.redirect(303, `${CONSOLE_PATH}/overview`);
      return;
    }
    sendPage(res, 200, bare(loginPage(services, session, nextOf(queryOf(req).next), undefined)));
  });

  router.post("/login", urlencoded, (req, res) => {
    const session = sessionOf(req, res);
    const form = formOf(req);
    const problem = postProblem(req, session, form);
    if (problem !== undefined) {
      sendPage(res, 403, bare(errorPage("Refused", problem)));
      return;
    }
    const next = nextOf(form.next);
    const refused = loginProblem(services, form);
    if (refused !== undefined) {
      sendPage(res, 401, bare(loginPage(services, session, next, refused)));
      return;
    }
    // A new session (a new CSRF token) at sign-in: a cookie planted before it (session fixation) never becomes a
    // signed-in one; this answer's Set-Cookie replaces it.
    const fresh = sessions.create(services.enforceAuth ? { kind: "principal", accessKeyId: (form.accessKeyId ?? "").trim() } : { kind: "admin" });
    res.append("Set-Cookie", sessions.cookie(fresh, services.secure));
    res.redirect(303, next);
  });

  router.post("/logout", urlencoded, (req, res) => {
    const session = signedIn(req, res);
    if (session === undefined) return;
    const problem = postProblem(req, session, formOf(req));
    if (problem !== undefined) {
      sendPage(res, 403, bare(errorPage("Refused", problem)));
      return;
    }
    // Cleared, not revoked: src/console/session.ts says why the cookie is stateless.
    res.append("Set-Cookie", clearedCookie(services.secure));
    res.redirect(303, needsLogin ? `${CONSOLE_PATH}/login` : `${CONSOLE_PATH}/overview`);
  });

  router.get("/:segment/stream", (req, res) => {
    const session = signedIn(req, res);
    if (session === undefined) return;
    const stream = streams[`${String(req.params.segment)}/stream`];
    const scope = scopeOf(req);
    if (stream === undefined || typeof scope === "string") {
      res.status(404).type("text/plain").send(typeof scope === "string" ? scope : "No such stream.");
      return;
    }
    stream(req, res, viewFor(req, session, scope.account, scope.region));
  });

  router.get("/:segment", async (req, res) => {
    const session = signedIn(req, res);
    if (session === undefined) return;
    const segment = String(req.params.segment);
    const scope = scopeOf(req);
    const { account, region } = typeof scope === "string" ? { account: services.defaultAccount, region: DEFAULT_REGION } : scope;
    const view = viewFor(req, session, account, region);
    const frame = frameOf(view, session, segment);
    if (typeof scope === "string") {
      sendPage(res, 400, layout(errorPage("Bad account or region", scope), frame));
      return;
    }
    const handler = Object.hasOwn(pages, segment) ? pages[segment] : undefined;
    if (handler === undefined) {
      sendPage(res, 404, layout(errorPage("Not found", `The console has no page ${segment}.`), frame));
      return;
    }
    await answer(res, frame, () => handler(view, queryOf(req)));
  });

  router.post("/:segment", urlencoded, async (req, res) => {
    const session = signedIn(req, res);
    if (session === undefined) return;
    const segment = String(req.params.segment);
    const form = formOf(req);
    const problem = postProblem(req, session, form);
    if (problem !== undefined) {
      sendPage(res, 403, bare(errorPage("Refused", problem)));
      return;
    }
    const scope = scopeOf(req);
    if (typeof scope === "string") {
      sendPage(res, 400, bare(errorPage("Bad account or region", scope)));
      return;
    }
    const view = viewFor(req, session, scope.account, scope.region);
    const frame = frameOf(view, session, segment);
    const handler = Object.hasOwn(actions, segment) ? actions[segment] : undefined;
    if (handler === undefined) {
      sendPage(res, 404, layout(errorPage("Not found", `The console has no action ${segment}.`), frame));
      return;
    }
    await answer(res, frame, () => handler(view, form));
  });

  const admits = (req: IncomingMessage): boolean => isPublicPath(req.url) || sessions.of(req)?.signedIn !== undefined;
  return { router, admits };
}

/** Runs a handler: its page in the frame, its redirect (post/redirect/get), or the API's error as the API names it. */
async function answer(res: Response, frame: Frame, run: () => Promise<ConsolePage | { readonly redirect: string }>): Promise<void> {
  try {
    const result = await run();
    if ("redirect" in result) {
      res.redirect(303, safeRedirect(result.redirect));
      return;
    }
    sendPage(res, 200, layout(result, frame));
  } catch (thrown) {
    const error = thrown instanceof AwsError ? thrown : internalFailure(thrown);
    const fault = Object.values(models).some((model) => model.errorShapes[error.code]?.fault === true);
    const status = error.status ?? (fault ? 500 : 400);
    sendPage(res, status, layout(apiErrorPage(error), frame));
  }
}

/** Only console paths: a handler's redirect can never send the browser elsewhere. */
const safeRedirect = (target: string): string => (target.startsWith(`${CONSOLE_PATH}/`) && !target.startsWith("//") ? target : `${CONSOLE_PATH}/overview`);
const nextOf = (next: string | undefined): string => (next !== undefined && /^\/_secretslite\/ui\/[a-z0-9_-]/.test(next) ? next : `${CONSOLE_PATH}/overview`);

function sendPage(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

const errorPage = (title: string, message: string): ConsolePage => ({ title, body: html`<p class="error">${message}</p>` });

export const apiErrorPage = (error: AwsError): ConsolePage => ({
  title: "The API refused",
  body: html`<div class="error api-error"><p><code class="error-type">${error.code}</code></p><p class="error-message">${error.message}</p></div>`,
});

function loginPage(services: ConsoleServices, session: Session, next: string, problem: string | undefined): ConsolePage {
  const fields: Html = services.enforceAuth
    ? html`<p>Sign in as a principal of the principals file: every page then shows what it may see through the API.</p>
<label>Access key id <input name="accessKeyId" autocomplete="username" required></label>
<label>Secret access key <input name="secretAccessKey" type="password" autocomplete="current-password" required></label>
<label>Session token (session credentials only) <input name="sessionToken" type="password"></label>`
    : html`<p>Signatures are verified: sign in with the admin token secretslite printed at start (also in run.json in its data dir).</p>
<label>Admin token <input name="token" type="password" autocomplete="current-password" required></label>`;
  return {
    title: "Sign in",
    body: html`${problem === undefined ? "" : html`<p class="error">${problem}</p>`}
<form method="post" action="${CONSOLE_PATH}/login" class="login">
<input type="hidden" name="csrf" value="${session.csrfToken}">
<input type="hidden" name="next" value="${next}">
${fields}
<button type="submit">Sign in</button>
</form>`,
  };
}

/** undefined when the form's credentials are accepted; otherwise why not (never which part was wrong for a key). */
function loginProblem(services: ConsoleServices, form: Readonly<Record<string, string>>): string | undefined {
  if (!services.enforceAuth) {
    return sameSecret(form.token ?? "", services.adminToken) ? undefined : "That is not this server's admin token.";
  }
  const entry = services.principals?.byAccessKey.get((form.accessKeyId ?? "").trim());
  const refused = "The access key id and secret access key are not a pair the principals file holds.";
  if (entry === undefined) {
    // The same work as a known key: the answer's time does not tell whether the key id exists.
    sameSecret(form.secretAccessKey ?? "", "not a key");
    return refused;
  }
  if (!sameSecret(form.secretAccessKey ?? "", entry.secretAccessKey)) return refused;
  if (entry.sessionToken !== undefined && !sameSecret(form.sessionToken ?? "", entry.sessionToken)) return "These are session credentials: give their session token too.";
  if (entry.expiresAt !== undefined && services.clock.now().getTime() >= entry.expiresAt) return "These session credentials have expired.";
  return undefined;
}

export type { ConsoleUser };
