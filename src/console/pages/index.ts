// The console's tables: GET pages and POST actions by their path segment, and server-sent event streams.
// `/_secretslite/ui` itself redirects to the overview (app.ts); every other page is registered here.
import type { IncomingMessage, ServerResponse } from "node:http";
import { callFilterOf, streamCalls, type CallRing } from "../calls";
import { html } from "../html";
import type { ActionHandler, ConsoleView, ConsoleViewWithFacts, PageHandler } from "../view";
import { ACTIONS_PATH, actionsPage, resetAction, seedAction, type ConsoleActions } from "./actions";
import { callsPage } from "./calls";
import { keyPage } from "./key-detail";
import { keysPage } from "./keys";
import { overviewPage, type OverviewFacts } from "./overview";
import { revealAction, secretPage } from "./secret-detail";
import { secretsPage } from "./secrets";

/** What the server's own pages read besides the API: its calls, its facts, and the admin actions (main.ts wires them). */
export interface ServerParts {
  readonly ring: CallRing;
  readonly overview: OverviewFacts;
  readonly actions: ConsoleActions;
}

export type StreamHandler = (req: IncomingMessage, res: ServerResponse, view: ConsoleView) => void;

export interface ConsoleTables {
  /** GET /_secretslite/ui/<segment>: one page each. */
  readonly pages: Readonly<Record<string, PageHandler>>;
  /** POST /_secretslite/ui/<segment>: the router has checked the session, the origin and the CSRF token first. */
  readonly actions: Readonly<Record<string, ActionHandler>>;
  /**
   * GET /_secretslite/ui/<segment>/stream as text/event-stream (the calls' live list): the router has checked the
   * session and set the security headers; the handler writes the stream and ends it when `req` closes.
   */
  readonly streams: Readonly<Record<string, StreamHandler>>;
}

const ACCOUNT_ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;

/**
 * Reset and seed are not API operations: IAM has nothing to say about them, and they bypass every policy (a seed
 * creates keys and secrets as no principal). Without --enforce-auth they are open to whoever the admin routes admit,
 * as /_secretslite/reset is. With it (the user signed in as a principal) the console lets an account's root reset its
 * own account only (everything it could delete through the API anyway), and applies no seed: seeds are the operator's,
 * through --seed or the admin route with the admin token.
 */
function principalsLimited(kind: "reset" | "seed", handler: ActionHandler): ActionHandler {
  return async (view, form) => {
    const user = (view as Partial<ConsoleViewWithFacts>).user;
    if (user?.kind !== "principal") return handler(view, form);
    const root = ACCOUNT_ROOT.exec(user.arn)?.[1];
    const problem =
      kind === "seed"
        ? "With --enforce-auth the console applies no seed (a seed bypasses every policy): use --seed, or POST /_secretslite/reset with the admin token."
        : root === undefined
          ? `Only an account's root may reset from the console with --enforce-auth; ${user.arn} is not one.`
          : (form.scope !== "account" && form.scope !== "partition") || form.account !== root
            ? `With --enforce-auth an account's root resets its own account only (${root}): choose this account or this account's region.`
            : undefined;
    if (problem === undefined) return handler(view, form);
    return { title: "Refused", body: html`<section class="actions"><p class="error">${problem}</p><p><a href="${view.href(ACTIONS_PATH)}">Back to actions</a></p></section>` };
  };
}

/** One server's tables: built per console, so servers in one process (tests, start()) never share a ring. */
export function consoleTables(server: ServerParts): ConsoleTables {
  return {
    pages: {
      overview: overviewPage(server.overview, server.ring),
      secrets: secretsPage,
      secret: secretPage,
      keys: keysPage,
      key: keyPage,
      calls: callsPage(server.ring),
      actions: actionsPage,
    },
    actions: { reveal: revealAction, reset: principalsLimited("reset", resetAction(server.actions)), seed: principalsLimited("seed", seedAction(server.actions)) },
    streams: {
      "calls/stream": (req, res) => streamCalls(server.ring, req, res, callFilterOf(Object.fromEntries(new URL(req.url ?? "/", "http://console").searchParams))),
    },
  };
}
