// Which permission each Secrets Manager operation needs (action, secret, condition keys), and the wrapper that checks it first.
import type { SecretsManagerOperation } from "../../generated/secretsmanager";
import { authorizeAll, type AccessCheck } from "../../iam/authorize";
import type { Caller } from "../../iam/caller";
import type { ContextValue } from "../../iam/context";
import type { CompiledPolicy } from "../../iam/policy";
import { compiledResourcePolicy } from "../../iam/stored-policies";
import type { Scope } from "../scope";
import type { Operation, SecretsRequestContext } from "./context";
import type { Secrets } from "./domain";
import { crossAccountDefaultKey } from "./errors";
import { AWSCURRENT, newSecretArn, type SecretRecord } from "./secret";
import { storedKmsKeyId } from "./versions";

// Inputs are decoded against the model before the call; each rule reads the members its operation has.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AccessRule = (input: any, ctx: SecretsRequestContext, action: string) => Promise<SecretAccess>;

/** The checks an operation needs, and the account whose secret it acts on when that is not the caller's. */
export interface SecretAccess {
  readonly checks: readonly AccessCheck[];
  /** Set when the SecretId is the full ARN of another account's secret that the caller may use (a resource policy let it in). */
  readonly ownerScope?: Scope;
  /** The secret the SecretId names, when it exists. */
  readonly secret?: SecretRecord;
}

export const compiledSecretPolicy = (policy: string): CompiledPolicy => compiledResourcePolicy(policy, "secretsmanager");

const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]*):(\d{12}):secret:.+$/;

/**
 * secretsmanager:KmsKeyArn: the ARN of the key a CreateSecret or UpdateSecret names (by id, alias or ARN). Absent when
 * the request names none, so `"Null": {"secretsmanager:KmsKeyArn": "true"}` catches a secret left under the default
 * key, and when the key does not resolve (the operation then refuses it as before).
 */
async function kmsKeyArnOf(ctx: SecretsRequestContext, kmsKeyId: unknown): Promise<string | undefined> {
  if (typeof kmsKeyId !== "string" || kmsKeyId === "") return undefined;
  try {
    return (await ctx.kms.keys.resolve(ctx.scope, kmsKeyId, ctx.now, "any")).arn;
  } catch {
    return undefined;
  }
}

/** secretsmanager:ResourceTag/<key> and aws:ResourceTag/<key> (both documented for Secrets Manager). */
function secretConditionKeys(secret: SecretRecord): Record<string, ContextValue | undefined> {
  const keys: Record<string, ContextValue | undefined> = { "secretsmanager:SecretId": secret.arn };
  for (const tag of secret.tags) {
    keys[`secretsmanager:ResourceTag/${tag.Key}`] = tag.Value;
    keys[`aws:ResourceTag/${tag.Key}`] = tag.Value;
  }
  if (secret.primaryRegion !== undefined) keys["secretsmanager:SecretPrimaryRegion"] = secret.primaryRegion;
  if (secret.type !== undefined) keys["secretsmanager:resource/Type"] = secret.type;
  if (secret.rotation?.lambdaArn !== undefined) keys["secretsmanager:resource/AllowRotationLambdaArn"] = secret.rotation.lambdaArn;
  return keys;
}

/**
 * The secret a SecretId names: in the caller's account by name, full or partial ARN; with a caller, the full ARN of
 * another account's secret in the same partition and region is looked up there (cross-account access through its
 * resource policy: AWS reaches other accounts' secrets by ARN only).
 */
export async function secretOf(ctx: SecretsRequestContext, secretId: string): Promise<{ secret: SecretRecord; scope: Scope } | undefined> {
  const own = await ctx.secrets.secrets.find(ctx.scope, secretId);
  if (own !== undefined) return { secret: own, scope: ctx.scope };
  const arn = SECRET_ARN.exec(secretId);
  if (arn === null || arn[1] !== ctx.scope.partition || arn[2] !== ctx.scope.region || arn[3] === ctx.scope.account) return undefined;
  const scope: Scope = { ...ctx.scope, account: arn[3] as string };
  const other = await ctx.secrets.secrets.find(scope, secretId);
  // Only the exact full ARN reaches another account's secret.
  return other !== undefined && other.arn === secretId ? { secret: other, scope } : undefined;
}

