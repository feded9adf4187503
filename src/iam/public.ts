// Whether a resource policy grants access to anyone: BlockPublicPolicy's and ValidateResourcePolicy's judgement.

import type { CompiledCondition } from "./conditions";
import type { CompiledPolicy, CompiledStatement } from "./policy";

/**
 * Condition keys that tie a request to particular accounts, organizations, networks or sources: with one of them, a
 * statement for "*" no longer grants access to anyone. AWS asks Zelkova (facts part 2, b5); this is the common core of
 * what AWS's public-access checks (S3 Block Public Access, IAM Access Analyzer) accept as restricting.
 */
export const RESTRICTING_KEYS: ReadonlySet<string> = new Set(
  [
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:userid",
    "aws:username",
  ].map((key) => key.toLowerCase()),
);

/**
 * A restricting key under a positive operator, for values that are not themselves the wildcard. Negated operators,
 * `…IfExists` and Null restrict nothing: each holds for a request that lacks the key or carries any other value.
 */
/** Operators under which a restricting key restricts nothing (see restricts). */
export const NON_RESTRICTING_OPERATOR = /Not|IfExists$|^Null$/;

const restricts = (condition: CompiledCondition): boolean =>
  !NON_RESTRICTING_OPERATOR.test(condition.operator) &&
  RESTRICTING_KEYS.has(condition.key.toLowerCase()) &&
  condition.values.length > 0 &&
  condition.values.every((value) => value !== "*");

/**
 * The Allow statements that grant access to anyone: Principal "*" or {"AWS": "*"} (also inside a list), or a
 * NotPrincipal (everyone but the few it names), without a condition that restricts who or where.
 */
export function broadAccessStatements(policy: CompiledPolicy): CompiledStatement[] {
  return policy.statements.filter(
    (statement) =>
      statement.effect === "Allow" && (statement.notPrincipal || statement.wildcardPrincipal) && !statement.conditions.some(restricts),
  );
}
