// Resource policies: the IAM grammar a secret's policy must follow, and whether it grants access to anyone.
import { NON_RESTRICTING_OPERATOR, RESTRICTING_KEYS } from "../../iam/public";
import { malformedPolicy } from "./errors";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface PolicyStatement {
  readonly effect: "Allow" | "Deny";
  /** Principal or NotPrincipal, as written. */
  readonly principal: Json;
  readonly notPrincipal: boolean;
  readonly condition: JsonObject | undefined;
}

const TOP_LEVEL = new Set(["Version", "Id", "Statement"]);
const STATEMENT_KEYS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);
const PRINCIPAL_TYPES = new Set(["AWS", "Service", "Federated", "CanonicalUser"]);
// The two policy language versions IAM knows; AWS refuses any other with "This policy has invalid syntax."
// (awsdocs/aws-cloudformation-user-guide#623: Version "2019-10-19" was refused so).
const VERSIONS = new Set(["2012-10-17", "2008-10-17"]);

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);
const isStrings = (value: Json | undefined): boolean =>
  typeof value === "string" || (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string"));

/**
 * The statements of a policy that follows the IAM policy grammar for a resource policy (JSON, the known
 * elements only, Effect, an Action or NotAction, and a Principal or NotPrincipal, which a resource policy
 * must name). Anything else is MalformedPolicyDocumentException, AWS's error for "syntax errors" (model).
 * AWS also checks principals exist and actions are Secrets Manager's; that needs IAM, which is not emulated.
 */
export function parsePolicy(text: string): PolicyStatement[] {
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch {
    throw malformedPolicy();
  }
  if (!isObject(document) || Object.keys(document).some((key) => !TOP_LEVEL.has(key))) throw malformedPolicy();
  const { Version: version, Id: id, Statement: statement } = document;
  if (version !== undefined && !(typeof version === "string" && VERSIONS.has(version))) throw malformedPolicy();
  if (id !== undefined && typeof id !== "string") throw malformedPolicy();
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statement === undefined || statements.length === 0) throw malformedPolicy();
  return statements.map(parseStatement);
}

function parseStatement(statement: Json | undefined): PolicyStatement {
  if (!isObject(statement) || Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) throw malformedPolicy();
  const { Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition } = statement;
  if (Sid !== undefined && typeof Sid !== "string") throw malformedPolicy();
  if (Effect !== "Allow" && Effect !== "Deny") throw malformedPolicy();
  if ((Action === undefined) === (NotAction === undefined) || !isStrings(Action ?? NotAction)) throw malformedPolicy();
  if (Resource !== undefined && NotResource !== undefined) throw malformedPolicy();
  if ((Resource ?? NotResource) !== undefined && !isStrings(Resource ?? NotResource)) throw malformedPolicy();
  if ((Principal === undefined) === (NotPrincipal === undefined)) throw malformedPolicy();
  const principal = (Principal ?? NotPrincipal) as Json;
  if (principal !== "*" && !(isObject(principal) && Object.entries(principal).every(([type, ids]) => PRINCIPAL_TYPES.has(type) && isStrings(ids)))) {
    throw malformedPolicy();
  }
  if (Condition !== undefined && !(isObject(Condition) && Object.values(Condition).every(isObject))) throw malformedPolicy();
  return { effect: Effect, principal, notPrincipal: NotPrincipal !== undefined, condition: Condition };
}

/**
 * A restricting key (src/iam/public.ts: AWS asks Zelkova; this is the common core of what its public-access checks
 * accept as restricting) under a positive operator, for values that are not themselves the wildcard. The IAM engine's
 * broadAccessStatements judges compiled policies the same way; this one reads the document as written, so that a
 * NotPrincipal with Allow, which the engine refuses, still counts as broad access here.
 */
function restricts(condition: JsonObject | undefined): boolean {
  if (condition === undefined) return false;
  return Object.entries(condition).some(([operator, keys]) => {
    if (!isObject(keys) || NON_RESTRICTING_OPERATOR.test(operator)) return false;
    return Object.entries(keys).some(([key, values]) => {
      if (!RESTRICTING_KEYS.has(key.toLowerCase())) return false;
      const list = Array.isArray(values) ? values : [values];
      return list.length > 0 && list.every((value) => value !== "*");
    });
  });
}

const wildcardPrincipal = (principal: Json): boolean =>
  principal === "*" || (isObject(principal) && [principal["AWS"]].flat().some((id) => id === "*"));

/**
 * The Allow statements that grant access to anyone: Principal "*" or {"AWS": "*"} (also inside a list), or a
 * NotPrincipal (everyone but the few it names), without a condition that restricts who or where.
 */
export function broadAccessStatements(statements: readonly PolicyStatement[]): PolicyStatement[] {
  return statements.filter(
    (statement) =>
      statement.effect === "Allow" && (statement.notPrincipal || wildcardPrincipal(statement.principal)) && !restricts(statement.condition),
  );
}
