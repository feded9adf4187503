// Which permission each KMS operation needs (action, key, condition keys), and the wrapper that checks it before the operation runs.
import { LRUCache } from "lru-cache";
import type { KmsOperation } from "../../generated/kms";
import { authorize, type AccessCheck } from "../../iam/authorize";
import type { ContextValue } from "../../iam/context";
import { compilePolicy, type CompiledPolicy } from "../../iam/policy";
import { decryptWithoutKeyMessage } from "../../iam/messages";
import { keyPolicyOf } from "./aws-managed";
import { parseCiphertext } from "./ciphertext";
import type { KmsRequestContext, Operation } from "./context";
import { aliasArn, keyArn, KEY_ID, parseKmsArn } from "./key-arn";
import type { KmsKeyRecord } from "./key-record";
import type { KeyIdForms } from "./key-resolution";

/**
 * What one operation needs, as checks: most need their action on one key; ReEncrypt needs kms:ReEncryptFrom on the
 * source key and kms:ReEncryptTo on the destination; alias operations need theirs on the alias and on the key.
 */
// Inputs are decoded against the model before the call; each rule reads the members its operation has.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AccessRule = (input: any, ctx: KmsRequestContext, action: string) => Promise<readonly AccessCheck[]>;

/** Compiled key policies by their text: a policy is compiled once whichever key holds it, and a changed text is a new entry. */
const compiledPolicies = new LRUCache<string, CompiledPolicy>({ max: 4096 });

/** Nothing in it allows: a stored policy the engine cannot read (stored before enforcement) lets no one in through it. */
const UNREADABLE: CompiledPolicy = { kind: "resource", version: "2012-10-17", id: undefined, statements: [] };

export function compiledKeyPolicy(policy: string): CompiledPolicy {
  let compiled = compiledPolicies.get(policy);
  if (compiled === undefined) {
    try {
      compiled = compilePolicy(JSON.parse(policy), { kind: "resource", dialect: "kms" });
    } catch {
      compiled = UNREADABLE;
    }
    compiledPolicies.set(policy, compiled);
  }
  return compiled;
}

/**
 * The key's own condition keys (KMS conditions-kms): aws:ResourceTag/<key>, kms:KeySpec, kms:KeyUsage, kms:KeyOrigin,
 * kms:MultiRegion, kms:MultiRegionKeyType, and the legacy kms:CustomerMasterKeySpec/Usage.
 */
function keyConditionKeys(key: KmsKeyRecord): Record<string, ContextValue | undefined> {
  const keys: Record<string, ContextValue | undefined> = {
    "kms:KeySpec": key.keySpec,
    "kms:KeyUsage": key.keyUsage,
    "kms:KeyOrigin": key.origin,
    "kms:MultiRegion": key.multiRegion,
    "kms:CustomerMasterKeySpec": key.keySpec,
    "kms:CustomerMasterKeyUsage": key.keyUsage,
  };
  if (key.multiRegion) keys["kms:MultiRegionKeyType"] = key.regions?.primaryRegion === key.arn.split(":")[3] ? "PRIMARY" : "REPLICA";
  for (const tag of key.tags) keys[`aws:ResourceTag/${tag.TagKey}`] = tag.TagValue;
  return keys;
}

/** The check for `action` on an existing key: its key policy must allow (evaluate.ts "key"). */
export function keyCheck(key: KmsKeyRecord, action: string, context?: Record<string, ContextValue | undefined>): AccessCheck {
  return {
    action,
    resource: key.arn,
    resourceAccount: key.account,
    resourcePolicyKind: "key",
    resourcePolicy: compiledKeyPolicy(keyPolicyOf(key)),
    context: context === undefined ? keyConditionKeys(key) : Object.assign(keyConditionKeys(key), context),
  };
}

/**
 * The check for a key the caller named that is not there (or not readable by id): authorization comes before
 * existence, so the caller's own policies are asked about the ARN it named, and only an allowed caller learns that
 * the key does not exist (NotFoundException from the operation). No key policy exists to ask.
 */
