// The --principals file: who may call (access keys, optional session credentials), as which principal, with which tags and identity policies.
import { createHash } from "node:crypto";
import { readMappingFile } from "../mapping-file";
import type { Principal } from "./evaluate";
import { compilePolicy, type CompiledPolicy } from "./policy";
import { PolicyError } from "./policy-error";

/** One caller: its credentials and who they make it. */
export interface PrincipalEntry {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Session credentials (ASIA… keys): the X-Amz-Security-Token every request must carry, and when it stops working. */
  readonly sessionToken?: string;
  readonly expiresAt?: number;
  readonly principal: Principal;
  /** STS GetCallerIdentity's UserId: the account for its root, AIDA… for a user, AROA…:session for a role session. */
  readonly userId: string;
  readonly identityPolicies: readonly CompiledPolicy[];
}

export interface Principals {
  /** By access key id. */
  readonly byAccessKey: ReadonlyMap<string, PrincipalEntry>;
}

export class PrincipalsFileError extends Error {
  override readonly name = "PrincipalsFileError";
}

/*
 * The file, YAML (or JSON for .json):
 *   policies:                      # optional: identity policies by name, shared by principals
 *     read-app-secrets: { Version: "2012-10-17", Statement: [...] }
 *   principals:
 *     - accessKeyId: AKIAALICE0000000000
 *       secretAccessKey: …
 *       arn: arn:aws:iam::111122223333:user/alice     # or …:root, or arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
 *       tags: { team: blue }                          # aws:PrincipalTag/*
 *       policies: [read-app-secrets, { Version: …, Statement: [...] }]
 *     - accessKeyId: ASIAROLESESSION0000
 *       secretAccessKey: …
 *       sessionToken: …                               # session credentials: the token, and optionally
 *       expiration: 2026-12-31T00:00:00Z              # when it expires (ExpiredTokenException after)
 *       arn: arn:aws:sts::111122223333:assumed-role/deployer/ci
 */

const USER_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
const ROOT_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;
const SESSION_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const ENTRY_FIELDS = new Set(["accessKeyId", "secretAccessKey", "sessionToken", "expiration", "arn", "account", "tags", "policies"]);

export function readPrincipalsFile(file: string): Principals {
  const fail = (message: string) => new PrincipalsFileError(message);
  const { source, document } = readMappingFile(file, "principals file", "principals (and optional policies)", fail);
  const unknown = Object.keys(document).filter((key) => key !== "principals" && key !== "policies");
  if (unknown.length > 0) throw fail(`${source}: unknown top-level ${unknown.join(", ")}: the file has principals and policies`);
  const named = new Map<string, CompiledPolicy>();
  const policies = document.policies ?? {};
  if (typeof policies !== "object" || policies === null || Array.isArray(policies)) throw fail(`${source}: policies must map names to policy documents`);
  for (const [name, policy] of Object.entries(policies)) named.set(name, compile(policy, `${source}: policies.${name}`));

  if (!Array.isArray(document.principals) || document.principals.length === 0) throw fail(`${source}: principals must be a list of at least one principal`);
  const byAccessKey = new Map<string, PrincipalEntry>();
  document.principals.forEach((raw: unknown, index: number) => {
    const where = `${source}: principals[${index}]`;
    const entry = readEntry(raw, where, named);
    if (byAccessKey.has(entry.accessKeyId)) throw fail(`${where}: access key ${entry.accessKeyId} is given twice`);
    byAccessKey.set(entry.accessKeyId, entry);
  });
  return { byAccessKey };
}

