// Whether a policy's AWS principal exists, under --enforce-auth: the one rule KMS key policies and secret policies share.
import type { Caller } from "./caller";

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws[a-z-]*:iam::\d{12}:root$/;
/** The IAM forms a principals file can name: users, roles and role sessions. */
const IAM_ARN = /^arn:aws[a-z-]*:(?:iam::\d{12}:(?:user|role)\/.+|sts::\d{12}:assumed-role\/[^/]+\/.+)$/;

/**
 * "*", an account (bare id or root ARN: accounts cannot be checked and are always accepted) or an IAM user, role or
 * role-session ARN the principals file knows (`caller.knows`; without it, every such ARN is taken to exist). Anything
 * else (a deleted user's unique id, a malformed ARN) names nobody. Both services refuse a policy naming such a
 * principal, each in its own words (KMS "…one or more invalid principals.", Secrets Manager "…unsupported principal.").
 */
export function principalExists(id: string, caller: Caller): boolean {
  if (id === "*" || ACCOUNT_ID.test(id) || ROOT_ARN.test(id)) return true;
  return IAM_ARN.test(id) && (caller.knows === undefined || caller.knows(id));
}

/** The AWS principal ids a statement's Principal (or NotPrincipal) names, as written. */
export function awsPrincipalIds(principal: unknown): unknown[] {
  if (typeof principal !== "object" || principal === null || Array.isArray(principal)) return [];
  const aws = (principal as Record<string, unknown>)["AWS"];
  return aws === undefined ? [] : Array.isArray(aws) ? aws : [aws];
}
