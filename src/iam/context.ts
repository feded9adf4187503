// The request an IAM decision is about (principal, action, resource, condition keys), and its case-insensitive key lookup.

/** A condition key's value as the caller fills it: multivalued keys (aws:TagKeys, secretsmanager:VersionStage) are arrays. */
export type ContextValue = string | readonly string[] | boolean | number;

export interface Principal {
  /** The caller's ARN as AWS prints it in AccessDenied: a user ARN, `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`, or `arn:aws:iam::ACCT:root`. */
  readonly arn: string;
  readonly account: string;
  readonly kind: "root" | "user" | "assumed-role";
  /** For assumed-role sessions, the role's ARN (with its path): what aws:PrincipalArn holds and what a role ARN in a Principal matches. */
  readonly roleArn?: string;
  /** IAM users only: `${aws:username}` "exists only for IAM users" (facts part 2, a9). */
  readonly username?: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface AuthzRequest {
  readonly principal: Principal;
  /** "kms:Decrypt", "secretsmanager:GetSecretValue": matched case-insensitively, as IAM matches actions. */
  readonly action: string;
  /** The resource's ARN; undefined for actions without one (ListSecrets, CreateKey), which only `"Resource": "*"` covers. */
  readonly resource: string | undefined;
  /** The account owning the resource; undefined means the caller's own. */
  readonly resourceAccount: string | undefined;
  /** Condition keys the caller knows (aws:SourceIp, kms:EncryptionContext:…, secretsmanager:ResourceTag/…); any case. */
  readonly context: Readonly<Record<string, ContextValue | undefined>>;
  /**
   * Keys computed only when a condition asks for one (the request-wide aws:* keys): given the lower-cased key, its
   * value; null for a key it owns that this request does not carry (aws:SourceIp of a service's call), so nothing
   * else is asked; undefined for a key it does not own. Nothing is built for a policy whose conditions never ask.
   */
  readonly lookup?: (lowerKey: string) => ContextValue | null | undefined;
  /** More condition keys, built the first time a condition asks for a key neither `context` nor `lookup` has. */
  readonly more?: () => Readonly<Record<string, ContextValue | undefined>>;
}

/**
 * One request's view for condition and variable lookups. "Condition key names are not case-sensitive" (IAM
 * reference_policies_elements_condition), and kms:EncryptionContext:<key>'s key part is case-insensitive too (KMS
 * conditions-kms-encryption-context-case). A lookup tries the key as the policy spells it, then lower-cased, then
 * the principal's own keys (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalIsAWSService,
 * aws:username, aws:PrincipalTag/*), and only then scans the context ignoring case. No per-request map is built: policies and
 * callers normally spell keys as AWS documents them, so the first probe hits.
 */
export class RequestView {
  /** Set by a pattern whose policy variable could not be resolved: its statement does not apply (see glob.ts). */
  unresolved = false;

  /** `request.more`, once built. */
  private moreKeys: Readonly<Record<string, ContextValue | undefined>> | undefined;

  constructor(readonly request: AuthzRequest) {}

  get(lowerKey: string, written: string = lowerKey): ContextValue | undefined {
    const request = this.request;
    let value = probe(request.context, lowerKey, written);
    if (value !== undefined) return value;
    value = principalKey(request.principal, lowerKey);
    if (value !== undefined) return value;
    if (request.lookup !== undefined) {
      const found = request.lookup(lowerKey);
      if (found === null) return undefined;
      if (found !== undefined) return found;
    }
    if (request.more !== undefined) {
      this.moreKeys ??= request.more();
      value = probe(this.moreKeys, lowerKey, written);
      if (value !== undefined) return value;
    }
    return scan(request.context, lowerKey) ?? (this.moreKeys === undefined ? undefined : scan(this.moreKeys, lowerKey));
  }
}

/** The key as the policy spells it, then lower-cased. */
function probe(context: Readonly<Record<string, ContextValue | undefined>>, lowerKey: string, written: string): ContextValue | undefined {
  const value = context[written];
  if (value !== undefined || written === lowerKey) return value;
  return context[lowerKey];
}

/** Any spelling of the key: condition key names are not case-sensitive. */
function scan(context: Readonly<Record<string, ContextValue | undefined>>, lowerKey: string): ContextValue | undefined {
  for (const key in context) {
    if (key.length === lowerKey.length && key.toLowerCase() === lowerKey) {
      const value = context[key];
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

const PRINCIPAL_TAG = "aws:principaltag/";

function principalKey(principal: Principal, lowerKey: string): ContextValue | undefined {
  switch (lowerKey) {
    // "aws:PrincipalArn … For a role session, the ARN of the role" (IAM condition-keys-principalarn).
    case "aws:principalarn":
      return principal.roleArn ?? principal.arn;
    case "aws:principalaccount":
      return principal.account;
    case "aws:principaltype":
      return principal.kind === "root" ? "Account" : principal.kind === "user" ? "User" : "AssumedRole";
    // Every secretslite caller is an IAM identity; service principals never call.
    case "aws:principalisawsservice":
      return false;
    case "aws:username":
      return principal.kind === "user" ? (principal.username ?? principal.arn.slice(principal.arn.lastIndexOf("/") + 1)) : undefined;
  }
  if (lowerKey.startsWith(PRINCIPAL_TAG)) {
    const tag = lowerKey.slice(PRINCIPAL_TAG.length);
    // IAM tag keys are unique ignoring case, so the key part of aws:PrincipalTag/<key> matches whatever the case.
    for (const key in principal.tags) if (key.toLowerCase() === tag) return principal.tags[key];
  }
  return undefined;
}
