// Which permission each KMS operation needs (action, key, condition keys), and the wrapper that checks it before the operation runs.
import type { KmsOperation } from "../../generated/kms";
import { authorizeAll, authzRequest, lazyKeys, type AccessCheck, type ConditionKeys } from "../../iam/authorize";
import type { Caller } from "../../iam/caller";
import type { ContextValue } from "../../iam/context";
import { evaluate } from "../../iam/evaluate";
import type { CompiledPolicy } from "../../iam/policy";
import { compiledResourcePolicy } from "../../iam/stored-policies";
import { decryptWithoutKeyMessage } from "../../iam/messages";
import { keyPolicyOf } from "./aws-managed";
import { parseCiphertext } from "./ciphertext";
import type { KmsRequestContext, Operation } from "./context";
import { aliasArn, keyArn, KEY_ID, parseKmsArn } from "./key-arn";
import { GRANT_OPERATION_NEEDS, TAKES_CONTEXT } from "./grant-operations";
import type { KmsGrantRecord } from "./grants";
import type { KmsKeyRecord } from "./key-record";
import type { KeyIdForms, ReachingScope } from "./key-resolution";
import type { Scope } from "../scope";

/**
 * What one operation needs, as checks: most need their action on one key; ReEncrypt needs kms:ReEncryptFrom on the
 * source key and kms:ReEncryptTo on the destination; alias operations need theirs on the alias and on the key.
 */
// Inputs are decoded against the model before the call; each rule reads the members its operation has.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AccessRule = (input: any, ctx: KmsRequestContext, action: string) => Promise<readonly KmsCheck[]>;

/** A check, and the account whose key it is about: another account's key makes the operation run in that account. */
interface KmsCheck extends AccessCheck {
  readonly keyAccount?: string;
}

/**
 * The operations a principal of another account may call on a key ("Allowing users in other accounts to use a KMS
 * key", KMS developer guide; each API page's "Cross-account use: Yes"). Any other with another account's key ARN is
 * looked up in the caller's own account, as before, and is not found there: permissions for it "are not effective".
 */
const CROSS_ACCOUNT: ReadonlySet<string> = new Set([
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DeriveSharedSecret",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:GenerateMac",
  "kms:GetKeyRotationStatus",
  "kms:GetPublicKey",
  "kms:ListGrants",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:RetireGrant",
  "kms:RevokeGrant",
  "kms:Sign",
  "kms:Verify",
  "kms:VerifyMac",
]);

/** The grant operation (GrantOperation) each action is, for the actions a grant can allow: kms:Decrypt → Decrypt. */
const GRANT_OPERATION: Readonly<Record<string, string>> = Object.fromEntries(Object.keys(GRANT_OPERATION_NEEDS).map((operation) => [`kms:${operation}`, operation]));

type EncryptionContext = Readonly<Record<string, string>>;

/**
 * Whether a grant's constraints hold for the request's encryption context (GrantConstraints): EncryptionContextEquals,
 * the request's context is exactly those pairs; EncryptionContextSubset, it includes them (more pairs allowed). Both
 * compare keys and values case-sensitively. They apply only to operations that take an encryption context.
 */
function constraintsHold(grant: KmsGrantRecord, operation: string, context: EncryptionContext | undefined): boolean {
  const constraints = grant.constraints;
  if (constraints === undefined || !TAKES_CONTEXT.has(operation)) return true;
  const sent = context ?? {};
  const equals = constraints.EncryptionContextEquals;
  if (equals !== undefined) {
    const keys = Object.keys(sent);
    if (keys.length !== Object.keys(equals).length || keys.some((key) => equals[key] !== sent[key])) return false;
  }
  const subset = constraints.EncryptionContextSubset;
  if (subset !== undefined && Object.entries(subset).some(([key, value]) => sent[key] !== value)) return false;
  return true;
}

/**
 * Whether a grant's GranteePrincipal (or RetiringPrincipal) names the caller: its own ARN, or for a role session the
 * role's ARN (a grant to a role covers its sessions, as a policy naming the role does). A grant to an account (its root
 * ARN or its 12-digit id) is taken as a key policy naming the account is: it delegates to that account, so its root
 * may use it, and its users and roles when their own IAM policies allow the action too ("The grantee principal can
 * represent one or more identities in the same AWS account as the KMS key or in a different account", KG grants;
 * AWS does not document a grant to an account as letting every identity of it in without IAM, and a key policy never does).
 */