function missingKeyCheck(ctx: KmsRequestContext, identifier: string, action: string, context?: Record<string, ContextValue | undefined>): AccessCheck {
  const arn = parseKmsArn(identifier);
  const resource = arn !== undefined ? identifier : KEY_ID.test(identifier) ? keyArn(ctx.scope, identifier) : identifier.startsWith("alias/") ? aliasArn(ctx.scope, identifier) : undefined;
  return { action, resource, resourcePolicyKind: "none", ...(context === undefined ? {} : { context }) };
}

/** The key an identifier names, or undefined when it names none here (the operation then answers as it does today). */
async function keyOf(ctx: KmsRequestContext, identifier: string, forms: KeyIdForms = "any"): Promise<KmsKeyRecord | undefined> {
  try {
    return await ctx.kms.keys.resolve(ctx.scope, identifier, ctx.now, forms);
  } catch {
    return undefined;
  }
}

/** kms:RequestAlias: the alias the request named the key by. */
const requestAlias = (identifier: string | undefined): Record<string, ContextValue> => {
  if (identifier === undefined) return {};
  const alias = identifier.startsWith("alias/") ? identifier : parseKmsArn(identifier)?.resource;
  return alias?.startsWith("alias/") === true ? { "kms:RequestAlias": alias } : {};
};

/** kms:EncryptionContext:<key> for each pair and kms:EncryptionContextKeys (KMS conditions-kms-encryption-context). */
function encryptionContextKeys(context: Readonly<Record<string, string>> | undefined): Record<string, ContextValue> {
  const keys: Record<string, ContextValue> = {};
  if (context === undefined) return keys;
  const names = Object.keys(context);
  for (const name of names) keys[`kms:EncryptionContext:${name}`] = context[name] as string;
  keys["kms:EncryptionContextKeys"] = names;
  return keys;
}

/** An action on the key a member names, with the request's own condition keys. */
const onKey =
  (member = "KeyId", requestKeys?: (input: never) => Record<string, ContextValue | undefined>, forms: KeyIdForms = "any"): AccessRule =>
  async (input, ctx, action) => {
    const identifier: unknown = input?.[member];
    const context = { ...requestAlias(typeof identifier === "string" ? identifier : undefined), ...(requestKeys?.(input as never) ?? {}) };
    if (typeof identifier !== "string") return [{ action, resource: undefined, resourcePolicyKind: "none", context }];
    const key = await keyOf(ctx, identifier, forms);
    return [key === undefined ? missingKeyCheck(ctx, identifier, action, context) : keyCheck(key, action, context)];
  };

/** An action with no resource (CreateKey, ListKeys, GenerateRandom, custom key stores): only `"Resource": "*"` covers it. */
const withoutKey =
  (requestKeys?: (input: never) => Record<string, ContextValue | undefined>): AccessRule =>
  async (input, _ctx, action) => [{ action, resource: undefined, resourcePolicyKind: "none", context: requestKeys?.(input as never) ?? {} }];

/**
 * Decrypt names its key in the ciphertext (or by KeyId): the check is on that key. A ciphertext that names no key
 * here is asked about without a resource, and refused in KMS's own words, which name no key.
 */
const onCiphertextKey =
  (blobMember: string, keyMember: string, requestKeys: (input: never) => Record<string, ContextValue | undefined>): AccessRule =>
  async (input, ctx, action) => {
    const context = { ...requestAlias(input?.[keyMember]), ...requestKeys(input as never) };
    const named: unknown = input?.[keyMember];
    let identifier = typeof named === "string" ? named : undefined;
    if (identifier === undefined) {
      try {
        identifier = parseCiphertext(input?.[blobMember] as Uint8Array).keyId;
      } catch {
        identifier = undefined;
      }
    }
    const key = identifier === undefined ? undefined : await keyOf(ctx, identifier);
    if (key !== undefined) return [keyCheck(key, action, context)];
    return [{ action, resource: undefined, resourcePolicyKind: "none", context, deniedMessage: decryptWithoutKeyMessage }];
  };