/**
 * The resource an unknown SecretId is asked about: the ARN it names, or the ARN its name would have without the
 * random suffix (so `secret:name-??????` does not cover it, and `secret:name*` does). Authorization comes first: only
 * a caller allowed on it learns that the secret does not exist.
 */
const missingSecretArn = (ctx: SecretsRequestContext, secretId: string): string =>
  secretId.startsWith("arn:") ? secretId : `arn:${ctx.scope.partition}:secretsmanager:${ctx.scope.region}:${ctx.scope.account}:secret:${secretId}`;

/** An action on the secret the request's SecretId names; `requestKeys` adds the request's own condition keys. */
const onSecret =
  (requestKeys?: (input: never, secret: SecretRecord | undefined) => Record<string, ContextValue | undefined>, member = "SecretId"): AccessRule =>
  async (input, ctx, action) => secretAccess(ctx, action, input?.[member] ?? "", (secret) => requestKeys?.(input as never, secret) ?? {});

/**
 * The check for `action` on the secret `secretId` names (as sent: AccessDenied echoes it), with the secret's own
 * condition keys and the request's. BatchGetSecretValue asks it once per secret.
 */
export async function secretAccess(
  ctx: SecretsRequestContext,
  action: string,
  secretId: string,
  requestKeys: (secret: SecretRecord | undefined) => Record<string, ContextValue | undefined> = () => ({}),
): Promise<SecretAccess> {
  const found = await secretOf(ctx, secretId);
  if (found === undefined) {
    // A full ARN in another account is asked about as that account's resource: with no policy of its own to let the
    // caller in, it is refused as cross-account access is ("no resource-based policy allows"), whether it exists or not.
    const account = SECRET_ARN.exec(secretId)?.[3];
    return {
      checks: [
        {
          action,
          resource: missingSecretArn(ctx, secretId),
          ...(account === undefined ? {} : { resourceAccount: account }),
          resourcePolicyKind: "secret",
          shown: secretId,
          context: () => requestKeys(undefined),
        },
      ],
    };
  }
  const { secret, scope } = found;
  const check: AccessCheck = {
    action,
    resource: secret.arn,
    resourceAccount: scope.account,
    resourcePolicyKind: "secret",
    resourcePolicy: secret.resourcePolicy === undefined ? undefined : compiledSecretPolicy(secret.resourcePolicy),
    shown: secretId,
    // Built only if a condition asks for one of them: most statements test none.
    context: () => Object.assign(secretConditionKeys(secret), requestKeys(secret)),
  };
  return scope === ctx.scope ? { checks: [check], secret } : { checks: [check], ownerScope: scope, secret };
}

/** Actions without a resource (ListSecrets, GetRandomPassword): only `"Resource": "*"` covers them. */
const withoutSecret =
  (): AccessRule =>
  async (_input, _ctx, action) => ({ checks: [{ action, resource: undefined, resourcePolicyKind: "none" }] });

const tagKeys = (tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined): Record<string, ContextValue> => {
  const keys: Record<string, ContextValue> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) keys[`aws:RequestTag/${tag.Key}`] = tag.Value ?? "";
  keys["aws:TagKeys"] = (tags ?? []).map((tag) => tag.Key ?? "");
  return keys;
};

const replicaRegions = (regions: ReadonlyArray<{ Region?: string }> | undefined): string[] => (regions ?? []).map((r) => r.Region ?? "");

/**
 * Every Secrets Manager operation's permission (the service authorization reference's "Actions defined by AWS
 * Secrets Manager": secretsmanager:<Operation>), checked before the operation runs.
 */
