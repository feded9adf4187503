// AccessDeniedException texts in AWS's forms (facts part 2, a4; IAM troubleshoot_access-denied).
import type { PolicyType } from "./evaluate";

export interface DeniedRequest {
  /** The caller as AWS prints it: a user ARN, an `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` ARN, or the root. */
  readonly principalArn: string;
  readonly action: string;
  /** What AWS echoes: Secrets Manager prints the SecretId as sent; undefined for actions without a resource. */
  readonly resource: string | undefined;
  readonly decision: "explicit-deny" | "implicit-deny";
  readonly policyType: PolicyType;
}

/**
 * - implicit: "User: ARN is not authorized to perform: ACTION on resource: RES because no identity-based policy
 *   allows the ACTION action";
 * - explicit: "User: ARN is not authorized to perform: ACTION on resource: RES with an explicit deny in a(n)
 *   identity-based policy" (no "because");
 * - actions without a resource omit " on resource: …" (ListSecrets, Kralizek/AWSSecretsManagerConfigurationExtensions#78).
 */
export function accessDeniedMessage({ principalArn, action, resource, decision, policyType }: DeniedRequest): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action}${resource === undefined ? "" : ` on resource: ${resource}`}`;
  if (decision === "explicit-deny") return `${head} with an explicit deny in ${policyType === "identity-based" ? "an" : "a"} ${policyType} policy`;
  return `${head} because no ${policyType} policy allows the ${action} action`;
}

/** KMS Decrypt when the ciphertext's key cannot be used by the caller: KMS names no key (facts part 2, a4). */
export const decryptWithoutKeyMessage = (principalArn: string): string =>
  `User: ${principalArn} is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`;
