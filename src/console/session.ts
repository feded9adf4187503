// Browser sessions of the console: an unguessable id in an HttpOnly, SameSite=Strict cookie, the CSRF token it carries,
// and who signed in (the admin token's holder, or a principal of --principals). Kept in memory: a restart signs everyone out.
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "secretslite_console";
export const CONSOLE_PATH = "/_secretslite/ui";

/** Who a session acts as: nobody in particular (no login needed), the admin token's holder, or a principal's access key. */
export type SignedIn = { readonly kind: "open" } | { readonly kind: "admin" } | { readonly kind: "principal"; readonly accessKeyId: string };

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  /** undefined until the login page accepted credentials (or at once when none are needed). */
  signedIn: SignedIn | undefined;
  lastSeen: number;
}

/** A session unused this long is gone: a browser left open on a developer's machine does not stay signed in for days. */
const IDLE_MS = 12 * 60 * 60 * 1000;
/** Beyond this many sessions the least recently used go: a page cannot grow the map without bound by visiting. */
const MAX_SESSIONS = 1000;

const token = (): string => randomBytes(32).toString("base64url");

/** Equal-length digests, so the comparison takes the same time whatever was offered. */
export const sameSecret = (offered: string, expected: string): boolean =>
  timingSafeEqual(createHash("sha256").update(offered).digest(), createHash("sha256").update(expected).digest());

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  create(signedIn: SignedIn | undefined): Session {
    const session: Session = { id: token(), csrfToken: token(), signedIn, lastSeen: this.now() };
    this.sessions.set(session.id, session);
    if (this.sessions.size > MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0];
      if (oldest !== undefined) this.sessions.delete(oldest.id);
    }
    return session;
  }

  /** The request's session when its cookie names a live one. */
  of(req: IncomingMessage): Session | undefined {
    const id = cookie(req.headers.cookie, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.now() - session.lastSeen > IDLE_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = this.now();
    return session;
  }

  end(session: Session): void {
    this.sessions.delete(session.id);
  }
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value: script cannot read it, other sites' requests never carry it, and it goes to the console only. */
export const sessionCookie = (session: Session, secure: boolean): string =>
  `${SESSION_COOKIE}=${session.id}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;

export const clearedCookie = (secure: boolean): string =>
  `${SESSION_COOKIE}=; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