/** Alias operations need their action on the alias (with its ARN) and on each key involved (KMS alias-access). */
const onAlias =
  (...keyMembers: string[]): AccessRule =>
  async (input, ctx, action) => {
    const aliasName: string = input?.AliasName ?? "";
    const checks: AccessCheck[] = [{ action, resource: aliasArn(ctx.scope, aliasName), resourcePolicyKind: "none" }];
    const current = await ctx.kms.aliases.get(ctx.scope, aliasName).catch(() => undefined);
    const identifiers = keyMembers.map((member) => input?.[member]).filter((id): id is string => typeof id === "string");
    if (current !== undefined && !identifiers.includes(current.targetKeyId)) identifiers.push(current.targetKeyId);
    for (const identifier of identifiers) {
      const key = await keyOf(ctx, identifier);
      checks.push(key === undefined ? missingKeyCheck(ctx, identifier, action) : keyCheck(key, action, { "kms:RequestAlias": aliasName }));
    }
    return checks;
  };

const tagKeys = (input: { Tags?: ReadonlyArray<{ TagKey?: string; TagValue?: string }> }): Record<string, ContextValue> => {
  const keys: Record<string, ContextValue> = {};
  const tags = input.Tags ?? [];
  for (const tag of tags) if (tag.TagKey !== undefined) keys[`aws:RequestTag/${tag.TagKey}`] = tag.TagValue ?? "";
  keys["aws:TagKeys"] = tags.map((tag) => tag.TagKey ?? "");
  return keys;
};

const cryptoKeys = (input: { EncryptionContext?: Record<string, string>; EncryptionAlgorithm?: string }): Record<string, ContextValue | undefined> => ({
  ...encryptionContextKeys(input.EncryptionContext),
  "kms:EncryptionAlgorithm": input.EncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
});

/**
 * Every KMS operation's permission (the service authorization reference's "Actions defined by AWS KMS": the action is
 * kms:<Operation> but for ReEncrypt's two), checked before the operation runs, so a caller without permission gets
 * AccessDenied whether or not the key exists.
 */
