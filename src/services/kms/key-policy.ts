// Key policies: the default policy KMS attaches, the one policy name, and the checks a policy document must pass.
import type { Scope } from "../scope";
import { keyArn as arnOfKey } from "./key-arn";
import { malformedPolicy, policyLockout, policyNotFound, policyTooLarge } from "./errors";

export const DEFAULT_POLICY_NAME = "default";

/**
 * The principal every request acts as without --enforce-auth: its account's root user. Without it there are no IAM identities (a 12-digit
 * access key picks the account, ctx.scope.account), so the root is the only principal a request can be.
 */
export const rootPrincipalArn = (scope: Scope): string => `arn:${scope.partition}:iam::${scope.account}:root`;

/**
 * The default key policy exactly as GetKeyPolicy returns it: AWS serialises it with Jackson's pretty printer
 * (`"Key" : value`, arrays opened as `[ {`), as the API Reference's GetKeyPolicy example, the SDKs' examples and CLI
 * transcripts all show: "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n …".
 */
export const defaultKeyPolicy = (scope: Scope): string =>
  `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "${rootPrincipalArn(scope)}"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`;

/**
 * "The only valid value is default" (GetKeyPolicy, PutKeyPolicy; omitted means default). What KMS answers for another
 * name was not found in any capture; moto answers NotFoundException "No such policy exists" for both operations and
 * we follow it (LocalStack does the same for GetKeyPolicy).
 */
export function assertDefaultPolicyName(policyName: string | undefined): void {
  if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) throw policyNotFound();
}

/** "The key policy size limit is 32 kilobytes (32768 bytes)" (CreateKey and PutKeyPolicy, older API Reference). */
const MAX_POLICY_BYTES = 32_768;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** What CreateKey and PutKeyPolicy need for the lockout safety check; seeds, which no principal sends, pass none. */
export interface LockoutCheck {
  /** Where the request acts: its account's root is the caller the new policy must keep in charge. */
  readonly scope: Scope;
  /** BypassPolicyLockoutSafetyCheck as sent: true skips the check, as in AWS. */
  readonly bypass: boolean | undefined;
  /** The key the policy is for; absent at CreateKey, whose key has no id yet. */
  readonly keyArn?: string;
}

/**
 * A policy KMS will store: within the size quota, a JSON object, and (given `lockout`) one that still lets the caller
 * replace it. The model's own pattern (printable Latin-1 plus tab, LF, CR) and its 131,072-character bound are
 * checked earlier, by validation.
 *
 * - Size: "If the key policy exceeds the length constraint, KMS returns a LimitExceededException" (API Reference).
 *   Its text was not found in any capture; ours states the documented quota. Counted in UTF-8 bytes, the wire form.
 * - JSON: aws/aws-sdk-ruby#1784 shows CreateKey answering a non-JSON policy with a MalformedPolicyDocumentException
 *   whose message is empty. KMS's check that named principals exist is made with --enforce-auth (key-policy-access.ts),
 *   which knows the principals file; without it there is no IAM to ask.
 * - Lockout: see `letsCallerReplacePolicy`.
 *
 * The document is stored and returned exactly as sent. Evidence suggests AWS re-serialises policies it accepts
 * (LocalStack's AWS-validated test_get_put_list_key_policies compares them only after json.loads; aws/aws-cli#9456
 * shows GetKeyPolicy output reordered between calls), but the re-serialised form of an arbitrary document is not
 * documented, so we keep the caller's bytes rather than invent one.
 */
export function assertValidPolicy(policy: string, lockout?: LockoutCheck): void {
  if (Buffer.byteLength(policy, "utf8") > MAX_POLICY_BYTES) {
    throw policyTooLarge(`The key policy size limit is 32 kilobytes (${MAX_POLICY_BYTES} bytes).`);
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(policy) as Json;
  } catch {
    throw malformedPolicy();
  }
  if (!isObject(parsed)) throw malformedPolicy();
  if (lockout !== undefined && lockout.bypass !== true && !letsCallerReplacePolicy(parsed, lockout)) throw policyLockout();
}