function namesCaller(named: string | undefined, caller: Caller, identityAllows: () => boolean): boolean {
  if (named === undefined) return false;
  const principal = caller.principal;
  if (named === principal.arn || (principal.roleArn !== undefined && named === principal.roleArn)) return true;
  const partition = principal.arn.split(":")[1] ?? "aws";
  if (named !== principal.account && named !== `arn:${partition}:iam::${principal.account}:root`) return false;
  return principal.kind === "root" || identityAllows();
}

/** Whether the caller's identity policies alone allow `action` on the key: the delegation a grant to its account makes. */
const identityAllowsOn =
  (ctx: KmsRequestContext, caller: Caller, action: string, resource: string, context: ConditionKeys) =>
  (): boolean =>
    evaluate(
      { identityPolicies: caller.identityPolicies, resourcePolicyKind: "none" },
      authzRequest(ctx, caller, { action, resource, resourcePolicyKind: "none", context }),
      { trace: false },
    ).decision === "allow";

/** The scope a key lives in: its account, and the request's region and partition (keys are regional). */
const scopeOfKey = (ctx: KmsRequestContext, key: KmsKeyRecord): Scope => (key.account === ctx.scope.account ? ctx.scope : { ...ctx.scope, account: key.account });

/**
 * The grants callback of a check (authorize asks it only on an implicit deny): a live grant of the key for the caller
 * that includes the operation and whose constraints hold for the request. `extra` narrows it further (CreateGrant).
 */
function grantsFor(
  ctx: KmsRequestContext,
  key: KmsKeyRecord,
  action: string,
  encryptionContext: EncryptionContext | undefined,
  checkContext: ConditionKeys,
  extra?: (grant: KmsGrantRecord) => boolean,
): (() => Promise<boolean>) | undefined {
  const operation = GRANT_OPERATION[action];
  const caller = ctx.caller;
  if (operation === undefined || caller === undefined) return undefined;
  return async () => {
    const delegated = identityAllowsOn(ctx, caller, action, key.arn, checkContext);
    const grant = await ctx.kms.grants.findOnKey(
      scopeOfKey(ctx, key),
      key.keyId,
      (candidate) =>
        (candidate.operations as readonly string[]).includes(operation) &&
        constraintsHold(candidate, operation, encryptionContext) &&
        (extra === undefined || extra(candidate)) &&
        namesCaller(candidate.granteePrincipal, caller, delegated),
    );
    return grant !== undefined;
  };
}

export const compiledKeyPolicy = (policy: string): CompiledPolicy => compiledResourcePolicy(policy, "kms");

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

/**
 * The check for `action` on an existing key: its key policy must allow (evaluate.ts "key"), or with `ctx` (a request
 * with a caller) a grant of the key for the caller, under its constraints for `encryptionContext`.
 */
export function keyCheck(
  key: KmsKeyRecord,
  action: string,
  context?: ConditionKeys,
  ctx?: KmsRequestContext,
  encryptionContext?: EncryptionContext,
  extra?: (grant: KmsGrantRecord) => boolean,
): KmsCheck {
  // Built only if a condition asks for one of them: most statements test none.
  const keys = lazyKeys(() => keyConditionKeys(key), context);
  const grants = ctx === undefined ? undefined : grantsFor(ctx, key, action, encryptionContext, keys, extra);
  return {
    action,
    resource: key.arn,
    resourceAccount: key.account,
    keyAccount: key.account,
    resourcePolicyKind: "key",
    resourcePolicy: compiledKeyPolicy(keyPolicyOf(key)),
    context: keys,
    ...(grants === undefined ? {} : { grants }),
  };
}

/**
 * The check for a key the caller named that is not there (or not readable by id): authorization comes before
 * existence, so the caller's own policies are asked about the ARN it named, and only an allowed caller learns that
 * the key does not exist (NotFoundException from the operation). No key policy exists to ask.
 */
