// Who is calling, as --enforce-auth decides for it: the principal, its identity policies, and the connection's facts.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Explanation } from "./authorize";
import type { Principal } from "./context";
import type { CompiledPolicy } from "./policy";

/**
 * On a request's context only with --enforce-auth: without it no caller is built and every operation runs as
 * before. Internal work (the rotation and deletion sweepers, seeds, resets) has no caller and is never authorized,
 * as AWS's own service-side work is not.
 */
export interface Caller {
  readonly principal: Principal;
  /** Compiled once, when the principals file was read. Ignored for an account root, which has no identity policies. */
  readonly identityPolicies: readonly CompiledPolicy[];
  /** aws:SourceIp: the connection's address, IPv4 clients of a dual-stack listener shown as a.b.c.d. */
  readonly sourceIp: string;
  /** aws:SecureTransport: the request came over TLS. */
  readonly secureTransport: boolean;
  /** Set when the log level is debug: each decision is explained there (which statements applied). */
  readonly explain?: ((explanation: Explanation) => void) | undefined;
}

export function callerOf(
  principal: Principal,
  identityPolicies: readonly CompiledPolicy[],
  req: IncomingMessage,
  explain: Caller["explain"],
): Caller {
  const address = req.socket.remoteAddress ?? "";
  return {
    explain,
    principal,
    identityPolicies,
    sourceIp: address.startsWith("::ffff:") ? address.slice(7) : address,
    secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true,
  };
}