/**
 * The key policy lockout safety check. "The key policy must allow the calling principal to make a subsequent
 * PutKeyPolicy request on the KMS key … (To omit this condition, set BypassPolicyLockoutSafetyCheck to true.)"
 * (API Reference, CreateKey and PutKeyPolicy Policy); AWS evaluates the new policy for the caller's own request.
 * Without --enforce-auth the caller is always its account's root (`rootPrincipalArn`), so the rule is (with it,
 * key-policy-access.ts evaluates the new policy for the real caller instead):
 *
 * - some Allow statement without a Condition has a Principal naming the root ("*", {"AWS": "*"}, {"AWS": "<account
 *   id>"} or {"AWS": "arn:<partition>:iam::<account>:root"}, alone or in a list; or a NotPrincipal leaving it out),
 *   an Action (or NotAction) covering kms:PutKeyPolicy ("*", "kms:*", "kms:Put*"…: IAM wildcards, case-insensitive
 *   like IAM's action match), and a Resource (or NotResource) covering the key's ARN ("*" in practice);
 * - and no Deny statement, with or without a Condition, covers the root, that action and the key.
 *
 * Naming an IAM user or role instead of the root does not count (the root making the request is not them, and
 * AWS refuses such a policy from the root: awsdocs/aws-kms-developer-guide#53). A statement without Action or
 * Resource "has no effect" (API Reference). Conditions are not evaluated: the caller's request here carries almost
 * no condition keys, and for absent keys IAM makes positive operators false and negated ones (the usual form of a
 * Deny's condition) true; so a conditional Allow is not counted and a conditional Deny is, erring towards refusing
 * a policy that might lock the caller out. At CreateKey the key's id is not chosen yet, so a Resource pattern
 * counts only if it matches whatever id the key gets.
 */
function letsCallerReplacePolicy(document: JsonObject, { scope, keyArn }: LockoutCheck): boolean {
  // For CreateKey's unknown key id a stand-in only a wildcard matches: no key id has a NUL, and a policy would have
  // to spell out 36 escaped ones.
  const resource = keyArn ?? arnOfKey(scope, "\0".repeat(36));
  const covers = (statement: JsonObject): boolean =>
    elementMatches(statement, "Principal", (principal) => namesRoot(principal, scope)) &&
    elementMatches(statement, "Action", (actions) => strings(actions).some((action) => wildcard(action, "i").test("kms:PutKeyPolicy"))) &&
    elementMatches(statement, "Resource", (resources) => strings(resources).some((pattern) => wildcard(pattern, "").test(resource)));
  const statements = listOf(document["Statement"]).filter(isObject).filter(covers);
  if (statements.some((statement) => statement["Effect"] === "Deny")) return false;
  return statements.some((statement) => statement["Effect"] === "Allow" && statement["Condition"] === undefined);
}

/** Whether a statement's element (or its Not- form, which matches what it does not list) matches; neither: false. */
function elementMatches(statement: JsonObject, name: "Principal" | "Action" | "Resource", matches: (value: Json) => boolean): boolean {
  const value = statement[name];
  if (value !== undefined) return matches(value);
  const negated = statement[`Not${name}`];
  return negated !== undefined && !matches(negated);
}

function namesRoot(principal: Json, scope: Scope): boolean {
  if (principal === "*") return true;
  const ids = isObject(principal) ? strings(principal["AWS"]) : [];
  return ids.some((id) => id === "*" || id === scope.account || id === rootPrincipalArn(scope));
}

const listOf = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const strings = (value: Json | undefined): string[] => listOf(value).filter((item): item is string => typeof item === "string");

/** An IAM pattern: `*` any run of characters, `?` any one, everything else literal. */
const wildcard = (pattern: string, flags: string): RegExp =>
  new RegExp(`^${[...pattern].map((c) => (c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("")}$`, flags);