export const secretsManagerAccess = {
  // The batch itself needs secretsmanager:BatchGetSecretValue (no resource) and, with Filters, secretsmanager:ListSecrets
  // (API_BatchGetSecretValue "Required permissions"); GetSecretValue is authorized per secret by the operation, each
  // refusal an entry of Errors.
  BatchGetSecretValue: async (input, _ctx, action) => ({
    checks: [
      { action, resource: undefined, resourcePolicyKind: "none" },
      ...(input?.Filters === undefined ? [] : [{ action: "secretsmanager:ListSecrets", resource: undefined, resourcePolicyKind: "none" } as const]),
    ],
  }),
  CancelRotateSecret: onSecret(),
  // AWS authorizes CreateSecret on an ARN with a freshly drawn suffix, and prints it: a captured denial reads "… to
  // perform: secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:eu-central-1:…:secret:secret_default-GJe9zJ"
  // (shalb/cluster.dev#76). So `secret:name-??????` and `secret:name*` cover it, a pattern naming a suffix does not.
  // API_CreateSecret "Required permissions": secretsmanager:CreateSecret; with Tags also secretsmanager:TagResource,
  // with AddReplicaRegions also secretsmanager:ReplicateSecretToRegions, each on the new secret.
  CreateSecret: async (input, ctx, action) => {
    const resource = newSecretArn(ctx.scope, input?.Name ?? "");
    const tags = tagKeys(input?.Tags);
    const replication = {
      "secretsmanager:AddReplicaRegions": replicaRegions(input?.AddReplicaRegions),
      "secretsmanager:ForceOverwriteReplicaSecret": input?.ForceOverwriteReplicaSecret === true,
    };
    const checks: AccessCheck[] = [
      {
        action,
        resource,
        resourcePolicyKind: "none",
        context: {
          "secretsmanager:Name": input?.Name,
          "secretsmanager:Description": input?.Description,
          "secretsmanager:KmsKeyId": input?.KmsKeyId,
          "secretsmanager:KmsKeyArn": await kmsKeyArnOf(ctx, input?.KmsKeyId),
          "secretsmanager:Type": input?.Type,
          ...replication,
          ...tags,
        },
      },
    ];
    if ((input?.Tags ?? []).length > 0) checks.push({ action: "secretsmanager:TagResource", resource, resourcePolicyKind: "none", context: tags });
    if ((input?.AddReplicaRegions ?? []).length > 0) {
      checks.push({ action: "secretsmanager:ReplicateSecretToRegions", resource, resourcePolicyKind: "none", context: replication });
    }
    return { checks };
  },
  DeleteResourcePolicy: onSecret(),
  // A deletion without recovery has no window: a condition on RecoveryWindowInDays (NumericGreaterThanEquals 7) must
  // not match it, so the key is absent then; otherwise it is the window asked for, 30 days when none is.
  DeleteSecret: onSecret((input: { ForceDeleteWithoutRecovery?: boolean; RecoveryWindowInDays?: number }) => ({
    "secretsmanager:ForceDeleteWithoutRecovery": input.ForceDeleteWithoutRecovery === true,
    "secretsmanager:RecoveryWindowInDays": input.ForceDeleteWithoutRecovery === true ? undefined : (input.RecoveryWindowInDays ?? 30),
  })),
  DescribeSecret: onSecret(),
  GetRandomPassword: withoutSecret(),
  GetResourcePolicy: onSecret(),
  // secretsmanager:VersionStage is the label asked for, AWSCURRENT when neither VersionId nor VersionStage is sent, and
  // for a VersionId alone the labels that version carries (several: AWS's examples test it with ForAnyValue).
  GetSecretValue: onSecret((input: { VersionId?: string; VersionStage?: string }, secret: SecretRecord | undefined) => ({
    "secretsmanager:VersionId": input.VersionId,
    "secretsmanager:VersionStage":
      input.VersionStage ?? (input.VersionId === undefined ? AWSCURRENT : secret?.versions[input.VersionId]?.stages.slice()),
  })),
  ListSecretVersionIds: onSecret(),
  ListSecrets: withoutSecret(),
  PutResourcePolicy: onSecret((input: { BlockPublicPolicy?: boolean }) => ({ "secretsmanager:BlockPublicPolicy": input.BlockPublicPolicy === true })),
  // The service authorization reference gives PutSecretValue and RemoveRegionsFromReplication no request keys of their
  // own (no secretsmanager:VersionStage, no RemoveReplicaRegions): a policy testing one finds it absent, as on AWS.
  PutSecretValue: onSecret(),
  RemoveRegionsFromReplication: onSecret(),
  ReplicateSecretToRegions: onSecret((input: { AddReplicaRegions?: Array<{ Region?: string }>; ForceOverwriteReplicaSecret?: boolean }) => ({
    "secretsmanager:AddReplicaRegions": replicaRegions(input.AddReplicaRegions),
    "secretsmanager:ForceOverwriteReplicaSecret": input.ForceOverwriteReplicaSecret === true,
  })),
  RestoreSecret: onSecret(),
  RotateSecret: onSecret((input: { RotationLambdaARN?: string; RotateImmediately?: boolean; RotationRules?: object; ExternalSecretRotationRoleArn?: string }) => ({
    "secretsmanager:RotationLambdaARN": input.RotationLambdaARN,
    "secretsmanager:ExternalSecretRotationRoleArn": input.ExternalSecretRotationRoleArn,
    "secretsmanager:RotateImmediately": input.RotateImmediately !== false,
    "secretsmanager:ModifyRotationRules": input.RotationRules !== undefined,
  })),
  StopReplicationToReplica: onSecret(),
  TagResource: onSecret((input: { Tags?: Array<{ Key?: string; Value?: string }> }) => tagKeys(input.Tags)),
  UntagResource: onSecret((input: { TagKeys?: string[] }) => ({ "aws:TagKeys": input.TagKeys ?? [] })),
  UpdateSecret: async (input, ctx, action) => {
    const kmsKeyArn = await kmsKeyArnOf(ctx, input?.KmsKeyId);
    return onSecret((request: { Description?: string; KmsKeyId?: string; Type?: string }) => ({
      "secretsmanager:Description": request.Description,
      "secretsmanager:KmsKeyId": request.KmsKeyId,
      "secretsmanager:KmsKeyArn": kmsKeyArn,
      "secretsmanager:Type": request.Type,
    }))(input, ctx, action);
  },
  UpdateSecretVersionStage: onSecret((input: { VersionStage?: string }) => ({ "secretsmanager:VersionStage": input.VersionStage })),
  // API_ValidateResourcePolicy "Required permissions": secretsmanager:ValidateResourcePolicy and
  // secretsmanager:PutResourcePolicy (on the secret when one is named, else without a resource).
  ValidateResourcePolicy: async (input, ctx, action) => {
    const rule = input?.SecretId === undefined ? withoutSecret() : onSecret();
    const validate = await rule(input, ctx, action);
    const put = await rule(input, ctx, "secretsmanager:PutResourcePolicy");
    return { ...validate, checks: [...validate.checks, ...put.checks] };
  },
} satisfies Record<SecretsManagerOperation, AccessRule>;

