// --enforce-auth, table-driven: allow/deny cases taken from AWS's documented policy examples, each named after its
// page, each run through the SDK v3 against one started server with its own principal (identity policies from the
// --principals file; secret resource policies and key policies set by an admin before the call).
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type GrantOperation,
} from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";

const newDir = temporaryDirs("secretslite-policy-cases-");

const ACCT = "111122223333";
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCT}:secret:`;
const ANY_KEY = `arn:aws:kms:${REGION}:${ACCT}:key/*`;
const ADMIN_ARN = `arn:aws:iam::${ACCT}:user/admin`;
const ROOT_ARN = `arn:aws:iam::${ACCT}:root`;
const SM_VIA = `secretsmanager.${REGION}.amazonaws.com`;

// Pages the cases come from (docs.aws.amazon.com paths), so a failing case points at the example it checks.
const IAM_EVAL = "IAM reference_policies_evaluation-logic";
const IAM_ACTION = "IAM reference_policies_elements_action / _notaction";
const IAM_RESOURCE = "IAM reference_policies_elements_resource / _notresource";
const IAM_OPERATORS = "IAM reference_policies_elements_condition_operators";
const IAM_MULTI = "IAM reference_policies_condition-single-vs-multi-valued-context-keys";
const IAM_VARIABLES = "IAM reference_policies_variables";
const IAM_KEYS = "IAM reference_policies_condition-keys";
const IAM_SOURCEIP = "IAM reference_policies_condition-keys (aws:SourceIp, aws:ViaAWSService)";
const IAM_DATES = "IAM reference_policies_examples_aws-dates";
const IAM_DENY_IP = "IAM reference_policies_examples_aws_deny-ip";
const IAM_REGION = "IAM reference_policies_examples_aws_deny-requested-region";
const SM_EXAMPLES = "Secrets Manager auth-and-access_examples";
const SM_RESOURCE = "Secrets Manager auth-and-access_resource-policies";
const SM_ABAC = "Secrets Manager auth-and-access-abac";
const SM_ENCRYPTION = "Secrets Manager security-encryption";
const KMS_DEFAULT = "KMS key-policy-default";
const KMS_KEY_POLICIES = "KMS key-policies (key-policy-overview)";
const KMS_EC = "KMS conditions-kms (kms:EncryptionContext:context-key)";
const KMS_VIA = "KMS conditions-kms (kms:ViaService)";
const KMS_CONDITIONS = "KMS conditions-kms";
const KMS_IAM = "KMS iam-policies-best-practices / customer-managed-policies";

type Statement = Record<string, unknown>;
const policy = (...statements: Statement[]) => ({ Version: "2012-10-17", Statement: statements });
const allow = (action: string | string[], resource: string | string[] = "*", condition?: Statement): Statement => ({
  Effect: "Allow",
  Action: action,
  Resource: resource,
  ...(condition === undefined ? {} : { Condition: condition }),
});
const deny = (action: string | string[], resource: string | string[] = "*", condition?: Statement): Statement => ({ ...allow(action, resource, condition), Effect: "Deny" });

interface Clients {
  readonly sm: SecretsManagerClient;
  readonly kms: KMSClient;
  /** The same principal's clients signing for another region. */
  readonly in: (region: string) => { sm: SecretsManagerClient; kms: KMSClient };
}

/** What a case expects: allowed, or AccessDenied in AWS's words for this action on what the request named. */
type Expected =
  | "allow"
  | { readonly action: string; readonly on?: string; readonly explicit?: boolean; readonly by?: "identity-based" | "resource-based" }
  | { readonly error: string; readonly message?: string };

interface Case {
  readonly page: string;
  readonly name: string;
  /** Principal ARN; an IAM user named after the case otherwise. */
  readonly arn?: string;
  readonly tags?: Record<string, string>;
  readonly policies?: readonly unknown[];
  /** Done by the admin before the call: keys, secrets, resource policies. What it returns reaches `send` and `expect`. */
  readonly setup?: (admin: Clients, me: string) => Promise<Record<string, string>>;
  readonly send: (as: Clients, made: Record<string, string>) => Promise<unknown>;
  readonly expect: Expected | ((made: Record<string, string>) => Expected);
}

// Resources every case may read, created by the admin before the cases run.
const SHARED_SECRETS: ReadonlyArray<{ name: string; tags: Record<string, string> }> = [
  { name: "app/db", tags: { team: "blue", env: "prod" } },
  { name: "ops/db", tags: { team: "red", env: "dev" } },
  { name: "app/untagged", tags: {} },
  { name: "alice/db", tags: {} },
  { name: "bob/db", tags: {} },
];

const getValue = (id: string, stage?: string) => (as: Clients) =>
  as.sm.send(new GetSecretValueCommand({ SecretId: id, ...(stage === undefined ? {} : { VersionStage: stage }) }));
const describeSecret = (id: string) => (as: Clients) => as.sm.send(new DescribeSecretCommand({ SecretId: id }));
const listSecrets = (as: Clients) => as.sm.send(new ListSecretsCommand({}));
const GET = "secretsmanager:GetSecretValue";

/**
 * A key made by the admin with this key policy; the admin keeps full rights on it. The lockout check is bypassed
 * because key-policy.ts still judges it for the account root (the caller before --enforce-auth), which most of
 * these policies deliberately leave out.
 */
async function keyWithPolicy(admin: Clients, statements: Statement[], alias?: string): Promise<Record<string, string>> {
  const adminStatement = { Sid: "KeyAdministrator", Effect: "Allow", Principal: { AWS: ADMIN_ARN }, Action: "kms:*", Resource: "*" };
  const made = await admin.kms.send(new CreateKeyCommand({ Policy: JSON.stringify(policy(adminStatement, ...statements)), BypassPolicyLockoutSafetyCheck: true }));
  const keyArn = made.KeyMetadata?.Arn ?? "";
  if (alias !== undefined) await admin.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn }));
  return { keyArn, keyId: made.KeyMetadata?.KeyId ?? "" };
}
const rootDelegation = (condition?: Statement): Statement => ({
  Sid: "Enable IAM User Permissions",
  Effect: "Allow",
  Principal: { AWS: ROOT_ARN },
  Action: "kms:*",
  Resource: "*",
  ...(condition === undefined ? {} : { Condition: condition }),
});
const encrypt = (keyId: string, context?: Record<string, string>) => (as: Clients) =>
  as.kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("p"), ...(context === undefined ? {} : { EncryptionContext: context }) }));
