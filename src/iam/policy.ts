// Policy documents: parsed and checked once, compiled into statements whose matching does no parsing.
import { compileConditions, isPlainObject, type CompiledCondition } from "./conditions";
import type { Principal, RequestView } from "./context";
import { compileMatcher, type ValueMatcher } from "./glob";
import { PolicyError } from "./policy-error";

export { PolicyError } from "./policy-error";

/** Identity policies name no principal and must name resources; resource policies (key policies, secret policies) must name principals. */
export type PolicyKind = "identity" | "resource";
/** Whose wording a few errors take: IAM's for identity policies, KMS's for key policies, Secrets Manager's for secret policies. */
export type PolicyDialect = "iam" | "kms" | "secretsmanager";

export interface CompileOptions {
  readonly kind: PolicyKind;
  readonly dialect?: PolicyDialect;
}

/** How a statement's Principal covers a caller: not at all, by naming it (or everyone), or by naming its account. */
export const NO_MATCH = 0;
export const DIRECT = 1;
/** The account (root ARN or bare id) is named: "delegates to IAM", so the caller's own identity policies must allow. */
export const BY_ACCOUNT = 2;
export type PrincipalMatch = typeof NO_MATCH | typeof DIRECT | typeof BY_ACCOUNT;

export interface CompiledStatement {
  /** Position in the policy's Statement list. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: "Allow" | "Deny";
  /** "#2 Deny (Sid NoDelete)": how traces name the statement, made once here. */
  readonly description: string;
  matchesAction(lowerAction: string): boolean;
  matchesResource(resource: string | undefined, view: RequestView): boolean;
  /** Identity-policy statements cover their own principal: always DIRECT. */
  matchPrincipal(principal: Principal): PrincipalMatch;
  /** Principal "*" or {"AWS": "*"} (alone or in a list): the statement names everyone. */
  readonly wildcardPrincipal: boolean;
  /** The statement has NotPrincipal: it covers everyone but the few it lists. */
  readonly notPrincipal: boolean;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly kind: PolicyKind;
  readonly version: "2012-10-17" | "2008-10-17";
  readonly id: string | undefined;
  readonly statements: readonly CompiledStatement[];
}

const TOP_LEVEL = new Set(["Version", "Id", "Statement"]);
const STATEMENT_KEYS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const PRINCIPAL_TYPES = new Set(["AWS", "Service", "Federated", "CanonicalUser"]);

// IAM's own texts, quoted in public threads (MalformedPolicyDocument from IAM CreatePolicy/PutRolePolicy).
const SYNTAX = "Syntax errors in policy.";
const NO_ACTIONS = "Policy statement must contain actions.";
const NO_RESOURCES = "Policy statement must contain resources.";
const NO_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const IDENTITY_PRINCIPAL = "Policy document should not specify a principal.";
const DUPLICATE_SID = "Statement IDs (SID) in a single policy must be unique.";

/**
 * Parses and compiles a policy document (JSON text or an already-parsed value). Throws PolicyError with an AWS-like
 * message for anything IAM's grammar refuses. "If you do not include a Version element, the value defaults to
 * 2008-10-17" (IAM, Version), where policy variables are literal text.
 */
export function compilePolicy(document: unknown, options: CompileOptions): CompiledPolicy {
  let parsed = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new PolicyError(SYNTAX);
    }
  }
  if (!isPlainObject(parsed)) throw new PolicyError(SYNTAX);
  for (const key of Object.keys(parsed)) if (!TOP_LEVEL.has(key)) throw new PolicyError(SYNTAX);
  const { Version: version = "2008-10-17", Id: id, Statement: statement } = parsed;
  if (version !== "2012-10-17" && version !== "2008-10-17") {
    throw new PolicyError(`The policy Version ${JSON.stringify(version)} is not supported: use "2012-10-17" (or "2008-10-17").`);
  }
  if (id !== undefined && typeof id !== "string") throw new PolicyError(SYNTAX);
  if (statement === undefined) throw new PolicyError("Missing required field Statement");
  const list = Array.isArray(statement) ? statement : [statement];
  if (list.length === 0) throw new PolicyError("Missing required field Statement");
  const variables = version === "2012-10-17";
  const sids = new Set<string>();
  const statements = list.map((item, index) => {
    const compiled = compileStatement(item, index, variables, options);
    // IAM refuses duplicate Sids in identity policies; KMS does not: AWS's own aws/secretsmanager key policy has two
    // statements with the same Sid (SG security-encryption), so resource policies keep theirs.
    if (compiled.sid !== undefined && options.kind === "identity") {
      if (sids.has(compiled.sid)) throw new PolicyError(DUPLICATE_SID);
      sids.add(compiled.sid);
    }
    return compiled;
  });
  return { kind: options.kind, version, id, statements };
}

const stringList = (value: unknown, empty: string): string[] => {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyError(empty);
  if (!list.every((item): item is string => typeof item === "string")) throw new PolicyError(SYNTAX);
  return list;
};

