// Who is calling, as --enforce-auth decides for it: the principal, its identity policies, and the connection's facts.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Explanation } from "./authorize";
import type { Principal } from "./context";
import type { CompiledPolicy } from "./policy";
import type { Principals } from "./principals-file";

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
  /**
   * Whether an IAM user, role or role-session ARN names a principal the principals file knows: KMS refuses a key
   * policy naming one that does not exist ("must exist and be visible to KMS", CreateKey and PutKeyPolicy Policy).
   * A role ARN exists when some session in the file assumes it. Absent: every ARN is taken to exist.
   */
  readonly knows?: ((arn: string) => boolean) | undefined;
  /** The accounts of the principals file, the only ones another account's key can be in (Decrypt by ciphertext alone). */
  readonly accounts?: readonly string[] | undefined;
}

/** What the principals file says exists, built once per file: the principals' ARNs, their roles' ARNs, their accounts. */
interface Directory {
  readonly arns: ReadonlySet<string>;
  readonly accounts: readonly string[];
}

const directories = new WeakMap<Principals, Directory>();

function directoryOf(principals: Principals): Directory {
  let directory = directories.get(principals);
  if (directory === undefined) {
    const arns = new Set<string>();
    const accounts = new Set<string>();
    for (const { principal } of principals.byAccessKey.values()) {
      arns.add(principal.arn);
      if (principal.roleArn !== undefined) arns.add(principal.roleArn);
      accounts.add(principal.account);
    }
    directory = { arns, accounts: [...accounts] };
    directories.set(principals, directory);
  }
  return directory;
}

export function callerOf(
  principal: Principal,
  identityPolicies: readonly CompiledPolicy[],
  req: IncomingMessage,
  explain: Caller["explain"],
  principals?: Principals,
): Caller {
  const address = req.socket.remoteAddress ?? "";
  const directory = principals === undefined ? undefined : directoryOf(principals);
  return {
    explain,
    ...(directory === undefined ? {} : { knows: (arn: string) => directory.arns.has(arn), accounts: directory.accounts }),
    principal,
    identityPolicies,
    sourceIp: address.startsWith("::ffff:") ? address.slice(7) : address,
    secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true,
  };
}