function missingKeyCheck(ctx: KmsRequestContext, identifier: string, action: string, context?: ConditionKeys): AccessCheck {
  const arn = parseKmsArn(identifier);
  const resource = arn !== undefined ? identifier : KEY_ID.test(identifier) ? keyArn(ctx.scope, identifier) : identifier.startsWith("alias/") ? aliasArn(ctx.scope, identifier) : undefined;
  return { action, resource, resourcePolicyKind: "none", ...(context === undefined ? {} : { context }) };
}

/**
 * The key an identifier names, or undefined when it names none (the operation then answers as it does today). With a
 * caller and an operation AWS allows across accounts, the full key ARN or alias ARN of another account's key in the
 * same partition and region reaches that account's key ("To specify a KMS key in a different AWS account, you must
 * use the key ARN or alias ARN", KeyId in the API reference); a key id or alias name is always the caller's own.
 */
async function keyOf(ctx: KmsRequestContext, identifier: string, forms: KeyIdForms = "any", action?: string): Promise<KmsKeyRecord | undefined> {
  try {
    return await ctx.kms.keys.resolve(ctx.scope, identifier, ctx.now, forms);
  } catch {
    if (ctx.caller === undefined || action === undefined || !CROSS_ACCOUNT.has(action)) return undefined;
    return otherAccountKey(ctx, identifier, forms);
  }
}

async function otherAccountKey(ctx: KmsRequestContext, identifier: string, forms: KeyIdForms): Promise<KmsKeyRecord | undefined> {
  const arn = parseKmsArn(identifier);
  if (arn === undefined || arn.partition !== ctx.scope.partition || arn.region !== ctx.scope.region || arn.account === ctx.scope.account) return undefined;
  if (!/^\d{12}$/.test(arn.account)) return undefined;
  const scope: Scope = { ...ctx.scope, account: arn.account };
  // An alias must exist there: a predefined alias/aws/* one must not create its AWS managed key in another account.
  if (arn.resource.startsWith("alias/") && (forms === "key" || (await ctx.kms.aliases.get(scope, arn.resource).catch(() => undefined)) === undefined)) return undefined;
  try {
    return await ctx.kms.keys.resolve(scope, identifier, ctx.now, forms);
  } catch {
    return undefined;
  }
}

/**
 * The key a ciphertext names by key id alone: the caller's, or (with a caller) one of another account the principals
 * file knows. AWS's ciphertexts carry their key's ARN, so Decrypt finds another account's key without a KeyId;
 * secretslite's carry the key id only, and key ids are unique (random UUIDs), so the accounts in use are asked.
 */
async function ciphertextKeyOf(ctx: KmsRequestContext, keyId: string, action: string): Promise<KmsKeyRecord | undefined> {
  const own = await keyOf(ctx, keyId);
  if (own !== undefined || ctx.caller === undefined || !CROSS_ACCOUNT.has(action)) return own;
  for (const account of ctx.caller.accounts ?? []) {
    if (account === ctx.scope.account) continue;
    const key = await otherAccountKey(ctx, keyArn({ ...ctx.scope, account }, keyId), "key");
    if (key !== undefined) return key;
  }
  return undefined;
}

/** Whether a compiled policy tests kms:ResourceAliases: only then are a key's aliases listed for a request. */
const testsResourceAliases = new WeakMap<CompiledPolicy, boolean>();
function mentionsResourceAliases(policy: CompiledPolicy): boolean {
  let mentions = testsResourceAliases.get(policy);
  if (mentions === undefined) {
    mentions = policy.statements.some((statement) => statement.conditions.some((condition) => condition.key.toLowerCase() === "kms:resourcealiases"));
    testsResourceAliases.set(policy, mentions);
  }
  return mentions;
}

/**
 * kms:ResourceAliases: the aliases of the key (multivalued, alias names; conditions-kms). Listing them reads every
 * alias of the key's account and region, so it is done only when the key policy or the caller's identity policies
 * test the key; otherwise the key is left out of the context, where no condition asks for it.
 */