function compileStatement(raw: unknown, index: number, variables: boolean, options: CompileOptions): CompiledStatement {
  if (!isPlainObject(raw)) throw new PolicyError(SYNTAX);
  for (const key of Object.keys(raw)) if (!STATEMENT_KEYS.has(key)) throw new PolicyError(SYNTAX);
  const { Sid, Effect, Principal: principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition } = raw;
  if (Sid !== undefined && typeof Sid !== "string") throw new PolicyError(SYNTAX);
  if (Effect !== "Allow" && Effect !== "Deny") {
    throw new PolicyError(Effect === undefined ? "Missing required field Effect" : `Invalid effect: ${String(Effect)}`);
  }
  if (Action !== undefined && NotAction !== undefined) throw new PolicyError(SYNTAX);
  // "If either of the required Resource or Action elements are missing from a key policy statement, the policy
  // statement has no effect … the CreateKey and PutKeyPolicy API requests succeed" (KMS API Reference, Policy).
  const noActions = Action === undefined && NotAction === undefined;
  if (noActions && options.dialect !== "kms") throw new PolicyError(NO_ACTIONS);
  if (Resource !== undefined && NotResource !== undefined) throw new PolicyError(SYNTAX);
  if (principal !== undefined && NotPrincipal !== undefined) throw new PolicyError(SYNTAX);

  let matchPrincipal: (caller: Principal) => PrincipalMatch = () => DIRECT;
  let wildcardPrincipal = false;
  if (options.kind === "identity") {
    if (principal !== undefined || NotPrincipal !== undefined) throw new PolicyError(IDENTITY_PRINCIPAL);
    // "Statements must include either a Resource or a NotResource element" (IAM, Resource).
    if (Resource === undefined && NotResource === undefined) throw new PolicyError(NO_RESOURCES);
  } else {
    if (principal === undefined && NotPrincipal === undefined) throw new PolicyError("Missing required field Principal");
    // IAM's NotPrincipal page: with "Effect":"Allow" it "allows all principals except the one named", and AWS strongly
    // recommends against it. Secrets Manager stored such policies before this engine existed and judges them broad
    // access (BlockPublicPolicy), so its dialect keeps them, meaning what the page says; for the others it is refused,
    // so a policy nobody should write fails locally rather than let everyone in.
    if (NotPrincipal !== undefined && Effect === "Allow" && options.dialect !== "secretsmanager") {
      throw new PolicyError('NotPrincipal must be used with "Effect":"Deny".');
    }
    const principals = compilePrincipals(principal ?? NotPrincipal, options.dialect ?? "iam");
    wildcardPrincipal = principals.wildcard;
    matchPrincipal = principal !== undefined ? (caller) => principals.match(caller) : (caller) => (principals.exempts(caller) ? NO_MATCH : DIRECT);
  }

  const actions = noActions ? () => false : compileActions(stringList(Action ?? NotAction, NO_ACTIONS));
  const matchesAction = Action !== undefined || noActions ? actions : (action: string) => !actions(action);

  let matchesResource: CompiledStatement["matchesResource"];
  if (Resource === undefined && NotResource === undefined) {
    // A key policy statement without Resource "has no effect" (KMS API Reference, CreateKey Policy); the same is
    // chosen for secret resource policies, whose documentation says nothing of it.
    matchesResource = () => false;
  } else {
    const patterns = stringList(Resource ?? NotResource, NO_RESOURCES).map((pattern) => compileResource(pattern, variables));
    const listed = (resource: string | undefined, view: RequestView): boolean => {
      // Actions without a resource (ListSecrets) are covered only by "*".
      if (resource === undefined) return patterns.some((pattern) => pattern.matchesAll);
      for (const pattern of patterns) if (pattern.test(resource, view)) return true;
      return false;
    };
    matchesResource =
      Resource !== undefined
        ? listed
        : (resource, view) => {
            view.unresolved = false;
            const hit = listed(resource, view);
            // An unresolvable variable makes the statement inapplicable, not a NotResource that matches everything.
            return !hit && !view.unresolved;
          };
  }

  const conditions = Condition === undefined ? [] : compileConditions(Condition, variables);
  const description = `#${index} ${Effect}${Sid === undefined ? "" : ` (Sid ${Sid})`}`;
  const notPrincipal = NotPrincipal !== undefined;
  return { index, sid: Sid, effect: Effect, description, matchesAction, matchesResource, matchPrincipal, wildcardPrincipal, notPrincipal, conditions };
}

/**
 * Action / NotAction: "*" or "service:pattern"; "The prefix and the action name are case insensitive" (IAM, Action);
 * `*` and `?` wildcards in the action name. Literal actions go in a set, wildcard ones become regexes, once.
 */