/**
 * BatchGetSecretValue's check for one secret: secretsmanager:GetSecretValue on it, as GetSecretValue without VersionId
 * or VersionStage would be checked (AWSCURRENT), thrown as that secret's AccessDeniedException (its Errors entry).
 * Answers the context to read it in: the owner's scope for another account's secret named by its full ARN.
 */
export async function authorizeSecretRead(ctx: SecretsRequestContext, secretId: string): Promise<SecretsRequestContext> {
  const caller = ctx.caller;
  if (caller === undefined) return ctx;
  const access = await secretAccess(ctx, "secretsmanager:GetSecretValue", secretId, () => ({ "secretsmanager:VersionStage": AWSCURRENT }));
  await authorizeAll(ctx, caller, access.checks);
  if (access.ownerScope === undefined) return ctx;
  if (access.secret !== undefined && storedKmsKeyId(access.secret.kmsKeyId) === undefined) throw crossAccountDefaultKey();
  return { ...ctx, scope: access.ownerScope };
}

/**
 * The operations that open or seal a value of the secret they name, which another account cannot do under the
 * default key: aws/secretsmanager's key policy admits its own account only (kms:CallerAccount), and Secrets Manager
 * answers that with InvalidRequestException rather than KMS's refusal (errors.ts crossAccountDefaultKey). UpdateSecret
 * does so with a new value, or with a new KmsKeyId (its versions are re-encrypted); RotateSecret makes a new version.
 */