async function resourceAliases(ctx: KmsRequestContext, key: KmsKeyRecord): Promise<Record<string, ContextValue>> {
  const caller = ctx.caller;
  if (caller === undefined) return {};
  if (!mentionsResourceAliases(compiledKeyPolicy(keyPolicyOf(key))) && !caller.identityPolicies.some(mentionsResourceAliases)) return {};
  const names: string[] = [];
  let afterName: string | undefined;
  do {
    const page = await ctx.kms.aliases.page(scopeOfKey(ctx, key), { keyId: key.keyId, limit: 100, ...(afterName === undefined ? {} : { afterName }) });
    for (const alias of page.aliases) names.push(alias.AliasName ?? "");
    afterName = page.lastName;
  } while (afterName !== undefined);
  return { "kms:ResourceAliases": names };
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
  (member = "KeyId", requestKeys?: (input: never) => Record<string, ContextValue | undefined>, forms: KeyIdForms = "any", contextMember = "EncryptionContext"): AccessRule =>
  async (input, ctx, action) => {
    const identifier: unknown = input?.[member];
    const context = lazyKeys(
      () => requestAlias(typeof identifier === "string" ? identifier : undefined),
      requestKeys === undefined ? undefined : () => requestKeys(input as never),
    );
    if (typeof identifier !== "string") return [{ action, resource: undefined, resourcePolicyKind: "none", context }];
    const key = await keyOf(ctx, identifier, forms, action);
    if (key === undefined) return [missingKeyCheck(ctx, identifier, action, context)];
    return [keyCheck(key, action, lazyKeys(context, await resourceAliases(ctx, key)), ctx, input?.[contextMember])];
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
  (blobMember: string, keyMember: string, requestKeys: (input: never) => Record<string, ContextValue | undefined>, contextMember = "EncryptionContext"): AccessRule =>
  async (input, ctx, action) => {
    const context = lazyKeys(
      () => requestAlias(input?.[keyMember]),
      () => requestKeys(input as never),
    );
    const named: unknown = input?.[keyMember];
    let key: KmsKeyRecord | undefined;
    if (typeof named === "string") {
      key = await keyOf(ctx, named, "any", action);
    } else {
      let keyId: string | undefined;
      try {
        keyId = parseCiphertext(input?.[blobMember] as Uint8Array).keyId;
      } catch {
        keyId = undefined;
      }
      key = keyId === undefined ? undefined : await ciphertextKeyOf(ctx, keyId, action);
    }
    if (key !== undefined) return [keyCheck(key, action, lazyKeys(context, await resourceAliases(ctx, key)), ctx, input?.[contextMember])];
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
      checks.push(key === undefined ? missingKeyCheck(ctx, identifier, action) : keyCheck(key, action, { "kms:RequestAlias": aliasName, ...(await resourceAliases(ctx, key)) }));
    }
    return checks;
  };

/** CreateGrant's condition keys (conditions-kms). */
const createGrantKeys = (input: {
  Operations?: string[];
  GranteePrincipal?: string;
  RetiringPrincipal?: string;
  Constraints?: { EncryptionContextEquals?: object; EncryptionContextSubset?: object };
}): Record<string, ContextValue | undefined> => ({
  "kms:GrantOperations": input.Operations ?? [],
  "kms:GranteePrincipal": input.GranteePrincipal,
  "kms:RetiringPrincipal": input.RetiringPrincipal,
  "kms:GrantConstraintType":
    input.Constraints?.EncryptionContextEquals !== undefined ? "EncryptionContextEquals" : input.Constraints?.EncryptionContextSubset !== undefined ? "EncryptionContextSubset" : undefined,
  // Only an integrated AWS service's grant is "for an AWS resource"; no such service calls secretslite.
  "kms:GrantIsForAWSResource": false,
});

/**
 * Whether new grant constraints are at least as strict as a grant's: with EncryptionContextEquals the new grant must
 * have the same pairs exactly; with EncryptionContextSubset it must require those pairs (by Subset or Equals).
 */
function atLeastAsStrict(grant: KmsGrantRecord, wanted: { EncryptionContextEquals?: EncryptionContext; EncryptionContextSubset?: EncryptionContext } | undefined): boolean {
  const equals = grant.constraints?.EncryptionContextEquals;
  const subset = grant.constraints?.EncryptionContextSubset;
  const samePairs = (a: EncryptionContext, b: EncryptionContext | undefined): boolean =>
    b !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);
  const includes = (pairs: EncryptionContext, b: EncryptionContext | undefined): boolean => b !== undefined && Object.entries(pairs).every(([key, value]) => b[key] === value);
  if (equals !== undefined && !samePairs(equals, wanted?.EncryptionContextEquals)) return false;
  if (subset !== undefined && !includes(subset, wanted?.EncryptionContextSubset) && !includes(subset, wanted?.EncryptionContextEquals)) return false;
  return true;
}

