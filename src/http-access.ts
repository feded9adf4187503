// Who may reach secretslite over HTTP: the Host names served (DNS rebinding), pages' origins, and the admin routes' credentials.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { AwsError } from "./errors";
import { parseAuthorization, type SignatureVerifier, type SigningName } from "./protocol/sigv4";

/**
 * A DNS-rebinding page is served from a name its attacker controls (evil.example), rebound to this machine,
 * so its requests are same-origin and carry that name in Host. Served by default: names that only ever mean
 * this machine (localhost, *.localhost: browsers resolve them themselves), IP literals (a browser sends an
 * address as Host only when its URL held that address, so no name was resolved and nothing can be rebound:
 * this also covers 0.0.0.0 listens reached by an interface address, Docker's published ports and kubelet
 * probes, which send the pod IP), the name secretslite listens on, and the names given with --allowed-hosts.
 */
export interface HostRule {
  /** --host, when it is a name. */
  readonly listenHost: string;
  /** Exact names, `*.suffix` for any name under suffix, or `*` for any name at all. */
  readonly allowedHosts: readonly string[];
}

/** The hostname of a Host header, lowercased, without port, brackets or the root's trailing dot. */
export function hostName(header: string): string {
  let name = header.trim().toLowerCase();
  if (name.startsWith("[")) {
    const end = name.indexOf("]");
    return end === -1 ? name : name.slice(1, end);
  }
  const colon = name.lastIndexOf(":");
  if (colon !== -1 && /^\d*$/.test(name.slice(colon + 1))) name = name.slice(0, colon);
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

/** No Host at all is not a browser (they always send one; node answers HTTP/1.1 without it with 400 itself). */
export function hostAllowed(header: string | undefined, rule: HostRule): boolean {
  if (header === undefined) return true;
  const name = hostName(header);
  if (name === "") return false;
  if (name === "localhost" || name.endsWith(".localhost") || isIP(name) !== 0) return true;
  if (name === hostName(rule.listenHost)) return true;
  return rule.allowedHosts.some((allowed) =>
    allowed === "*" ? true : allowed.startsWith("*.") ? name.endsWith(allowed.slice(1)) : name === allowed,
  );
}

/** Origins of pages served from this machine: localhost (and *.localhost), 127.0.0.0/8, [::1]. */
export function isLoopbackOrigin(origin: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(origin).hostname;
  } catch {
    return false;
  }
  return hostname === "localhost" || hostname.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(hostname) || hostname === "[::1]";
}

/**
 * The only spelling of a path the admin routes answer: origin-form, segments of lowercase letters, digits,
 * `_`, `-` and inner dots, no empty, `.` or `..` segment, no escape, no trailing slash. express (and the
 * router under it) matches loosely — any case, a trailing slash, an absolute-form `http://host/path` —
 * so anything else is refused before it: a route is reached by one spelling, the one the checks see.
 */
const CANONICAL_PATH = /^(?:\/[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)+$|^\/$/;

export function canonicalPath(url: string | undefined): string | undefined {
  const raw = url ?? "";
  const query = raw.indexOf("?");
  const path = query === -1 ? raw : raw.slice(0, query);
  return CANONICAL_PATH.test(path) ? path : undefined;
}

export const ADMIN_TOKEN_HEADER = "x-secretslite-admin-token";

export interface AdminCredentials {
  /** The token printed at start and written to the run file. */
  readonly token: string;
  /** --verify-signatures: a request SigV4-signed with a key of the credentials file is accepted too. */
  readonly verifier: SignatureVerifier | undefined;
  readonly now: () => Date;
}

const SIGNING_NAMES: readonly SigningName[] = ["secretsmanager", "kms"];
const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** undefined when the request carries the admin token or a valid signature; otherwise why not. */
export function adminCredentialsProblem(req: IncomingMessage, credentials: AdminCredentials): string | undefined {
  const header = req.headers[ADMIN_TOKEN_HEADER];
  const authorization = req.headers.authorization ?? "";
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  const offered = typeof header === "string" ? header : bearer;
  if (offered !== undefined) {
    // Equal-length digests: the comparison takes the same time whatever was offered.
    return timingSafeEqual(digest(offered), digest(credentials.token)) ? undefined : "The admin token is not this server's.";
  }
  if (authorization.startsWith("AWS4-HMAC-SHA256") && credentials.verifier !== undefined) {
    // The body is left to express: only a bodiless request can be checked before it (its hash is the empty string's).
    const length = req.headers["content-length"];
    if (req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")) {
      return "A signed admin request must have no body; send the admin token instead.";
    }
    try {
      const auth = parseAuthorization(req.headers);
      const service = SIGNING_NAMES.find((name) => name === auth.credential.service);
      if (service === undefined) return "Sign admin requests for the secretsmanager or kms service.";
      credentials.verifier.verify(auth, { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body: Buffer.alloc(0) }, service, credentials.now());
      return undefined;
    } catch (error) {
      return `The signature was refused: ${(error as AwsError).code}: ${(error as Error).message}`;
    }
  }
  return `Admin routes need the admin token (header ${ADMIN_TOKEN_HEADER} or Authorization: Bearer) or a SigV4 signature when signatures are verified.`;
}
