// Browser sessions of the console: who signed in (the admin token's holder, or a principal of --principals) and the CSRF
// token, carried in an HttpOnly, SameSite=Strict cookie that the server HMACs, so that any --workers process answers a
// session another one opened. The key is derived from the admin token, which is new at each start: a restart signs
// everyone out, as the in-memory sessions this replaces did.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "secretslite_console";
export const CONSOLE_PATH = "/_secretslite/ui";

/** Who a session acts as: nobody in particular (no login needed), the admin token's holder, or a principal's access key. */
export type SignedIn = { readonly kind: "open" } | { readonly kind: "admin" } | { readonly kind: "principal"; readonly accessKeyId: string };

export interface Session {
  readonly csrfToken: string;
  /** undefined until the login page accepted credentials (or at once when none are needed). */
  readonly signedIn: SignedIn | undefined;
  /** When the session was made (ms); a sign-in makes a new one. */
  readonly issued: number;
  /** When a request last showed it (ms), to the minute: the cookie is re-sent when this moves (see refreshed). */
  readonly lastSeen: number;
}

/** A session unused this long is gone: a browser left open on a developer's machine does not stay signed in for days. */
const IDLE_MS = 12 * 60 * 60 * 1000;
/**
 * lastSeen is written back to the cookie at most this often: a page's dozens of requests (assets, the live list) do
 * not each carry a Set-Cookie, and the idle limit stays right to the minute.
 */
const TOUCH_MS = 60 * 1000;
/** The cookie's format, in the MAC'd text: a later format is refused by this one rather than misread. */
const VERSION = 1;

const token = (): string => randomBytes(32).toString("base64url");

/** Equal-length digests, so the comparison takes the same time whatever was offered. */
export const sameSecret = (offered: string, expected: string): boolean =>
  timingSafeEqual(createHash("sha256").update(offered).digest(), createHash("sha256").update(expected).digest());

/**
 * Stateless sessions: the cookie is `base64url(JSON).base64url(HMAC-SHA256)`, verified on every request. Nothing is
 * kept per process, so --workers' round-robin may send each request of a session to another worker.
 *
 * Logout clears the cookie; a copy taken before (it is HttpOnly, SameSite=Strict, Secure under TLS, so only from the
 * browser's disk or a proxy) stays valid until the idle limit or the next restart. A revocation list would have to be
 * shared by every worker (in the store); for a local emulator's console the shorter path was chosen, and said here.
 */
export class Sessions {
  private readonly macKey: Buffer;

  /** `secret`: the admin token, which every worker of a start shares (src/workers.ts); HKDF gives the console its own key. */
  constructor(
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.macKey = Buffer.from(hkdfSync("sha256", Buffer.from(secret), Buffer.alloc(0), Buffer.from("secretslite console session cookie v1"), 32));
  }

  create(signedIn: SignedIn | undefined): Session {
    const now = this.now();
    return { csrfToken: token(), signedIn, issued: now, lastSeen: now };
  }

  /** The request's session when its cookie carries this server's MAC and has not been idle too long. */
  of(req: IncomingMessage): Session | undefined {
    const value = cookie(req.headers.cookie, SESSION_COOKIE);
    if (value === undefined) return undefined;
    const dot = value.indexOf(".");
    if (dot === -1) return undefined;
    const body = value.slice(0, dot);
    const offered = Buffer.from(value.slice(dot + 1), "base64url");
    const expected = this.mac(body);
    if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) return undefined;
    const session = parse(Buffer.from(body, "base64url").toString("utf8"));
    if (session === undefined || this.now() - session.lastSeen > IDLE_MS) return undefined;
    return session;
  }

  /** The session with lastSeen moved to now when it is a minute old or more (its cookie must be sent again), else undefined. */
  refreshed(session: Session): Session | undefined {
    const now = this.now();
    return now - session.lastSeen >= TOUCH_MS ? { ...session, lastSeen: now } : undefined;
  }

  /** The Set-Cookie value: script cannot read it, other sites' requests never carry it, and it goes to the console only. */
  cookie(session: Session, secure: boolean): string {
    const body = Buffer.from(JSON.stringify({ v: VERSION, s: session.signedIn ?? null, c: session.csrfToken, i: session.issued, l: session.lastSeen })).toString("base64url");
    return `${SESSION_COOKIE}=${body}.${this.mac(body).toString("base64url")}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
  }

  private mac(body: string): Buffer {
    return createHmac("sha256", this.macKey).update(body).digest();
  }
}

/** The MAC'd JSON, checked field by field all the same: a MAC says who wrote it, not that this version can read it. */
function parse(text: string): Session | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { v, s, c, i, l } = raw as Record<string, unknown>;
  if (v !== VERSION || typeof c !== "string" || typeof i !== "number" || typeof l !== "number") return undefined;
  const signedIn = signedInOf(s);
  if (signedIn === false) return undefined;
  return { csrfToken: c, signedIn, issued: i, lastSeen: l };
}

function signedInOf(value: unknown): SignedIn | undefined | false {
  if (value === null) return undefined;
  if (typeof value !== "object") return false;
  const { kind, accessKeyId } = value as Record<string, unknown>;
  if (kind === "open" || kind === "admin") return { kind };
  if (kind === "principal" && typeof accessKeyId === "string") return { kind, accessKeyId };
  return false;
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const clearedCookie = (secure: boolean): string =>
  `${SESSION_COOKIE}=; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