function compileActions(patterns: readonly string[]): (lowerAction: string) => boolean {
  const exact = new Set<string>();
  const wildcards: ValueMatcher[] = [];
  let all = false;
  for (const pattern of patterns) {
    if (pattern === "*") {
      all = true;
      continue;
    }
    const colon = pattern.indexOf(":");
    if (colon <= 0) throw new PolicyError(NO_VENDOR);
    if (pattern.indexOf(":", colon + 1) >= 0) throw new PolicyError("Actions/Condition can contain only one colon.");
    if (/[*?]/.test(pattern.slice(0, colon))) throw new PolicyError("Action vendors must not contain wildcards.");
    if (/[*?]/.test(pattern)) wildcards.push(compileMatcher(pattern, "glob-ci", false));
    else exact.add(pattern.toLowerCase());
  }
  if (all) return () => true;
  const noView = undefined as unknown as RequestView; // action patterns hold no variables, so the view is never read
  return (action) => {
    if (exact.has(action)) return true;
    for (const wildcard of wildcards) if (wildcard.test(action, noView)) return true;
    return false;
  };
}

function compileResource(pattern: string, variables: boolean): ValueMatcher {
  if (pattern !== "*" && !pattern.startsWith("arn:")) throw new PolicyError(`Resource ${pattern} must be in ARN format or "*".`);
  return compileMatcher(pattern, "resource", variables);
}

interface Principals {
  /** "*" is among the principals named. */
  readonly wildcard: boolean;
  match(caller: Principal): PrincipalMatch;
  /** For NotPrincipal: whether the caller is among those the statement leaves out. */
  exempts(caller: Principal): boolean;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):root$/;
/** A caller's partition, from its ARN: a root ARN names an account in one partition only. */
const partitionOfArn = (arn: string): string => arn.slice(4, arn.indexOf(":", 4));
const IAM_ARN = /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/.+|sts::\d{12}:(assumed-role\/[^/]+\/.+|federated-user\/.+))$/;

/**
 * Principal / NotPrincipal: "*", {"AWS": "*" | account id | ARN…}, {"Service": …} (and Federated, CanonicalUser,
 * which no secretslite caller can be). "An account ID … is the same as specifying arn:aws:iam::ACCT:root" (IAM,
 * Principal) and stands for the account: its principals qualify when their own identity policies allow (BY_ACCOUNT).
 * A role ARN covers the role's sessions; a session ARN covers that session; a user ARN that user. Wildcards other
 * than a lone "*" are not principals ("You cannot use a wildcard to match part of a principal name or ARN").
 */
function compilePrincipals(value: unknown, dialect: PolicyDialect): Principals {
  let any = false;
  // Bare account ids (the policy's own partition, whatever the caller's); root ARNs as "partition:account".
  const accounts = new Set<string>();
  const rootsByPartition = new Set<string>();
  const arns = new Set<string>();
  const invalid = (id: string): PolicyError =>
    new PolicyError(
      dialect === "kms"
        ? "Policy contains a statement with one or more invalid principals."
        : dialect === "secretsmanager"
          ? "This resource policy contains an unsupported principal."
          : `Invalid principal in policy: "AWS":"${id}"`,
    );
  if (value === "*") any = true;
  else if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [type, ids] of Object.entries(value)) {
      if (!PRINCIPAL_TYPES.has(type)) throw new PolicyError(SYNTAX);
      const list = stringList(ids, SYNTAX);
      if (type !== "AWS") continue;
      for (const id of list) {
        const root = ROOT_ARN.exec(id);
        if (id === "*") any = true;
        else if (ACCOUNT_ID.test(id)) accounts.add(id);
        else if (root !== null) rootsByPartition.add(`${root[1]}:${root[2]}`);
        else if (IAM_ARN.test(id)) arns.add(id);
        else throw invalid(id);
      }
    }
  } else throw new PolicyError(SYNTAX);

  const namesAccount = (caller: Principal): boolean =>
    accounts.has(caller.account) || (rootsByPartition.size > 0 && rootsByPartition.has(`${partitionOfArn(caller.arn)}:${caller.account}`));
  return {
    wildcard: any,
    match(caller) {
      if (any || arns.has(caller.arn) || (caller.roleArn !== undefined && arns.has(caller.roleArn))) return DIRECT;
      if (namesAccount(caller)) return caller.kind === "root" ? DIRECT : BY_ACCOUNT;
      return NO_MATCH;
    },
    /**
     * IAM, NotPrincipal: "When you use NotPrincipal, you must also specify the account ARN of the not-denied
     * principal. Otherwise, the policy might deny access to the entire account containing the principal … When
     * evaluating an assumed-role user, AWS first verifies the account, then the role, and then the assumed-role user
     * … we strongly recommend that you explicitly include the ARN for a user's account, or include both the ARN for a
     * role and the ARN for the account containing that role." So a caller is left out only when its account is
     * listed together with the user itself, or, for a role session, with its role or the session.
     */
    exempts(caller) {
      if (any) return true;
      if (!namesAccount(caller)) return false;
      if (caller.kind === "root") return true;
      if (caller.kind === "user") return arns.has(caller.arn);
      return arns.has(caller.arn) || (caller.roleArn !== undefined && arns.has(caller.roleArn));
    },
  };
}