/**
 * RetireGrant (API reference; KG grant-manage): allowed to the grant's retiring principal, to its grantee when the
 * grant includes RetireGrant, and to the account that created the grant through kms:RetireGrant in its IAM policies;
 * kms:RetireGrant "is not effective in a key policy". So no key policy is asked: the check's resource account is the
 * issuing account (an IAM Allow counts in that account only) and the grant's two principals come in as a grant does.
 * A token that names no live grant is left to the operation (InvalidGrantTokenException, as for any bad token); a
 * key's grant that is not there is asked about with the caller's IAM policies on the key, and only an allowed caller
 * learns that it does not exist.
 */
const retireGrantRule: AccessRule = async (input, ctx, action) => {
  const request: { GrantToken?: string; KeyId?: string; GrantId?: string } = input ?? {};
  let grant: KmsGrantRecord | undefined;
  if (request.GrantToken !== undefined) {
    grant = await ctx.kms.grants.fromToken(ctx.scope, request.GrantToken, ctx.now).catch(() => undefined);
    if (grant === undefined) return [];
  } else if (request.KeyId !== undefined && request.GrantId !== undefined) {
    const key = await keyOf(ctx, request.KeyId, "key", action);
    if (key === undefined) return [missingKeyCheck(ctx, request.KeyId, action)];
    grant = await ctx.kms.grants.find(scopeOfKey(ctx, key), key.keyId, request.GrantId);
    if (grant === undefined) return [{ action, resource: key.arn, resourceAccount: key.account, keyAccount: key.account, resourcePolicyKind: "none" }];
  } else {
    return [];
  }
  const found = grant;
  const caller = ctx.caller;
  const keyAccount = parseKmsArn(found.keyArn)?.account ?? ctx.scope.account;
  const context = {};
  return [
    {
      action,
      resource: found.keyArn,
      resourceAccount: found.issuingAccount,
      keyAccount,
      resourcePolicyKind: "none",
      context,
      grants: () => {
        if (caller === undefined) return false;
        const delegated = identityAllowsOn(ctx, caller, action, found.keyArn, context);
        return namesCaller(found.retiringPrincipal, caller, delegated) || ((found.operations as readonly string[]).includes("RetireGrant") && namesCaller(found.granteePrincipal, caller, delegated));
      },
    },
  ];
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
  CreateGrant: async (input, ctx, action) => {
    const checks = await onKey("KeyId", createGrantKeys, "key")(input, ctx, action);
    const check = checks[0];
    if (check?.grants === undefined || check.resourcePolicyKind !== "key") return checks;
    // A grant with CreateGrant lets its grantee make grants with no more operations than it has and constraints at
    // least as strict as its own (KG grant-concepts, "CreateGrant" grant operation).
    const key = await keyOf(ctx, input?.KeyId ?? "", "key", action);
    if (key === undefined) return checks;
    const wanted: readonly string[] = input?.Operations ?? [];
    const narrower = (grant: KmsGrantRecord): boolean =>
      wanted.every((operation) => (grant.operations as readonly string[]).includes(operation)) && atLeastAsStrict(grant, input?.Constraints);
    return [keyCheck(key, action, check.context, ctx, undefined, narrower)];
  },
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
  GenerateDataKey: onKey("KeyId", (input: { EncryptionContext?: Record<string, string> }) => encryptionContextKeys(input.EncryptionContext)),
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
    const from = await onCiphertextKey(
      "CiphertextBlob",
      "SourceKeyId",
      (i: { SourceEncryptionContext?: Record<string, string>; SourceEncryptionAlgorithm?: string }) => ({
        ...encryptionContextKeys(i.SourceEncryptionContext),
        "kms:EncryptionAlgorithm": i.SourceEncryptionAlgorithm ?? "SYMMETRIC_DEFAULT",
      }),
      "SourceEncryptionContext",
    )(input, ctx, "kms:ReEncryptFrom");
    const to = await onKey("DestinationKeyId", () => context, "any", "DestinationEncryptionContext")(input, ctx, "kms:ReEncryptTo");
    const sameKey = from[0]?.resource !== undefined && from[0]?.resource === to[0]?.resource;
    return [...from, ...to].map((check) => ({ ...check, context: lazyKeys(check.context, { "kms:ReEncryptOnSameKey": sameKey }) }));
  },
  ReplicateKey: onKey("KeyId", (input: { ReplicaRegion?: string }) => ({ "kms:ReplicaRegion": input.ReplicaRegion }), "key"),
  RetireGrant: retireGrantRule,
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
 * The accounts of other accounts' keys the checks are about: undefined when there are none; `only` when every key check
 * is about one other account's key (the request then runs in that account); else `reaches`, the other accounts.
 */