export const kmsAccess = {
  CancelKeyDeletion: onKey("KeyId", undefined, "key"),
  ConnectCustomKeyStore: withoutKey(),
  CreateAlias: onAlias("TargetKeyId"),
  CreateCustomKeyStore: withoutKey(),
  CreateGrant: onKey("KeyId", (input: { Operations?: string[]; GranteePrincipal?: string; RetiringPrincipal?: string; Constraints?: { EncryptionContextEquals?: object; EncryptionContextSubset?: object } }) => ({
    "kms:GrantOperations": input.Operations ?? [],
    "kms:GranteePrincipal": input.GranteePrincipal,
    "kms:RetiringPrincipal": input.RetiringPrincipal,
    "kms:GrantConstraintType":
      input.Constraints?.EncryptionContextEquals !== undefined ? "EncryptionContextEquals" : input.Constraints?.EncryptionContextSubset !== undefined ? "EncryptionContextSubset" : undefined,
    // Only an integrated AWS service's grant is "for an AWS resource"; no such service calls secretslite.
    "kms:GrantIsForAWSResource": false,
  })),
  CreateKey: withoutKey((input: { KeySpec?: string; CustomerMasterKeySpec?: string; KeyUsage?: string; Origin?: string; MultiRegion?: boolean; BypassPolicyLockoutSafetyCheck?: boolean; Tags?: [] }) => ({
    "kms:KeySpec": input.KeySpec ?? input.CustomerMasterKeySpec ?? "SYMMETRIC_DEFAULT",
    "kms:KeyUsage": input.KeyUsage ?? "ENCRYPT_DECRYPT",
    "kms:KeyOrigin": input.Origin ?? "AWS_KMS",
    "kms:MultiRegion": input.MultiRegion === true,
    ...(input.MultiRegion === true ? { "kms:MultiRegionKeyType": "PRIMARY" } : {}),
    "kms:BypassPolicyLockoutSafetyCheck": input.BypassPolicyLockoutSafetyCheck === true,
    ...tagKeys(input),
  })),
  Decrypt: onCiphertextKey("CiphertextBlob", "KeyId", cryptoKeys),
  DeleteAlias: onAlias(),
  DeleteCustomKeyStore: withoutKey(),
  DeleteImportedKeyMaterial: onKey("KeyId", undefined, "key"),
  DeriveSharedSecret: onKey("KeyId", (input: { KeyAgreementAlgorithm?: string }) => ({ "kms:KeyAgreementAlgorithm": input.KeyAgreementAlgorithm })),
  DescribeCustomKeyStores: withoutKey(),
  DescribeKey: onKey(),
  DisableKey: onKey("KeyId", undefined, "key"),
  DisableKeyRotation: onKey("KeyId", undefined, "key"),
  DisconnectCustomKeyStore: withoutKey(),
  EnableKey: onKey("KeyId", undefined, "key"),
  EnableKeyRotation: onKey("KeyId", (input: { RotationPeriodInDays?: number }) => ({ "kms:RotationPeriodInDays": input.RotationPeriodInDays ?? 365 }), "key"),
  Encrypt: onKey("KeyId", cryptoKeys),
  GenerateDataKey: onKey("KeyId", encryptionContextKeys as never),
  GenerateDataKeyPair: onKey("KeyId", (input: { EncryptionContext?: Record<string, string>; KeyPairSpec?: string }) => ({ ...encryptionContextKeys(input.EncryptionContext), "kms:DataKeyPairSpec": input.KeyPairSpec })),
  GenerateDataKeyPairWithoutPlaintext: onKey("KeyId", (input: { EncryptionContext?: Record<string, string>; KeyPairSpec?: string }) => ({ ...encryptionContextKeys(input.EncryptionContext), "kms:DataKeyPairSpec": input.KeyPairSpec })),
  GenerateDataKeyWithoutPlaintext: onKey("KeyId", (input: { EncryptionContext?: Record<string, string> }) => encryptionContextKeys(input.EncryptionContext)),
  GenerateMac: onKey("KeyId", (input: { MacAlgorithm?: string }) => ({ "kms:MacAlgorithm": input.MacAlgorithm })),
  GenerateRandom: withoutKey(),
  GetKeyLastUsage: onKey(),
  GetKeyPolicy: onKey("KeyId", undefined, "key"),
  GetKeyRotationStatus: onKey("KeyId", undefined, "key"),
  GetParametersForImport: onKey("KeyId", (input: { WrappingAlgorithm?: string; WrappingKeySpec?: string }) => ({ "kms:WrappingAlgorithm": input.WrappingAlgorithm, "kms:WrappingKeySpec": input.WrappingKeySpec }), "key"),
  GetPublicKey: onKey(),
  ImportKeyMaterial: onKey("KeyId", (input: { ExpirationModel?: string; ValidTo?: Date }) => ({ "kms:ExpirationModel": input.ExpirationModel ?? "KEY_MATERIAL_EXPIRES", ...(input.ValidTo === undefined ? {} : { "kms:ValidTo": Math.floor(new Date(input.ValidTo).getTime() / 1000) }) }), "key"),
  ListAliases: withoutKey(),
  ListGrants: onKey(),
  ListKeyPolicies: onKey("KeyId", undefined, "key"),
  ListKeyRotations: onKey("KeyId", undefined, "key"),
  ListKeys: withoutKey(),
  ListResourceTags: onKey("KeyId", undefined, "key"),
  // "Authorized only by IAM in the caller's account" (ListRetirableGrants): no key policy is asked.
  ListRetirableGrants: withoutKey(),
  PutKeyPolicy: onKey("KeyId", (input: { BypassPolicyLockoutSafetyCheck?: boolean }) => ({ "kms:BypassPolicyLockoutSafetyCheck": input.BypassPolicyLockoutSafetyCheck === true }), "key"),
  ReEncrypt: async (input, ctx) => {
    const context = {
      ...encryptionContextKeys(input?.DestinationEncryptionContext),
      "kms:EncryptionAlgorithm": input?.DestinationEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
    };
    const from = await onCiphertextKey("CiphertextBlob", "SourceKeyId", (i: { SourceEncryptionContext?: Record<string, string>; SourceEncryptionAlgorithm?: string }) => ({
      ...encryptionContextKeys(i.SourceEncryptionContext),
      "kms:EncryptionAlgorithm": i.SourceEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
    }))(input, ctx, "kms:ReEncryptFrom");
    const to = await onKey("DestinationKeyId", () => context)(input, ctx, "kms:ReEncryptTo");
    const sameKey = from[0]?.resource !== undefined && from[0]?.resource === to[0]?.resource;
    return [...from, ...to].map((check) => ({ ...check, context: { ...check.context, "kms:ReEncryptOnSameKey": sameKey } }));
  },
  ReplicateKey: onKey("KeyId", (input: { ReplicaRegion?: string }) => ({ "kms:ReplicaRegion": input.ReplicaRegion }), "key"),
  RetireGrant: withoutKey(),
  RevokeGrant: onKey("KeyId", undefined, "key"),
  RotateKeyOnDemand: onKey("KeyId", undefined, "key"),
  ScheduleKeyDeletion: onKey("KeyId", (input: { PendingWindowInDays?: number }) => ({ "kms:ScheduleKeyDeletionPendingWindowInDays": input.PendingWindowInDays ?? 30 }), "key"),
  Sign: onKey("KeyId", (input: { SigningAlgorithm?: string; MessageType?: string }) => ({ "kms:SigningAlgorithm": input.SigningAlgorithm, "kms:MessageType": input.MessageType ?? "RAW" })),
  TagResource: onKey("KeyId", tagKeys as never, "key"),
  UntagResource: onKey("KeyId", (input: { TagKeys?: string[] }) => ({ "aws:TagKeys": input.TagKeys ?? [] }), "key"),
  UpdateAlias: onAlias("TargetKeyId"),
  UpdateCustomKeyStore: withoutKey(),
  UpdateKeyDescription: onKey("KeyId", undefined, "key"),
  UpdatePrimaryRegion: onKey("KeyId", (input: { PrimaryRegion?: string }) => ({ "kms:PrimaryRegion": input.PrimaryRegion }), "key"),
  Verify: onKey("KeyId", (input: { SigningAlgorithm?: string; MessageType?: string }) => ({ "kms:SigningAlgorithm": input.SigningAlgorithm, "kms:MessageType": input.MessageType ?? "RAW" })),
  VerifyMac: onKey("KeyId", (input: { MacAlgorithm?: string }) => ({ "kms:MacAlgorithm": input.MacAlgorithm })),
} satisfies Record<KmsOperation, AccessRule>;

/**
 * Wraps each operation so that, when the request has a caller (--enforce-auth), every check its rule names is
 * authorized before it runs. Without a caller (enforcement off, or secretslite's own work) it costs one property read.
 */
export function checkingAccess<T extends Record<KmsOperation, Operation>>(table: T): T {
  const checked: Record<string, Operation> = {};
  for (const name of Object.keys(table) as KmsOperation[]) {
    const operation = table[name];
    const rule: AccessRule = kmsAccess[name];
    const action = name === "ReEncrypt" ? "kms:ReEncrypt" : `kms:${name}`;
    checked[name] = async (input, ctx) => {
      const caller = ctx.caller;
      if (caller !== undefined) {
        for (const check of await rule(input, ctx, action)) await authorize(ctx, caller, check);
      }
      return operation(input, ctx);
    };
  }
  return checked as T;
}
