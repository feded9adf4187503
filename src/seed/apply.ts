// Applying a seed plan: each entry created through the operations an API call would run, and only if it is missing.
import { randomUUID } from "node:crypto";
import { AwsError } from "../errors";
import type { Domains, ServiceContext } from "../protocol/context";
import { decodeInput } from "../protocol/validate";
import type { ServiceName } from "../generated";
import type { Clock } from "../services/clock";
import type { Operation } from "../services/request";
import type { Scope } from "../services/scope";
import { createAlias } from "../services/kms/create-alias";
import { enableKeyRotation } from "../services/kms/enable-key-rotation";
import { setKeyState } from "../services/kms/key-enablement";
import type { KmsKeySpec, KmsKeyUsage } from "../services/kms/key-specs";
import { toKeyTags } from "../services/kms/tags";
import { createSecret } from "../services/secretsmanager/create-secret";
import { holderOf } from "../services/secretsmanager/labels";
import { putSecretValue } from "../services/secretsmanager/put-secret-value";
import { checkRotationRules, nextRotationDate } from "../services/secretsmanager/rotation-rules";
import { AWSCURRENT, type RotationConfig, type RotationRules } from "../services/secretsmanager/secret";
import { updateSecretVersionStage } from "../services/secretsmanager/update-secret-version-stage";
import { SeedError, type SeedAlias, type SeedKey, type SeedOrigin, type SeedPlan, type SeedSecret } from "./document";

/** Which partitions to seed (a partition reset re-seeds only its own). */
export type ScopeFilter = (scope: Scope) => boolean;

/**
 * Creates what the plan lists and the store lacks: keys, then aliases, then secrets (which may name both). An entry
 * whose resource exists is left as it is, whatever changed in it since, so a restart or a second seeding never
 * duplicates or overwrites anything; a reset is how to get back to the seed. Failures name the entry, as SeedError.
 */
export async function applySeed(plan: SeedPlan, domains: Domains, clock: Clock, filter: ScopeFilter = () => true): Promise<void> {
  const contextFor = (scope: Scope): ServiceContext => ({ requestId: randomUUID(), scope, now: clock.now(), ...domains });
  for (const key of plan.keys) if (filter(key.scope)) await step(key, "", () => seedKey(key, contextFor(key.scope)));
  for (const alias of plan.aliases) if (filter(alias.scope)) await step(alias, "", () => seedAlias(alias, contextFor(alias.scope)));
  for (const secret of plan.secrets) if (filter(secret.scope)) await step(secret, "", () => seedSecret(secret, contextFor(secret.scope)));
}

/** An operation on a request decoded as the wire decodes it (the same model validation, blobs as Buffers). */
async function call<I, O>(operation: Operation<I, O, ServiceContext>, service: ServiceName, name: string, body: Record<string, unknown>, ctx: ServiceContext): Promise<void> {
  await operation(decodeInput(service, name, body) as I, ctx);
}

/** Runs one entry's work; an AWS answer becomes a SeedError that names the entry (and field, when one is at fault). */
async function step(origin: SeedOrigin, field: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof SeedError) throw error;
    const where = field === "" ? origin.path : `${origin.path}.${field}`;
    const text = error instanceof AwsError ? `${error.message || error.code} (${error.code})` : (error as Error).message;
    throw new SeedError(`${origin.source}: ${where}: ${text}`, { cause: error });
  }
}

async function seedKey(key: SeedKey, ctx: ServiceContext): Promise<void> {
  const keys = ctx.kms.keys;
  const existing = await keys.get(ctx.scope, key.keyId);
  if (existing !== undefined) {
    // A start that stopped between CreateKey and the import finishes the import; anything else stays as it is.
    if (key.material !== undefined && existing.origin === "EXTERNAL" && existing.backingKeys.length === 0) {
      await step(key, "keyMaterial", async () => void (await keys.importMaterial(ctx.scope, key.keyId, key.material as Buffer, ctx.now)));
    }
    return;
  }
  // CreateKey's own checks ran on the plan (document.ts); the fixed id is the one thing CreateKey cannot take.
  const input = decodeInput("kms", "CreateKey", key.createKey) as {
    Description?: string;
    KeySpec?: KmsKeySpec;
    KeyUsage?: KmsKeyUsage;
    Origin?: "AWS_KMS" | "EXTERNAL";
    MultiRegion?: boolean;
    Policy?: string;
    Tags?: Array<{ TagKey?: string; TagValue?: string }>;
  };
  const imported = input.Origin === "EXTERNAL";
  await keys.create(
    ctx.scope,
    ctx.now,
    {
      keyId: key.keyId,
      description: input.Description,
      keySpec: input.KeySpec,
      keyUsage: input.KeyUsage,
      origin: input.Origin,
      multiRegion: input.MultiRegion,
      policy: input.Policy,
      tags: toKeyTags(input.Tags ?? []),
    },
    // A non-symmetric key's fixed material is its first backing key, in place of generated material.
    imported ? undefined : key.material,
  );
  if (key.material !== undefined && imported) {
    const material = key.material;
    await step(key, "keyMaterial", async () => void (await keys.importMaterial(ctx.scope, key.keyId, material, ctx.now)));
  }
  if (!key.enabled) await step(key, "enabled", async () => void (await setKeyState(ctx, key.keyId, "DisableKey")));
  if (key.rotationPeriodInDays !== undefined) {
    const request = { KeyId: key.keyId, RotationPeriodInDays: key.rotationPeriodInDays };
    await step(key, "rotation", () => call(enableKeyRotation, "kms", "EnableKeyRotation", request, ctx));
  }
}

