// The console's tables: GET pages and POST actions by their path segment, and server-sent event streams.
// `/_secretslite/ui` itself redirects to the overview (app.ts); every other page is registered here.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionHandler, ConsoleView, PageHandler } from "../view";

/** GET /_secretslite/ui/<segment>: one page each. */
export const pages: Record<string, PageHandler> = {};

/** POST /_secretslite/ui/<segment>: the router has checked the session, the origin and the CSRF token first. */
export const actions: Record<string, ActionHandler> = {};

/**
 * GET /_secretslite/ui/<segment> answered as text/event-stream (the calls' live list: `calls/stream` is the key).
 * The router has checked the session and set the security headers; the handler writes the stream and ends it when
 * `req` closes. Its `data:` lines are rows of HTML made with html`` (console.js prepends them to the element whose
 * data-stream attribute names this URL).
 */
export const streams: Record<string, (req: IncomingMessage, res: ServerResponse, view: ConsoleView) => void> = {};
