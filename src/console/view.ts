// What a console page is given and gives back: the API as the signed-in user, and a title and body to lay out.
import type { ServiceName } from "../generated";
import type { RotationAttempt } from "../services/secretsmanager/rotation-attempts";
import type { Html } from "./html";

/**
 * A page's window on secretslite. Every figure a page shows comes from `call`, which runs the API's own operation
 * (the service tables in src/services/*) with a context made for the console's user: the same code as the wire, so a
 * page can never disagree with what the SDK gets, and with --enforce-auth the same authorization (the signed-in
 * principal's) and the same audit events (a value revealed is a GetSecretValue in the audit log).
 */
export interface ConsoleView {
  /** The account and region the page looks at (the query's, else the server's default account and us-east-1). */
  readonly account: string;
  readonly region: string;
  /** Runs `operation` of `service` with `input` as the console's user; rejects with the AwsError the API would answer. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(service: ServiceName, operation: string, input: object): Promise<any>;
  /** The session's CSRF token: every form that changes state carries it in a hidden `csrf` field. */
  readonly csrfToken: string;
  /** Links keep the account and region: `href("/_secretslite/ui/secret", { id })`. */
  href(path: string, query?: Readonly<Record<string, string | undefined>>): string;
  /**
   * A secret's last rotation attempts from the rotation driver (no API operation lists them). Call it only for a
   * secret a DescribeSecret as this user has just answered, so it shows nothing the user may not see.
   * Absent when the server runs no rotation driver.
   */
  rotationAttempts?(name: string, arn: string): Promise<readonly RotationAttempt[]>;
}

/** A page's answer: the layout (layout.ts) adds the frame, navigation and the account/region switch. */
export interface ConsolePage {
  readonly title: string;
  readonly body: Html;
}

/** One GET page: its query (single values only) in, its page out; a thrown AwsError is shown as the API's error. */
export type PageHandler = (view: ConsoleView, query: Readonly<Record<string, string>>) => Promise<ConsolePage>;

/**
 * One POST action (reset, apply a seed, reveal…): the router has checked the session, the same-origin rule and the
 * CSRF token before it runs; it answers where to go next (post/redirect/get), or a page to show.
 */
export type ActionHandler = (view: ConsoleView, form: Readonly<Record<string, string>>) => Promise<{ readonly redirect: string } | ConsolePage>;

/** What the server says about itself (health's facts), for the overview: never a secret, never the admin token. */
export interface ServerFacts {
  readonly version: string;
  /** When this process started serving. */
  readonly startedAt: Date;
  /** The start's summary (src/main.ts StartSummary: data dir, token, key specs outside it…); undefined while starting. */
  readonly startup: object | undefined;
  /** Storage and key store health; undefined while starting. */
  readonly health: { storage: string; keyStore: { ok: boolean; kind: string; detail: string } } | undefined;
}

/** Who the console's user is, as the layout shows it. */
export type ConsoleUser = { readonly kind: "open" } | { readonly kind: "admin" } | { readonly kind: "principal"; readonly arn: string; readonly accessKeyId: string };

/** A view with what the router knows besides the API: the user and the server's facts. */
export interface ConsoleViewWithFacts extends ConsoleView {
  readonly user: ConsoleUser;
  readonly server: ServerFacts;
}