async function seedAlias(alias: SeedAlias, ctx: ServiceContext): Promise<void> {
  if ((await ctx.kms.aliases.get(ctx.scope, alias.aliasName)) !== undefined) return;
  await call(createAlias, "kms", "CreateAlias", { AliasName: alias.aliasName, TargetKeyId: alias.targetKeyId }, ctx);
}

async function seedSecret(secret: SeedSecret, ctx: ServiceContext): Promise<void> {
  const secrets = ctx.secrets.secrets;
  if ((await secrets.find(ctx.scope, secret.name)) !== undefined) return;
  const [first, ...later] = secret.versions;
  const create = { ...secret.createSecret, ...(first === undefined ? {} : { ClientRequestToken: first.versionId, ...first.value }) };
  await step(secret, first === undefined ? "" : "versions[0]", () => call(createSecret, "secretsmanager", "CreateSecret", create, ctx));
  for (const [index, version] of later.entries()) {
    const put = { SecretId: secret.name, ClientRequestToken: version.versionId, ...version.value };
    await step(secret, `versions[${index + 1}]`, () => call(putSecretValue, "secretsmanager", "PutSecretValue", put, ctx));
  }
  if (secret.versions.some((version) => version.stages !== undefined)) await step(secret, "versions", () => settleStages(secret, ctx));
  if (secret.rotation !== undefined) await step(secret, "rotation", () => configureRotation(secret, ctx));
}

/**
 * Moves the labels to where the seed puts them, with UpdateSecretVersionStage as a caller would: AWSCURRENT first
 * (AWSPREVIOUS follows it off its old version), then every other label onto its version, then the labels the puts
 * left where the seed has none.
 */
async function settleStages(secret: SeedSecret, ctx: ServiceContext): Promise<void> {
  const wanted = new Map<string, string>();
  for (const version of secret.versions) for (const stage of version.stages ?? []) wanted.set(stage, version.versionId);
  const move = async (stage: string, to: string | undefined): Promise<void> => {
    const current = await ctx.secrets.secrets.requireLive(ctx.scope, secret.name);
    const holder = holderOf(current.versions, stage);
    if (holder === to) return;
    const request = {
      SecretId: secret.name,
      VersionStage: stage,
      ...(to === undefined ? {} : { MoveToVersionId: to }),
      ...(holder === undefined ? {} : { RemoveFromVersionId: holder }),
    };
    await call(updateSecretVersionStage, "secretsmanager", "UpdateSecretVersionStage", request, ctx);
  };
  await move(AWSCURRENT, wanted.get(AWSCURRENT));
  for (const [stage, versionId] of wanted) if (stage !== AWSCURRENT) await move(stage, versionId);
  const current = await ctx.secrets.secrets.requireLive(ctx.scope, secret.name);
  const present = new Set(Object.values(current.versions).flatMap((summary) => summary.stages));
  for (const stage of present) if (!wanted.has(stage)) await move(stage, undefined);
}

/**
 * Rotation settings as RotateSecret stores them, without its immediate run: seeding must not call a rotation
 * function. The first window is counted from now, and due rotations start as for any secret.
 */
async function configureRotation(secret: SeedSecret, ctx: ServiceContext): Promise<void> {
  const rotation = secret.rotation;
  if (rotation === undefined) return;
  const input = decodeInput("secretsmanager", "RotateSecret", { SecretId: secret.name, RotationLambdaARN: rotation.lambdaArn, RotationRules: rotation.rules });
  const nowMs = ctx.now.getTime();
  const checked = checkRotationRules((input.RotationRules ?? {}) as RotationRules, nowMs);
  await ctx.secrets.secrets.update(ctx.scope, secret.name, (current) => {
    const config: RotationConfig = {
      enabled: true,
      lambdaArn: rotation.lambdaArn,
      rules: checked.rules,
      lastRotatedAt: undefined,
      nextRotationAt: checked.schedule === undefined ? undefined : nextRotationDate(checked.schedule, nowMs),
    };
    const next = { ...current, rotation: config, lastChangedAt: nowMs };
    return { secret: next };
  });
}