/** A secret of the case's own, with this resource policy (the admin may always reach it through IAM). */
async function secretWithPolicy(admin: Clients, name: string, statements: Statement[], kmsKeyId?: string): Promise<Record<string, string>> {
  const made = await admin.sm.send(new CreateSecretCommand({ Name: name, SecretString: "v", ...(kmsKeyId === undefined ? {} : { KmsKeyId: kmsKeyId }) }));
  if (statements.length > 0) await admin.sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: JSON.stringify(policy(...statements)) }));
  return { secretArn: made.ARN ?? "", secretName: name };
}

const sessionArn = (role: string, session: string) => `arn:aws:sts::${ACCT}:assumed-role/${role}/${session}`;

const CASES: Case[] = [
  // ---- same account identity policies, Action / NotAction, Resource / NotResource
  { page: SM_EXAMPLES, name: "read one secret: GetSecretValue allowed on the secret's ARN with -??????", policies: [policy(allow(GET, `${SECRET}app/db-??????`))], send: getValue("app/db"), expect: "allow" },
  { page: SM_EXAMPLES, name: "read one secret: another secret is denied", policies: [policy(allow(GET, `${SECRET}app/db-??????`))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: SM_EXAMPLES, name: "read one secret: the full ARN the caller sends is matched too", policies: [policy(allow(GET, `${SECRET}app/db-??????`))], setup: async (admin) => ({ arn: (await describeSecret("app/db")(admin)).ARN ?? "" }), send: (as, made) => as.sm.send(new GetSecretValueCommand({ SecretId: made.arn })), expect: "allow" },
  { page: SM_EXAMPLES, name: "a secret ARN without its random suffix does not match the secret", policies: [policy(allow(GET, `${SECRET}app/db`))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: SM_EXAMPLES, name: "secrets by name prefix: secret:app/* covers app/db", policies: [policy(allow(GET, `${SECRET}app/*`))], send: getValue("app/db"), expect: "allow" },
  { page: SM_EXAMPLES, name: "secrets by name prefix: secret:app/* does not cover ops/db", policies: [policy(allow(GET, `${SECRET}app/*`))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_RESOURCE, name: "wildcards across region and account segments", policies: [policy(allow(GET, "arn:aws:secretsmanager:*:*:secret:app/*"))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_RESOURCE, name: "a resource in another region does not match", policies: [policy(allow(GET, `arn:aws:secretsmanager:eu-west-1:${ACCT}:secret:app/*`))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_EVAL, name: "no policy at all: implicit deny", send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_EVAL, name: "ListSecrets has no resource: a secret ARN does not cover it", policies: [policy(allow("secretsmanager:ListSecrets", `${SECRET}app/*`))], send: listSecrets, expect: { action: "secretsmanager:ListSecrets" } },
  { page: SM_EXAMPLES, name: "ListSecrets allowed with Resource *", policies: [policy(allow("secretsmanager:ListSecrets"))], send: listSecrets, expect: "allow" },
  { page: SM_EXAMPLES, name: "GetRandomPassword allowed with Resource *", policies: [policy(allow("secretsmanager:GetRandomPassword"))], send: (as) => as.sm.send(new GetRandomPasswordCommand({})), expect: "allow" },
  { page: IAM_ACTION, name: "Action wildcard secretsmanager:Get* allows GetSecretValue", policies: [policy(allow("secretsmanager:Get*"))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_ACTION, name: "Action wildcard secretsmanager:Get* does not allow DescribeSecret", policies: [policy(allow("secretsmanager:Get*"))], send: describeSecret("app/db"), expect: { action: "secretsmanager:DescribeSecret", on: "app/db" } },
  { page: IAM_ACTION, name: "Action names are case-insensitive", policies: [policy(allow("SecretsManager:getsecretvalue"))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_ACTION, name: "Action with a middle wildcard secretsmanager:*Secret*", policies: [policy(allow("secretsmanager:*Secret*"))], send: describeSecret("app/db"), expect: "allow" },
  { page: IAM_ACTION, name: "Action list: a listed action is allowed", policies: [policy(allow(["secretsmanager:DescribeSecret", GET]))], send: getValue("ops/db"), expect: "allow" },
  { page: IAM_ACTION, name: "Allow with NotAction: everything but DeleteSecret is allowed", policies: [policy({ Effect: "Allow", NotAction: "secretsmanager:DeleteSecret", Resource: "*" })], send: describeSecret("app/db"), expect: "allow" },
  { page: IAM_ACTION, name: "Allow with NotAction: the excluded action is not allowed", policies: [policy({ Effect: "Allow", NotAction: "secretsmanager:DeleteSecret", Resource: "*" })], send: (as) => as.sm.send(new DeleteSecretCommand({ SecretId: "app/db" })), expect: { action: "secretsmanager:DeleteSecret", on: "app/db" } },
  { page: IAM_ACTION, name: "Deny with NotAction: everything but reads is denied", policies: [policy(allow("secretsmanager:*"), { Effect: "Deny", NotAction: ["secretsmanager:Get*", "secretsmanager:Describe*", "secretsmanager:List*"], Resource: "*" })], send: (as) => as.sm.send(new UpdateSecretCommand({ SecretId: "app/db", Description: "x" })), expect: { action: "secretsmanager:UpdateSecret", on: "app/db", explicit: true } },
  { page: IAM_ACTION, name: "Deny with NotAction: reads stay allowed", policies: [policy(allow("secretsmanager:*"), { Effect: "Deny", NotAction: ["secretsmanager:Get*", "secretsmanager:Describe*", "secretsmanager:List*"], Resource: "*" })], send: describeSecret("app/db"), expect: "allow" },
  // The Deny's NotAction leaves out kms:Decrypt, so it also denies the Decrypt Secrets Manager makes for the caller.
  { page: IAM_ACTION, name: "Deny with NotAction also covers Secrets Manager's kms:Decrypt for GetSecretValue", policies: [policy(allow("secretsmanager:*"), { Effect: "Deny", NotAction: ["secretsmanager:Get*", "secretsmanager:Describe*", "secretsmanager:List*"], Resource: "*" })], send: getValue("app/db"), expect: { error: "AccessDeniedException", message: "Access to KMS is not allowed" } },
  { page: IAM_RESOURCE, name: "Allow with NotResource: secrets outside ops/ are allowed", policies: [policy({ Effect: "Allow", Action: GET, NotResource: `${SECRET}ops/*` })], send: getValue("app/db"), expect: "allow" },
  { page: IAM_RESOURCE, name: "Allow with NotResource: the excluded secrets are not", policies: [policy({ Effect: "Allow", Action: GET, NotResource: `${SECRET}ops/*` })], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_EVAL, name: "explicit Deny wins over an Allow in the same policy", policies: [policy(allow("secretsmanager:*"), deny(GET, `${SECRET}ops/*`))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db", explicit: true } },
  { page: IAM_EVAL, name: "explicit Deny in a second identity policy wins", policies: [policy(allow(GET)), policy(deny(GET, `${SECRET}app/*`))], send: getValue("app/db"), expect: { action: GET, on: "app/db", explicit: true } },
  { page: IAM_EVAL, name: "a Deny for other resources leaves the Allow", policies: [policy(allow(GET), deny(GET, `${SECRET}ops/*`))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_EVAL, name: "authorization before existence: allowed caller learns the secret does not exist", policies: [policy(allow(GET, `${SECRET}app/*`))], send: getValue("app/missing"), expect: { error: "ResourceNotFoundException" } },
  { page: IAM_EVAL, name: "authorization before existence: a denied caller gets AccessDenied for a missing secret", policies: [policy(allow(GET, `${SECRET}app/*`))], send: getValue("ops/missing"), expect: { action: GET, on: "ops/missing" } },
  { page: SM_EXAMPLES, name: "CreateSecret under a name prefix: allowed", policies: [policy(allow("secretsmanager:CreateSecret", `${SECRET}team-a/*`))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "team-a/new", SecretString: "x" })), expect: "allow" },
  { page: SM_EXAMPLES, name: "CreateSecret outside the name prefix: denied", policies: [policy(allow("secretsmanager:CreateSecret", `${SECRET}team-a/*`))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "team-b/new", SecretString: "x" })), expect: { error: "AccessDeniedException" } },

  // ---- condition operators
  { page: IAM_OPERATORS, name: "StringEquals on secretsmanager:ResourceTag/env matches", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "StringEquals on secretsmanager:ResourceTag/env differs", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_OPERATORS, name: "StringEquals is case-sensitive on values", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/env": "PROD" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_OPERATORS, name: "StringEqualsIgnoreCase ignores case", policies: [policy(allow(GET, "*", { StringEqualsIgnoreCase: { "secretsmanager:ResourceTag/env": "PROD" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "StringNotEquals: a missing tag counts as not equal", policies: [policy(allow(GET, "*", { StringNotEquals: { "secretsmanager:ResourceTag/env": "dev" } }))], send: getValue("app/untagged"), expect: "allow" },
  { page: IAM_OPERATORS, name: "StringNotEquals: the equal value is denied", policies: [policy(allow(GET, "*", { StringNotEquals: { "secretsmanager:ResourceTag/env": "dev" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_OPERATORS, name: "StringLike with a wildcard value", policies: [policy(allow(GET, "*", { StringLike: { "secretsmanager:ResourceTag/team": "bl*" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "StringNotLike excludes matching values", policies: [policy(allow(GET, "*", { StringNotLike: { "secretsmanager:ResourceTag/team": "r?d" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_OPERATORS, name: "several values in one condition are ORed", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/team": ["green", "red"] } }))], send: getValue("ops/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "several keys in one condition are ANDed", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/team": "red", "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_OPERATORS, name: "a missing key makes StringEquals false", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("app/untagged"), expect: { action: GET, on: "app/untagged" } },
  { page: IAM_OPERATORS, name: "StringEqualsIfExists: a missing key passes", policies: [policy(allow(GET, "*", { StringEqualsIfExists: { "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("app/untagged"), expect: "allow" },
  { page: IAM_OPERATORS, name: "StringEqualsIfExists: a present key must match", policies: [policy(allow(GET, "*", { StringEqualsIfExists: { "secretsmanager:ResourceTag/env": "prod" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: IAM_OPERATORS, name: "Null true: allowed only where the tag is absent", policies: [policy(allow(GET, "*", { Null: { "secretsmanager:ResourceTag/team": "true" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_OPERATORS, name: "Null false: the tag must be present", policies: [policy(allow(GET, "*", { Null: { "secretsmanager:ResourceTag/team": "false" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "ArnLike on secretsmanager:SecretId", policies: [policy(allow(GET, "*", { ArnLike: { "secretsmanager:SecretId": `arn:aws:secretsmanager:*:${ACCT}:secret:app/*` } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "ArnNotLike on secretsmanager:SecretId", policies: [policy(allow(GET, "*", { ArnNotLike: { "secretsmanager:SecretId": `arn:aws:secretsmanager:*:${ACCT}:secret:app/*` } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_OPERATORS, name: "ArnEquals on aws:PrincipalArn of a user", arn: `arn:aws:iam::${ACCT}:user/arn-equals`, policies: [policy(allow(GET, "*", { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCT}:user/arn-equals` } }))], send: getValue("app/db"), expect: "allow" },
  { page: SM_EXAMPLES, name: "NumericGreaterThanEquals on secretsmanager:RecoveryWindowInDays: 7 days allowed", policies: [policy(allow("secretsmanager:DeleteSecret", "*", { NumericGreaterThanEquals: { "secretsmanager:RecoveryWindowInDays": "7" } }))], setup: async (admin) => secretWithPolicy(admin, "cases/delete-7", []), send: (as) => as.sm.send(new DeleteSecretCommand({ SecretId: "cases/delete-7", RecoveryWindowInDays: 7 })), expect: "allow" },
  { page: SM_EXAMPLES, name: "NumericGreaterThanEquals on secretsmanager:RecoveryWindowInDays: fewer days denied", policies: [policy(allow("secretsmanager:DeleteSecret", "*", { NumericGreaterThanEquals: { "secretsmanager:RecoveryWindowInDays": "10" } }))], send: (as) => as.sm.send(new DeleteSecretCommand({ SecretId: "app/db", RecoveryWindowInDays: 7 })), expect: { action: "secretsmanager:DeleteSecret", on: "app/db" } },
  { page: IAM_OPERATORS, name: "NumericLessThan on aws:EpochTime in the future allows", policies: [policy(allow(GET, "*", { NumericLessThan: { "aws:EpochTime": "4102444800" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "NumericLessThan on aws:EpochTime in the past denies", policies: [policy(allow(GET, "*", { NumericLessThan: { "aws:EpochTime": "946684800" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_DATES, name: "DateGreaterThan / DateLessThan window around now allows", policies: [policy(allow(GET, "*", { DateGreaterThan: { "aws:CurrentTime": "2020-04-01T00:00:00Z" }, DateLessThan: { "aws:CurrentTime": "2100-06-30T23:59:59Z" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_DATES, name: "a window that has ended denies", policies: [policy(allow(GET, "*", { DateGreaterThan: { "aws:CurrentTime": "2020-04-01T00:00:00Z" }, DateLessThan: { "aws:CurrentTime": "2020-06-30T23:59:59Z" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_OPERATORS, name: "DateNotEquals with an epoch value", policies: [policy(allow(GET, "*", { DateNotEquals: { "aws:CurrentTime": "0" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_DENY_IP, name: "aws:SourceIp: IpAddress 127.0.0.0/8 allows the loopback caller", policies: [policy(allow(GET, "*", { IpAddress: { "aws:SourceIp": "127.0.0.0/8" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_DENY_IP, name: "aws:SourceIp: IpAddress of another network denies", policies: [policy(allow(GET, "*", { IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_DENY_IP, name: "aws:SourceIp: Deny NotIpAddress of the office range denies the loopback caller", policies: [policy(allow(GET), deny("*", "*", { NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db", explicit: true } },
  { page: IAM_DENY_IP, name: "aws:SourceIp: Deny NotIpAddress 127.0.0.1/32 leaves the loopback caller allowed", policies: [policy(allow(GET), deny("secretsmanager:*", "*", { NotIpAddress: { "aws:SourceIp": "127.0.0.1/32" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_OPERATORS, name: "Bool aws:SecureTransport false: plain http is denied", policies: [policy(allow(GET), deny("*", "*", { Bool: { "aws:SecureTransport": "false" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db", explicit: true } },
  { page: IAM_OPERATORS, name: "Bool aws:SecureTransport true required: plain http is not allowed", policies: [policy(allow(GET, "*", { Bool: { "aws:SecureTransport": "true" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: SM_EXAMPLES, name: "Bool secretsmanager:ForceDeleteWithoutRecovery: deny forced deletion", policies: [policy(allow("secretsmanager:DeleteSecret"), deny("secretsmanager:DeleteSecret", "*", { Bool: { "secretsmanager:ForceDeleteWithoutRecovery": "true" } }))], send: (as) => as.sm.send(new DeleteSecretCommand({ SecretId: "app/db", ForceDeleteWithoutRecovery: true })), expect: { action: "secretsmanager:DeleteSecret", on: "app/db", explicit: true } },
  { page: SM_EXAMPLES, name: "secretsmanager:VersionStage AWSCURRENT only: current allowed", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:VersionStage": "AWSCURRENT" } }))], send: getValue("app/db"), expect: "allow" },
  { page: SM_EXAMPLES, name: "secretsmanager:VersionStage AWSCURRENT only: AWSPREVIOUS denied", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:VersionStage": "AWSCURRENT" } }))], send: getValue("app/db", "AWSPREVIOUS"), expect: { action: GET, on: "app/db" } },
  { page: IAM_REGION, name: "aws:RequestedRegion: allowed in the named region", policies: [policy(allow("secretsmanager:ListSecrets", "*", { StringEquals: { "aws:RequestedRegion": REGION } }))], send: listSecrets, expect: "allow" },
  { page: IAM_REGION, name: "aws:RequestedRegion: another region is denied", policies: [policy(allow("secretsmanager:ListSecrets", "*", { StringEquals: { "aws:RequestedRegion": REGION } }))], send: (as) => as.in("eu-west-1").sm.send(new ListSecretsCommand({})), expect: { action: "secretsmanager:ListSecrets" } },
  { page: IAM_REGION, name: "aws:RequestedRegion: Deny outside approved regions", policies: [policy(allow("secretsmanager:ListSecrets"), deny("*", "*", { StringNotEquals: { "aws:RequestedRegion": ["eu-central-1", "eu-west-1"] } }))], send: listSecrets, expect: { action: "secretsmanager:ListSecrets", explicit: true } },

  // ---- multivalued keys and tags in the request
  { page: SM_EXAMPLES, name: "aws:RequestTag on CreateSecret: the required tag is given", policies: [policy(allow("secretsmanager:CreateSecret", "*", { StringEquals: { "aws:RequestTag/team": "blue" } }), allow("secretsmanager:TagResource"))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "cases/tagged-blue", SecretString: "x", Tags: [{ Key: "team", Value: "blue" }] })), expect: "allow" },
  { page: SM_EXAMPLES, name: "aws:RequestTag on CreateSecret: without the tag denied", policies: [policy(allow("secretsmanager:CreateSecret", "*", { StringEquals: { "aws:RequestTag/team": "blue" } }))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "cases/untagged", SecretString: "x" })), expect: { error: "AccessDeniedException" } },
  { page: IAM_MULTI, name: "ForAllValues:StringEquals aws:TagKeys: only allowed keys", policies: [policy(allow("secretsmanager:TagResource", "*", { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "env"] } }))], send: (as) => as.sm.send(new TagResourceCommand({ SecretId: "app/untagged", Tags: [{ Key: "team", Value: "green" }] })), expect: "allow" },
  { page: IAM_MULTI, name: "ForAllValues:StringEquals aws:TagKeys: another key denied", policies: [policy(allow("secretsmanager:TagResource", "*", { "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "env"] } }))], send: (as) => as.sm.send(new TagResourceCommand({ SecretId: "app/untagged", Tags: [{ Key: "team", Value: "green" }, { Key: "owner", Value: "x" }] })), expect: { action: "secretsmanager:TagResource", on: "app/untagged" } },
  { page: IAM_MULTI, name: "ForAnyValue:StringEquals aws:TagKeys: one matching key is enough", policies: [policy(allow("secretsmanager:TagResource", "*", { "ForAnyValue:StringEquals": { "aws:TagKeys": ["cost-center"] } }))], send: (as) => as.sm.send(new TagResourceCommand({ SecretId: "app/untagged", Tags: [{ Key: "cost-center", Value: "1" }, { Key: "other", Value: "2" }] })), expect: "allow" },
  { page: IAM_MULTI, name: "ForAnyValue:StringEquals aws:TagKeys: no matching key denied", policies: [policy(allow("secretsmanager:TagResource", "*", { "ForAnyValue:StringEquals": { "aws:TagKeys": ["cost-center"] } }))], send: (as) => as.sm.send(new TagResourceCommand({ SecretId: "app/untagged", Tags: [{ Key: "other", Value: "2" }] })), expect: { action: "secretsmanager:TagResource", on: "app/untagged" } },
  { page: IAM_MULTI, name: "ForAllValues with an empty set (CreateSecret without tags) is true", policies: [policy(allow("secretsmanager:CreateSecret", "*", { "ForAllValues:StringEquals": { "aws:TagKeys": ["team"] } }))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "cases/no-tags", SecretString: "x" })), expect: "allow" },
  { page: IAM_MULTI, name: "ForAnyValue with an empty set (CreateSecret without tags) is false", policies: [policy(allow("secretsmanager:CreateSecret", "*", { "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } }))], send: (as) => as.sm.send(new CreateSecretCommand({ Name: "cases/no-tags-any", SecretString: "x" })), expect: { error: "AccessDeniedException" } },

  // ---- policy variables, principal keys, sessions
  { page: IAM_VARIABLES, name: "${aws:username} in Resource: the user's own secrets", arn: `arn:aws:iam::${ACCT}:user/alice`, policies: [policy(allow(GET, `${SECRET}\${aws:username}/*`))], send: getValue("alice/db"), expect: "allow" },
  { page: IAM_VARIABLES, name: "${aws:username} in Resource: another user's secrets denied", arn: `arn:aws:iam::${ACCT}:user/alice`, policies: [policy(allow(GET, `${SECRET}\${aws:username}/*`))], send: getValue("bob/db"), expect: { action: GET, on: "bob/db" } },
  { page: IAM_VARIABLES, name: "Version 2008-10-17: ${aws:username} is literal text", arn: `arn:aws:iam::${ACCT}:user/alice`, policies: [{ Version: "2008-10-17", Statement: [allow(GET, `${SECRET}\${aws:username}/*`)] }], send: getValue("alice/db"), expect: { action: GET, on: "alice/db" } },
  { page: SM_ABAC, name: "ABAC: ResourceTag/team equals ${aws:PrincipalTag/team}", tags: { team: "blue" }, policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}" } }))], send: getValue("app/db"), expect: "allow" },
  { page: SM_ABAC, name: "ABAC: another team's secret denied", tags: { team: "blue" }, policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}" } }))], send: getValue("ops/db"), expect: { action: GET, on: "ops/db" } },
  { page: SM_ABAC, name: "ABAC: a principal without the tag matches nothing", policies: [policy(allow(GET, "*", { StringEquals: { "secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}" } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_KEYS, name: "aws:PrincipalTag condition", tags: { department: "finance" }, policies: [policy(allow(GET, "*", { StringEquals: { "aws:PrincipalTag/department": "finance" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_KEYS, name: "aws:PrincipalArn of a role session is the role's ARN", arn: sessionArn("deployer", "ci"), policies: [policy(allow(GET, "*", { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCT}:role/deploy*` } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_KEYS, name: "aws:PrincipalArn: a session ARN pattern does not match", arn: sessionArn("deployer", "ci2"), policies: [policy(allow(GET, "*", { ArnLike: { "aws:PrincipalArn": `arn:aws:sts::${ACCT}:assumed-role/deployer/*` } }))], send: getValue("app/db"), expect: { action: GET, on: "app/db" } },
  { page: IAM_KEYS, name: "aws:PrincipalType of an IAM user is User", policies: [policy(allow(GET, "*", { StringEquals: { "aws:PrincipalType": "User" } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_KEYS, name: "aws:PrincipalAccount", policies: [policy(allow(GET, "*", { StringEquals: { "aws:PrincipalAccount": ACCT } }))], send: getValue("app/db"), expect: "allow" },
  { page: IAM_EVAL, name: "the account root is allowed in its own account without policies", arn: ROOT_ARN, send: getValue("app/db"), expect: "allow" },

  // ---- secret resource policies (same account)
  { page: SM_RESOURCE, name: "resource policy alone allows a same-account user", setup: (admin, me) => secretWithPolicy(admin, "cases/rp-allow", [{ Effect: "Allow", Principal: { AWS: me }, Action: GET, Resource: "*" }]), send: getValue("cases/rp-allow"), expect: "allow" },
  { page: SM_RESOURCE, name: "resource policy for another user does not allow", setup: (admin) => secretWithPolicy(admin, "cases/rp-other", [{ Effect: "Allow", Principal: { AWS: ADMIN_ARN }, Action: GET, Resource: "*" }]), send: getValue("cases/rp-other"), expect: { action: GET, on: "cases/rp-other" } },
  { page: SM_RESOURCE, name: "resource policy naming a role allows its sessions", arn: sessionArn("reader-role", "s1"), setup: (admin) => secretWithPolicy(admin, "cases/rp-role", [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:role/reader-role` }, Action: GET, Resource: "*" }]), send: getValue("cases/rp-role"), expect: "allow" },
  { page: SM_RESOURCE, name: "resource policy Deny beats an identity Allow", policies: [policy(allow("secretsmanager:*"))], setup: (admin, me) => secretWithPolicy(admin, "cases/rp-deny", [{ Sid: "DenyCase", Effect: "Deny", Principal: { AWS: me }, Action: GET, Resource: "*" }]), send: getValue("cases/rp-deny"), expect: { action: GET, on: "cases/rp-deny", explicit: true, by: "resource-based" } },
  { page: SM_RESOURCE, name: "resource policy Deny for everyone but a role", policies: [policy(allow("secretsmanager:*"))], setup: (admin) => secretWithPolicy(admin, "cases/rp-only-role", [{ Effect: "Deny", Principal: "*", Action: GET, Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCT}:role/app` } } }]), send: getValue("cases/rp-only-role"), expect: { action: GET, on: "cases/rp-only-role", explicit: true, by: "resource-based" } },
  { page: SM_RESOURCE, name: "resource policy Deny for everyone but a role: the role's session passes", arn: sessionArn("app", "s1"), policies: [policy(allow(GET))], setup: (admin) => secretWithPolicy(admin, "cases/rp-only-role-2", [{ Effect: "Deny", Principal: "*", Action: GET, Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCT}:role/app` } } }]), send: getValue("cases/rp-only-role-2"), expect: "allow" },

  // ---- KMS key policies
  { page: KMS_DEFAULT, name: "default key policy delegates to IAM: an IAM Allow on key/* suffices", policies: [policy(allow("kms:Encrypt", ANY_KEY))], setup: async (admin) => ({ keyId: (await admin.kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? "" }), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: "allow" },
  { page: KMS_DEFAULT, name: "default key policy: no IAM Allow, denied by the identity side", setup: async (admin) => { const k = await admin.kms.send(new CreateKeyCommand({})); return { keyId: k.KeyMetadata?.KeyId ?? "", keyArn: k.KeyMetadata?.Arn ?? "" }; }, send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_KEY_POLICIES, name: "key policy without root delegation: IAM kms:* does not help", policies: [policy(allow("kms:*"))], setup: (admin) => keyWithPolicy(admin, []), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn, by: "resource-based" }) },
  { page: KMS_KEY_POLICIES, name: "key policy naming the user directly: allowed with no IAM policy", setup: (admin, me) => keyWithPolicy(admin, [{ Sid: "KeyUser", Effect: "Allow", Principal: { AWS: me }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" }]), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: "allow" },
  { page: KMS_KEY_POLICIES, name: "key policy naming the user: actions it does not list are denied", setup: (admin, me) => keyWithPolicy(admin, [{ Effect: "Allow", Principal: { AWS: me }, Action: "kms:Encrypt", Resource: "*" }]), send: (as, made) => as.kms.send(new GenerateDataKeyCommand({ KeyId: made.keyId, KeySpec: "AES_256" })), expect: (made) => ({ action: "kms:GenerateDataKey", on: made.keyArn, by: "resource-based" }) },
  { page: KMS_KEY_POLICIES, name: "key policy Deny for the user wins over its Allow", setup: (admin, me) => keyWithPolicy(admin, [rootDelegation(), { Sid: "NoEncrypt", Effect: "Deny", Principal: { AWS: me }, Action: "kms:Encrypt", Resource: "*" }]), policies: [policy(allow("kms:*"))], send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn, explicit: true, by: "resource-based" }) },
  { page: KMS_IAM, name: "an IAM Deny works without root delegation", setup: (admin, me) => keyWithPolicy(admin, [{ Effect: "Allow", Principal: { AWS: me }, Action: "kms:*", Resource: "*" }]), policies: [policy(deny("kms:Encrypt", ANY_KEY))], send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn, explicit: true }) },
  { page: KMS_KEY_POLICIES, name: "key policy naming a role allows its sessions", arn: sessionArn("kms-user", "s1"), setup: (admin) => keyWithPolicy(admin, [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCT}:role/kms-user` }, Action: "kms:DescribeKey", Resource: "*" }]), send: (as, made) => as.kms.send(new DescribeKeyCommand({ KeyId: made.keyId })), expect: "allow" },
  { page: KMS_KEY_POLICIES, name: "the account root is denied by a key policy that does not name it", arn: ROOT_ARN, setup: (admin) => keyWithPolicy(admin, []), send: (as, made) => as.kms.send(new DescribeKeyCommand({ KeyId: made.keyId })), expect: (made) => ({ action: "kms:DescribeKey", on: made.keyArn, by: "resource-based" }) },
  { page: KMS_CONDITIONS, name: "kms:RequestAlias: Encrypt through the alias allowed", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:RequestAlias": "alias/cases-request-alias" } }))], setup: async (admin) => { const k = await keyWithPolicy(admin, [rootDelegation()], "alias/cases-request-alias"); return k; }, send: (as) => encrypt("alias/cases-request-alias")(as), expect: "allow" },
  { page: KMS_CONDITIONS, name: "kms:RequestAlias: Encrypt by key id denied", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:RequestAlias": "alias/cases-request-alias-2" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()], "alias/cases-request-alias-2"), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_CONDITIONS, name: "kms:KeySpec on CreateKey: symmetric keys only", policies: [policy(allow("kms:CreateKey", "*", { StringEquals: { "kms:KeySpec": "SYMMETRIC_DEFAULT" } }))], send: (as) => as.kms.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" })), expect: { action: "kms:CreateKey" } },
  { page: KMS_CONDITIONS, name: "kms:GrantOperations: ForAllValues within the allowed set", policies: [policy(allow("kms:CreateGrant", ANY_KEY, { "ForAllValues:StringEquals": { "kms:GrantOperations": ["Decrypt", "Encrypt"] } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => as.kms.send(new CreateGrantCommand({ KeyId: made.keyId, GranteePrincipal: ADMIN_ARN, Operations: ["Decrypt" as GrantOperation] })), expect: "allow" },
  { page: KMS_CONDITIONS, name: "kms:GrantOperations: an operation outside the set denied", policies: [policy(allow("kms:CreateGrant", ANY_KEY, { "ForAllValues:StringEquals": { "kms:GrantOperations": ["Decrypt", "Encrypt"] } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => as.kms.send(new CreateGrantCommand({ KeyId: made.keyId, GranteePrincipal: ADMIN_ARN, Operations: ["ReEncryptFrom" as GrantOperation] })), expect: (made) => ({ action: "kms:CreateGrant", on: made.keyArn }) },

  // ---- kms:EncryptionContext
  { page: KMS_EC, name: "kms:EncryptionContext:Project StringEquals: matching context allowed", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:EncryptionContext:Project": "Alpha" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "", { Project: "Alpha" })(as), expect: "allow" },
  { page: KMS_EC, name: "kms:EncryptionContext:Project StringEquals: other value denied", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:EncryptionContext:Project": "Alpha" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "", { Project: "Beta" })(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_EC, name: "kms:EncryptionContext: the key part is case-insensitive", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:EncryptionContext:project": "Alpha" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "", { Project: "Alpha" })(as), expect: "allow" },
  { page: KMS_EC, name: "kms:EncryptionContext: the value is case-sensitive", policies: [policy(allow("kms:Encrypt", ANY_KEY, { StringEquals: { "kms:EncryptionContext:Project": "alpha" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "", { Project: "Alpha" })(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_EC, name: "kms:EncryptionContext in a key policy statement naming the user", setup: (admin, me) => keyWithPolicy(admin, [{ Effect: "Allow", Principal: { AWS: me }, Action: "kms:Encrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:Department": "IT" } } }]), send: (as, made) => encrypt(made.keyId ?? "", { Department: "IT" })(as), expect: "allow" },
  { page: KMS_EC, name: "kms:EncryptionContextKeys ForAllValues: an empty context passes (the documented pitfall)", policies: [policy(allow("kms:Encrypt", ANY_KEY, { "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["Project"] } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: "allow" },
  { page: KMS_EC, name: "kms:EncryptionContextKeys ForAnyValue: an empty context fails", policies: [policy(allow("kms:Encrypt", ANY_KEY, { "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": ["Project"] } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_EC, name: "Null kms:EncryptionContextKeys false: an encryption context is required", policies: [policy(allow("kms:Encrypt", ANY_KEY, { Null: { "kms:EncryptionContextKeys": "false" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "")(as), expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn }) },
  { page: KMS_EC, name: "Null kms:EncryptionContextKeys false: with a context allowed", policies: [policy(allow("kms:Encrypt", ANY_KEY, { Null: { "kms:EncryptionContextKeys": "false" } }))], setup: (admin) => keyWithPolicy(admin, [rootDelegation()]), send: (as, made) => encrypt(made.keyId ?? "", { any: "thing" })(as), expect: "allow" },

  // ---- Secrets Manager's calls to KMS: kms:ViaService, the aws/secretsmanager key, aws:SourceIp and aws:ViaAWSService
  {
    page: KMS_VIA,
    name: "kms:ViaService required by a customer key policy: GetSecretValue through Secrets Manager allowed",
    policies: [policy(allow(GET, `${SECRET}cases/via-*`), allow("kms:Decrypt", ANY_KEY))],
    setup: async (admin) => {
      const key = await keyWithPolicy(admin, [rootDelegation({ StringEquals: { "kms:ViaService": SM_VIA } })]);
      return { ...key, ...(await secretWithPolicy(admin, "cases/via-1", [], key.keyArn)) };
    },
    send: getValue("cases/via-1"),
    expect: "allow",
  },
  {
    page: KMS_VIA,
    name: "kms:ViaService required by a customer key policy: direct Decrypt denied",
    policies: [policy(allow("kms:Decrypt", ANY_KEY))],
    setup: async (admin) => {
      const key = await keyWithPolicy(admin, [rootDelegation({ StringEquals: { "kms:ViaService": SM_VIA } })]);
      const sealed = await admin.kms.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from("p") }));
      return { ...key, blob: Buffer.from(sealed.CiphertextBlob ?? new Uint8Array()).toString("base64") };
    },
    send: (as, made) => as.kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(made.blob ?? "", "base64") })),
    expect: (made) => ({ action: "kms:Decrypt", on: made.keyArn, by: "resource-based" }),
  },
  {
    page: KMS_VIA,
    name: "kms:ViaService of another service does not let Secrets Manager decrypt",
    policies: [policy(allow(GET, `${SECRET}cases/via-*`), allow("kms:Decrypt", ANY_KEY))],
    setup: async (admin) => {
      const key = await keyWithPolicy(admin, [rootDelegation({ StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` } })]);
      return { ...key, ...(await secretWithPolicy(admin, "cases/via-2", [], key.keyArn)) };
    },
    send: getValue("cases/via-2"),
    expect: { error: "AccessDeniedException", message: "Access to KMS is not allowed" },
  },
  { page: SM_ENCRYPTION, name: "aws/secretsmanager key: GetSecretValue needs only secretsmanager:GetSecretValue", policies: [policy(allow(GET, `${SECRET}app/*`))], send: getValue("app/db"), expect: "allow" },
  {
    page: SM_ENCRYPTION,
    name: "aws/secretsmanager key: direct use is denied even with kms:*",
    policies: [policy(allow("kms:*"))],
    setup: async (admin) => ({ keyArn: (await admin.kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata?.Arn ?? "" }),
    send: encrypt("alias/aws/secretsmanager"),
    expect: (made) => ({ action: "kms:Encrypt", on: made.keyArn, by: "resource-based" }),
  },
  { page: SM_ENCRYPTION, name: "aws/secretsmanager key: PutSecretValue with secretsmanager:PutSecretValue only", policies: [policy(allow("secretsmanager:PutSecretValue", `${SECRET}app/*`))], send: (as) => as.sm.send(new PutSecretValueCommand({ SecretId: "app/untagged", SecretString: "new" })), expect: "allow" },
  {
    page: IAM_SOURCEIP,
    name: "aws:SourceIp Deny without aws:ViaAWSService breaks Secrets Manager's call to KMS",
    policies: [policy(allow(GET, `${SECRET}cases/ip-*`), allow("kms:Decrypt", ANY_KEY), deny("*", "*", { NotIpAddress: { "aws:SourceIp": "127.0.0.1/32" } }))],
    setup: async (admin) => {
      const key = await keyWithPolicy(admin, [rootDelegation()]);
      return { ...key, ...(await secretWithPolicy(admin, "cases/ip-1", [], key.keyArn)) };
    },
    send: getValue("cases/ip-1"),
    expect: { error: "AccessDeniedException", message: "Access to KMS is not allowed" },
  },
  {
    page: IAM_SOURCEIP,
    name: "aws:SourceIp Deny paired with aws:ViaAWSService false lets Secrets Manager call KMS",
    policies: [policy(allow(GET, `${SECRET}cases/ip-*`), allow("kms:Decrypt", ANY_KEY), deny("*", "*", { NotIpAddress: { "aws:SourceIp": "127.0.0.1/32" }, Bool: { "aws:ViaAWSService": "false" } }))],
    setup: async (admin) => {
      const key = await keyWithPolicy(admin, [rootDelegation()]);
      return { ...key, ...(await secretWithPolicy(admin, "cases/ip-2", [], key.keyArn)) };
    },
    send: getValue("cases/ip-2"),
    expect: "allow",
  },
  {
    page: IAM_SOURCEIP,
    name: "aws:SourceIp Deny paired with aws:ViaAWSService false still denies a caller from elsewhere",
    policies: [policy(allow(GET), deny("*", "*", { NotIpAddress: { "aws:SourceIp": "192.0.2.0/24" }, Bool: { "aws:ViaAWSService": "false" } }))],
    send: getValue("app/db"),
    expect: { action: GET, on: "app/db", explicit: true },
  },
];

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}
const ADMIN: Keys = { accessKeyId: "AKIACASESADMIN000001", secretAccessKey: "cases-admin-secret-access-key-000000000" };
const keysOf = (index: number): Keys => ({ accessKeyId: `AKIACASE${String(index).padStart(12, "0")}`, secretAccessKey: `case-${index}-secret-access-key` });
const arnOf = (c: Case, index: number): string => c.arn ?? `arn:aws:iam::${ACCT}:user/case-${index}`;

function principalsFile(): string {
  const file = path.join(newDir(), "principals.json");
  const principals = [
    { ...ADMIN, arn: ADMIN_ARN, policies: [policy(allow(["secretsmanager:*", "kms:*"]))] },
    ...CASES.map((c, index) => ({ ...keysOf(index), arn: arnOf(c, index), ...(c.tags === undefined ? {} : { tags: c.tags }), policies: c.policies ?? [] })),
  ];
  writeFileSync(file, JSON.stringify({ principals }));
  return file;
}

describe("policy cases from AWS's documented examples (--enforce-auth, SDK v3)", () => {
  let server: TestServer;
  const clients: Array<{ destroy(): void }> = [];
  const clientsFor = (keys: Keys): Clients => {
    const make = (region: string) => {
      const config = { endpoint: server.url, region, credentials: keys, maxAttempts: 1 };
      const sm = new SecretsManagerClient(config);
      const kms = new KMSClient(config);
      clients.push(sm, kms);
      return { sm, kms };
    };
    return { ...make(REGION), in: make };
  };

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", principalsFile()] });
    const admin = clientsFor(ADMIN);
    for (const { name, tags } of SHARED_SECRETS) {
      await admin.sm.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}`, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    }
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.close();
  });

  it("has at least 80 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
  });

  it.each(CASES.map((c, index) => [`${c.page}: ${c.name}`, c, index] as const))("%s", async (_title, c, index) => {
    const me = arnOf(c, index);
    const made = c.setup === undefined ? {} : await c.setup(clientsFor(ADMIN), me);
    const outcome = await c.send(clientsFor(keysOf(index)), made).then(
      () => ({ name: "allowed", message: "" }),
      (error: Error) => ({ name: error.name, message: error.message }),
    );
    const expected = typeof c.expect === "function" ? c.expect(made) : c.expect;
    if (expected === "allow") {
      expect(outcome).toEqual({ name: "allowed", message: "" });
    } else if ("error" in expected) {
      expect(outcome.name).toBe(expected.error);
      if (expected.message !== undefined) expect(outcome.message).toBe(expected.message);
      // CreateSecret's denial names the new secret's ARN, whose suffix AWS makes up (shalb/cluster.dev#76 shows
      // "secret:secret_default-GJe9zJ"); only the part before it is asserted here.
      if (expected.error === "AccessDeniedException" && expected.message === undefined) expect(outcome.message).toContain(`User: ${me} is not authorized to perform: `);
    } else {
      const head = `User: ${me} is not authorized to perform: ${expected.action}${expected.on === undefined ? "" : ` on resource: ${expected.on}`}`;
      const by = expected.by ?? "identity-based";
      const message = expected.explicit === true ? `${head} with an explicit deny in ${by === "identity-based" ? "an" : "a"} ${by} policy` : `${head} because no ${by} policy allows the ${expected.action} action`;
      expect(outcome).toEqual({ name: "AccessDeniedException", message });
    }
  });
});