function readEntry(raw: unknown, where: string, named: ReadonlyMap<string, CompiledPolicy>): PrincipalEntry {
  const fail = (message: string) => new PrincipalsFileError(`${where}: ${message}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail("must be a mapping with accessKeyId, secretAccessKey and arn");
  const entry = raw as Record<string, unknown>;
  const unknown = Object.keys(entry).filter((key) => !ENTRY_FIELDS.has(key));
  if (unknown.length > 0) throw fail(`unknown ${unknown.join(", ")} (known: ${[...ENTRY_FIELDS].join(", ")})`);
  const text = (name: string): string | undefined => {
    const value = entry[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value === "") throw fail(`${name} must be a non-empty string`);
    return value;
  };
  const accessKeyId = text("accessKeyId");
  if (accessKeyId === undefined || !ACCESS_KEY_ID.test(accessKeyId)) throw fail("accessKeyId must be 16 to 128 upper-case letters and digits, as AWS's are");
  const secretAccessKey = text("secretAccessKey");
  if (secretAccessKey === undefined) throw fail("secretAccessKey is required");
  const sessionToken = text("sessionToken");
  const expiration = entry.expiration instanceof Date ? entry.expiration.toISOString() : text("expiration");
  let expiresAt: number | undefined;
  if (expiration !== undefined) {
    if (sessionToken === undefined) throw fail("expiration is for session credentials: give sessionToken too");
    expiresAt = Date.parse(expiration);
    if (Number.isNaN(expiresAt)) throw fail(`expiration ${expiration} is not an ISO 8601 date`);
  }
  const arn = text("arn");
  if (arn === undefined) throw fail("arn is required: arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:root or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION");
  const principal = principalOf(arn, readTags(entry.tags, fail));
  if (principal === undefined) throw fail(`arn ${arn} is not an IAM user, an account root or an assumed-role session`);
  const account = text("account");
  if (account !== undefined && account !== principal.account) throw fail(`account ${account} is not the account of ${arn}`);
  if (entry.policies !== undefined && !Array.isArray(entry.policies)) throw fail("policies must be a list of policy names or documents");
  const identityPolicies = ((entry.policies ?? []) as unknown[]).map((policy, index) => {
    if (typeof policy !== "string") return compile(policy, `${where}.policies[${index}]`);
    const found = named.get(policy);
    if (found === undefined) throw fail(`policies[${index}] names ${policy}, which the file's policies section does not define`);
    return found;
  });
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    principal,
    userId: userIdOf(principal),
    identityPolicies,
  };
}

function readTags(raw: unknown, fail: (message: string) => Error): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw fail("tags must map tag keys to values");
  for (const [key, value] of Object.entries(raw)) if (typeof value !== "string") throw fail(`tags.${key} must be a string`);
  return raw as Record<string, string>;
}

/** The principal an ARN names: its account, its kind, and for a session the role (aws:PrincipalArn is the role's ARN). */
export function principalOf(arn: string, tags: Record<string, string> = {}): Principal | undefined {
  const root = ROOT_ARN.exec(arn);
  if (root !== null) return { arn, account: root[1] ?? "", kind: "root", tags };
  const user = USER_ARN.exec(arn);
  if (user !== null) return { arn, account: user[1] ?? "", kind: "user", username: user[2], tags };
  const session = SESSION_ARN.exec(arn);
  if (session !== null) {
    const [, partition, account, role] = session;
    return { arn, account: account ?? "", kind: "assumed-role", roleArn: `arn:${partition}:iam::${account}:role/${role}`, tags };
  }
  return undefined;
}

/**
 * GetCallerIdentity's UserId. AWS's are opaque unique ids (AIDA… for users, AROA… for roles); secretslite derives
 * stable ones from the ARN so the same principal always shows the same id.
 */
function userIdOf(principal: Principal): string {
  if (principal.kind === "root") return principal.account;
  const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 17).toUpperCase();
  if (principal.kind === "user") return `AIDA${digest(principal.arn)}`;
  return `AROA${digest(principal.roleArn ?? principal.arn)}:${principal.arn.split("/").pop() ?? ""}`;
}

function compile(policy: unknown, where: string): CompiledPolicy {
  try {
    return compilePolicy(policy, { kind: "identity" });
  } catch (error) {
    if (error instanceof PolicyError) throw new PrincipalsFileError(`${where}: ${error.message}`);
    throw error;
  }
}