function foreignKeyAccounts(checks: readonly KmsCheck[], own: string): { only?: string; reaches: ReadonlySet<string> } | undefined {
  const accounts = new Set(checks.map((check) => check.keyAccount).filter((account): account is string => account !== undefined));
  const reaches = new Set([...accounts].filter((account) => account !== own));
  if (reaches.size === 0) return undefined;
  return accounts.size === 1 ? { only: [...reaches][0] as string, reaches } : { reaches };
}

/** ReEncrypt's input with SourceKeyId set to the source key's ARN when that key is another account's and none was named. */
function withForeignSource(input: { SourceKeyId?: string } | undefined, checks: readonly KmsCheck[], own: string): unknown {
  const from = checks.find((check) => check.action === "kms:ReEncryptFrom");
  if (input === undefined || input.SourceKeyId !== undefined || from?.keyAccount === undefined || from.keyAccount === own) return input;
  return { ...input, SourceKeyId: from.resource };
}

/**
 * Wraps each operation so that, when the request has a caller (--enforce-auth), every check its rule names is
 * authorized before it runs, and an authorized key of another account is used where it lives (foreignKeyAccounts).
 * Without a caller (enforcement off, or secretslite's own work) it costs one property read.
 */
export function checkingAccess<T extends Record<KmsOperation, Operation>>(table: T): T {
  const checked: Record<string, Operation> = {};
  for (const name of Object.keys(table) as KmsOperation[]) {
    const operation = table[name];
    const rule: AccessRule = kmsAccess[name];
    const action = name === "ReEncrypt" ? "kms:ReEncrypt" : `kms:${name}`;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const authorized = async (input: any, ctx: KmsRequestContext, caller: Caller): Promise<unknown> => {
      const checks = await rule(input, ctx, action);
      const pending = authorizeAll(ctx, caller, checks);
      if (pending !== undefined) await pending;
      const accounts = foreignKeyAccounts(checks, ctx.scope.account);
      if (accounts === undefined) return operation(input, ctx);
      // Another account's key, once authorized, is used in its account, as the caller's request is in AWS.
      if (accounts.only !== undefined) return operation(input, { ...ctx, scope: { ...ctx.scope, account: accounts.only } });
      // Keys of two accounts (ReEncrypt between them): the request stays in the caller's account and reaches the
      // other's keys by ARN; a source key of another account is named by its ARN, as the ciphertext names it.
      const scope: ReachingScope = { ...ctx.scope, reaches: accounts.reaches };
      return operation(name === "ReEncrypt" ? withForeignSource(input, checks, ctx.scope.account) : input, { ...ctx, scope });
    };
    // No caller (enforcement off, or secretslite's own work): the operation itself, with no extra promise.
    checked[name] = (input, ctx) => (ctx.caller === undefined ? operation(input, ctx) : authorized(input, ctx, ctx.caller));
  }
  return checked as T;
}
