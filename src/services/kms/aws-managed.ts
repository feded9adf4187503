// AWS managed keys: the predefined `alias/aws/*` aliases, the reserved alias prefix, and the rule that nobody may change them.
import { AwsError } from "../../errors";
import type { KmsKeyRecord } from "./key-record";

/**
 * The predefined AWS managed keys: ListAliases shows their aliases (AliasName and AliasArn only) in every account
 * and region before the key exists; first use creates the key.
 *
 * The names are the ones a fresh account lists: moto's and LocalStack's RESERVED_ALIASES, matching real ListAliases
 * captures (a 2019 eu-central-1 account in the cfn-kms-provider tests lists dynamodb, es, glue, kinesisvideo, rds,
 * redshift, ssm and xray without TargetKeyId; hashicorp/terraform-provider-aws#2009 shows dynamodb, ebs,
 * kinesisvideo, redshift and ssm so). Services that create their key on first use without a predefined alias
 * (aws/backup, aws/fsx, aws/lightsail…) are not listed: they only appear once AWS creates the key.
 *
 * The descriptions follow AWS's "Default key that protects my … when no other key is defined". Confirmed in
 * DescribeKey captures: DynamoDB data, EBS volumes, EFS filesystems, Glue data, Lambda functions, RDS database
 * volumes, S3 objects, SSM parameters, Secrets Manager data (older keys say "Default master key"). The ACM,
 * Elasticsearch, Kinesis Video, Redshift and X-Ray wordings are guesses in the same form.
 */
const PREDEFINED: Readonly<Record<string, string>> = {
  "alias/aws/acm": "Default key that protects my ACM private keys when no other key is defined",
  "alias/aws/dynamodb": "Default key that protects my DynamoDB data when no other key is defined",
  "alias/aws/ebs": "Default key that protects my EBS volumes when no other key is defined",
  "alias/aws/elasticfilesystem": "Default key that protects my EFS filesystems when no other key is defined",
  "alias/aws/es": "Default key that protects my Elasticsearch data when no other key is defined",
  "alias/aws/glue": "Default key that protects my Glue data when no other key is defined",
  "alias/aws/kinesisvideo": "Default key that protects my Kinesis Video Streams data when no other key is defined",
  "alias/aws/lambda": "Default key that protects my Lambda functions when no other key is defined",
  "alias/aws/rds": "Default key that protects my RDS database volumes when no other key is defined",
  "alias/aws/redshift": "Default key that protects my Redshift data when no other key is defined",
  "alias/aws/s3": "Default key that protects my S3 objects when no other key is defined",
  "alias/aws/secretsmanager": "Default key that protects my Secrets Manager data when no other key is defined",
  "alias/aws/ssm": "Default key that protects my SSM parameters when no other key is defined",
  "alias/aws/xray": "Default key that protects my X-Ray data when no other key is defined",
};

export const DEFAULT_SECRETS_MANAGER_KEY_ALIAS = "alias/aws/secretsmanager";

/** Sorted, as ListAliases merges them with stored aliases by name. */
export const PREDEFINED_AWS_MANAGED_ALIASES: readonly string[] = Object.keys(PREDEFINED).sort();

export const awsManagedKeyDescription = (aliasName: string): string | undefined =>
  Object.prototype.hasOwnProperty.call(PREDEFINED, aliasName) ? PREDEFINED[aliasName] : undefined;

/** "The alias/aws/ prefix is reserved for Amazon Web Services managed keys" (CreateAlias, AliasName). */
export const isReservedAliasName = (aliasName: string): boolean => aliasName.startsWith("alias/aws/");

/**
 * AWS answers changes to an AWS managed key as its key policy refusing them: that policy grants the account only
 * kms:Describe*, kms:Get*, kms:List* and kms:RevokeGrant. The text is IAM's, as captured from KMS (for example
 * elastic/cloudbeat#1749, GetKeyRotationStatus on aws/acm): "User: <principal> is not authorized to perform:
 * kms:<Op> on resource: <key ARN> because no resource-based policy allows the kms:<Op> action". Without --enforce-auth
 * every request acts as the account's root, so the principal named is the root. With it, this is never reached for a
 * caller: the fixed key policy (awsManagedKeyPolicy) allows none of these operations, so access.ts refuses them first,
 * in the same words, naming the real caller.
 */
export function assertCustomerManaged(key: KmsKeyRecord, operation: string): void {
  if (key.keyManager === "AWS") {
    const partition = key.arn.split(":")[1] ?? "aws";
    throw new AwsError(
      "AccessDeniedException",
      `User: arn:${partition}:iam::${key.account}:root is not authorized to perform: kms:${operation} ` +
        `on resource: ${key.arn} because no resource-based policy allows the kms:${operation} action`,
    );
  }
}

/** The service that uses each predefined AWS managed key, as kms:ViaService names it (`<service>.<region>.amazonaws.com`). */
const VIA_SERVICE: Readonly<Record<string, string>> = { "alias/aws/ebs": "ec2" };

/**
 * An AWS managed key's fixed key policy: "AWS": "*" may use the key through its service only (kms:ViaService) and from
 * its own account only (kms:CallerAccount), and the account may read its metadata (Describe*, Get*, List*,
 * RevokeGrant). That is what makes it unusable from other accounts and for direct calls (Secrets Manager user guide,
 * security-encryption, quotes aws/secretsmanager's; the other services' keys follow the same form). Nobody can change it,
 * so it is derived from the key rather than stored: GetKeyPolicy shows it and --enforce-auth evaluates it.
 */
export function awsManagedKeyPolicy(key: KmsKeyRecord): string {
  const [, partition = "aws", , region = "", account = ""] = key.arn.split(":");
  const aliasName = PREDEFINED_AWS_MANAGED_ALIASES.find((name) => PREDEFINED[name] === key.description) ?? DEFAULT_SECRETS_MANAGER_KEY_ALIAS;
  const service = VIA_SERVICE[aliasName] ?? aliasName.slice("alias/aws/".length);
  const through = `Allow access through ${service === "secretsmanager" ? "AWS Secrets Manager" : service} for all principals in the account that are authorized to use it`;
  const policy = {
    Version: "2012-10-17",
    Id: `auto-${service}-2`,
    Statement: [
      {
        Sid: through,
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"],
        Resource: "*",
        Condition: { StringEquals: { "kms:CallerAccount": account, "kms:ViaService": `${service}.${region}.amazonaws.com` } },
      },
      {
        Sid: through,
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "kms:GenerateDataKey*",
        Resource: "*",
        Condition: { StringEquals: { "kms:CallerAccount": account }, StringLike: { "kms:ViaService": `${service}.*.amazonaws.com` } },
      },
      {
        Sid: "Allow direct access to key metadata to the account",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
        Resource: "*",
      },
    ],
  };
  return JSON.stringify(policy, null, 2);
}

/** Fixed policies by key ARN (with the description they were made for): every authorized use of an AWS managed key reads its policy. */
const fixedPolicies = new Map<string, { readonly description: string; readonly policy: string }>();

/** The key policy in force: an AWS managed key's fixed one, else the stored one. */
export function keyPolicyOf(key: KmsKeyRecord): string {
  if (key.keyManager !== "AWS") return key.policy;
  const fixed = fixedPolicies.get(key.arn);
  if (fixed !== undefined && fixed.description === key.description) return fixed.policy;
  const policy = awsManagedKeyPolicy(key);
  // AWS managed keys are few (one per service per account and region); the bound only guards a long-lived server.
  if (fixedPolicies.size >= 4096) fixedPolicies.clear();
  fixedPolicies.set(key.arn, { description: key.description, policy });
  return policy;
}