function opensOrSealsValue(name: SecretsManagerOperation, input: { SecretString?: unknown; SecretBinary?: unknown; KmsKeyId?: unknown } | undefined): boolean {
  switch (name) {
    case "GetSecretValue":
    case "PutSecretValue":
    case "RotateSecret":
      return true;
    case "UpdateSecret":
      return input?.SecretString !== undefined || input?.SecretBinary !== undefined || input?.KmsKeyId !== undefined;
    default:
      return false;
  }
}

/**
 * The operations that only read the secret they name: they take the record the authorization just read instead of
 * reading it again (the store read was a measured twentieth of GetSecretValue's time under --enforce-auth). A read a
 * moment earlier answers as a read a moment later would; operations that change a secret read it again as they do
 * without a caller.
 */
const READS_AS_FOUND: ReadonlySet<SecretsManagerOperation> = new Set<SecretsManagerOperation>(["GetSecretValue", "DescribeSecret", "ListSecretVersionIds", "GetResourcePolicy"]);

/** The request's context with a Secrets whose find answers `secretId` in the request's scope with `secret`, and reads anything else. */
function withFound(ctx: SecretsRequestContext, secretId: unknown, secret: SecretRecord): SecretsRequestContext {
  const secrets = ctx.secrets.secrets;
  // The domain's own object underneath: requireLive and the rest run as they are and call this find.
  const found: Secrets = Object.create(secrets);
  found.find = (scope, id) => (scope === ctx.scope && id === secretId ? Promise.resolve(secret) : secrets.find(scope, id));
  return { ...ctx, secrets: { ...ctx.secrets, secrets: found } };
}

/**
 * Wraps each operation so that, when the request has a caller (--enforce-auth), its checks are authorized before it
 * runs; a secret of another account reached by its full ARN is then acted on in that account (the operation's
 * scope), as the caller's request is in AWS. Without a caller it costs one property read.
 */
export function checkingSecretAccess<T extends Record<SecretsManagerOperation, Operation>>(table: T): T {
  const checked: Record<string, Operation> = {};
  for (const name of Object.keys(table) as SecretsManagerOperation[]) {
    const operation = table[name];
    const rule: AccessRule = secretsManagerAccess[name];
    const action = `secretsmanager:${name}`;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const authorized = async (input: any, ctx: SecretsRequestContext, caller: Caller): Promise<unknown> => {
      const access = await rule(input, ctx, action);
      const pending = authorizeAll(ctx, caller, access.checks);
      if (pending !== undefined) await pending;
      if (access.ownerScope !== undefined && access.secret !== undefined && opensOrSealsValue(name, input) && storedKmsKeyId(access.secret.kmsKeyId) === undefined) {
        throw crossAccountDefaultKey();
      }
      const scoped = access.ownerScope === undefined ? ctx : { ...ctx, scope: access.ownerScope };
      return operation(input, READS_AS_FOUND.has(name) && access.secret !== undefined ? withFound(scoped, input?.SecretId, access.secret) : scoped);
    };
    // No caller (enforcement off, or secretslite's own work): the operation itself, with no extra promise.
    checked[name] = (input, ctx) => (ctx.caller === undefined ? operation(input, ctx) : authorized(input, ctx, ctx.caller));
  }
  return checked as T;
}
