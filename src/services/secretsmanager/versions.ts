// Secret versions: each value sealed under its own data key from KMS, opened, compared and re-keyed the same way.
import { randomUUID } from "node:crypto";
import type { DecryptRequest, GenerateDataKeyRequest, ReEncryptRequest } from "@aws-sdk/client-kms";
import type { SecretValueEntry } from "@aws-sdk/client-secrets-manager";
import { EnvelopeIntegrityError, openWithDataKey, sealWithDataKey } from "../../crypto/envelope";
import { recordCall, SECRETS_MANAGER_PRINCIPAL } from "../../audit/events";
import { AwsError } from "../../errors";
import type { KmsOperation } from "../../generated";
import { recordKey, secretVersionId } from "../../storage/keys";
import type { StoredValue } from "../../storage/store";
import { DEFAULT_SECRETS_MANAGER_KEY_ALIAS } from "../kms/aws-managed";
import type { KmsRequestContext, Operation as KmsOperationFunction } from "../kms/context";
import { kmsOperations } from "../kms";
import type { Scope } from "../scope";
import type { SecretsRequestContext } from "./context";
import {
  bothValues,
  clientRequestTokenRequired,
  decryptionFailure,
  encryptionFailure,
  invalidKmsKey,
  kmsAccessDenied,
  tokenReusedWithOtherValue,
} from "./errors";
import { utcDay, type SecretRecord } from "./secret";

export interface SecretVersionRecord extends StoredValue {
  readonly v: 1;
  readonly versionId: string;
  /**
   * The data key as KMS sealed it (KMS ciphertext blobs, base64), once per KMS key: a key change
   * adds the new key's copy and keeps the old one, so the version opens under either.
   */
  readonly encryptedDataKeys: ReadonlyArray<{ readonly kmsKeyArn: string; readonly blob: string }>;
  readonly iv: string;
  /** AES-256-GCM ciphertext ‖ tag of the value, base64. */
  readonly sealed: string;
  readonly valueType: "string" | "binary";
}

export type SecretValue = { readonly type: "string"; readonly value: string } | { readonly type: "binary"; readonly value: Uint8Array };

export const versionKey = (scope: Scope, secretName: string, versionId: string): string =>
  recordKey(scope, "secretsmanager", "secret-version", secretVersionId(secretName, versionId));

/** What ListSecretVersionIds shows for the AWS managed key (LocalStack's AWS-recorded snapshots). */
export const DEFAULT_KEY_LISTED_ID = "DefaultEncryptionKey";

/** The secret's KmsKeyId as stored: "" and the AWS managed key's alias both mean the default, which AWS leaves out. */
export const storedKmsKeyId = (kmsKeyId: string | undefined): string | undefined =>
  kmsKeyId === undefined || kmsKeyId === "" || kmsKeyId === DEFAULT_SECRETS_MANAGER_KEY_ALIAS ? undefined : kmsKeyId;

/** A data key sealed under one KMS key, with how ListSecretVersionIds names that key. */
export interface SealedUnder {
  readonly kmsKeyArn: string;
  readonly kmsKeyListedId: string;
}

const listedId = (kmsKeyId: string | undefined, kmsKeyArn: string): string =>
  storedKmsKeyId(kmsKeyId) === undefined ? DEFAULT_KEY_LISTED_ID : kmsKeyArn;

/** The encryption context Secrets Manager gives KMS for a version's data key, as AWS does. */
const dataKeyContext = (secretArn: string, versionId: string): Record<string, string> => ({
  SecretARN: secretArn,
  SecretVersionId: versionId,
});

type Direction = "write" | "read";

/**
 * Secrets Manager's answer to a KMS refusal; the choice per key state and its sources are in errors.ts.
 * A key KMS cannot find is the caller's mistake when naming a key for a write, and access denied otherwise.
 */
function asSecretsManagerError(direction: Direction, cause: AwsError): AwsError {
  switch (cause.code) {
    case "NotFoundException":
      return direction === "write" ? invalidKmsKey(cause) : kmsAccessDenied(cause);
    case "AccessDeniedException":
      return kmsAccessDenied(cause);
    default:
      return direction === "write" ? encryptionFailure(cause) : decryptionFailure(cause);
  }
}

/**
 * Runs a KMS operation (the same functions external callers reach, so key states and usage apply) as the request
 * of its own that Secrets Manager sends KMS: its own request id (the one GetKeyLastUsage reports) and, with an
 * audit log, its own event, made for the caller and invoked by Secrets Manager, as CloudTrail records it.
 * The scope is the secret's: for another account's secret reached by its ARN (access.ts) that is the owner's account,
 * so the secret's KmsKeyId (an id, alias or ARN of that account) resolves there, and the caller is judged against that
 * key's policy and its own IAM policies, both sides as for any cross-account KMS request.
 */
async function viaKms<I, O>(
  ctx: SecretsRequestContext,
  direction: Direction,
  name: KmsOperation,
  operation: KmsOperationFunction<I, O>,
  input: I,
): Promise<O> {
  const audit = ctx.audit === undefined ? undefined : { ...ctx.audit, eventId: randomUUID() };
  const kmsCtx: KmsRequestContext = { requestId: randomUUID(), scope: ctx.scope, now: ctx.now, audit, kms: ctx.kms, viaService: "secretsmanager", caller: ctx.caller };
  try {
    const output = await operation(input, kmsCtx);
    if (kmsCtx.audit !== undefined) recordCall(kmsCtx, { service: "kms", operation: name, input, output, invokedBy: SECRETS_MANAGER_PRINCIPAL, eventId: kmsCtx.audit.eventId });
    return output;
  } catch (error) {
    if (kmsCtx.audit !== undefined) recordCall(kmsCtx, { service: "kms", operation: name, input, error, invokedBy: SECRETS_MANAGER_PRINCIPAL, eventId: kmsCtx.audit.eventId });
    throw error instanceof AwsError ? asSecretsManagerError(direction, error) : error;
  }
}

/** Binds the sealed value to its secret and version, so a value copied elsewhere does not open. */
const valueAad = (secretArn: string, versionId: string, type: SecretValue["type"]): Buffer =>
  Buffer.from(`${secretArn}\n${versionId}\n${type}`, "utf8");

/** Seals a value under a fresh data key from KMS GenerateDataKey. */
export async function sealVersion(
  ctx: SecretsRequestContext,
  secretArn: string,
  versionId: string,
  kmsKeyId: string | undefined,
  value: SecretValue,
): Promise<{ record: SecretVersionRecord; kmsKeyArn: string; kmsKeyListedId: string }> {
  const request: GenerateDataKeyRequest = {
    KeyId: storedKmsKeyId(kmsKeyId) ?? DEFAULT_SECRETS_MANAGER_KEY_ALIAS,
    KeySpec: "AES_256",
    EncryptionContext: dataKeyContext(secretArn, versionId),
  };
  const dataKey = await viaKms(ctx, "write", "GenerateDataKey", kmsOperations.GenerateDataKey, request);
  const plaintext = value.type === "string" ? Buffer.from(value.value, "utf8") : value.value;
  // sealWithDataKey zeroes the plaintext data key.
  const sealedValue = sealWithDataKey(dataKey.Plaintext as Buffer, valueAad(secretArn, versionId, value.type), plaintext);
  const kmsKeyArn = dataKey.KeyId ?? "";
  return {
    record: {
      v: 1,
      versionId,
      encryptedDataKeys: [{ kmsKeyArn, blob: Buffer.from(dataKey.CiphertextBlob as Uint8Array).toString("base64") }],
      iv: sealedValue.iv.toString("base64"),
      sealed: sealedValue.sealed.toString("base64"),
      valueType: value.type,
    },
    kmsKeyArn,
    kmsKeyListedId: listedId(kmsKeyId, kmsKeyArn),
  };
}

/**
 * Opens a version through KMS Decrypt, so a disabled or destroyed key makes the read fail as in AWS.
 * The newest sealed copy of the data key is used: it is under the secret's current key.
 */
export async function openVersion(ctx: SecretsRequestContext, secretArn: string, version: SecretVersionRecord): Promise<SecretValue> {
  const sealedDataKey = version.encryptedDataKeys[version.encryptedDataKeys.length - 1];
  if (sealedDataKey === undefined) throw new Error(`version ${version.versionId} has no data key`);
  const request: DecryptRequest = {
    CiphertextBlob: Buffer.from(sealedDataKey.blob, "base64"),
    EncryptionContext: dataKeyContext(secretArn, version.versionId),
  };
  const dataKey = await viaKms(ctx, "read", "Decrypt", kmsOperations.Decrypt, request);
  try {
    // openWithDataKey zeroes the plaintext data key.
    const plaintext = openWithDataKey(
      dataKey.Plaintext as Buffer,
      valueAad(secretArn, version.versionId, version.valueType),
      Buffer.from(version.iv, "base64"),
      Buffer.from(version.sealed, "base64"),
    );
    return version.valueType === "string" ? { type: "string", value: plaintext.toString("utf8") } : { type: "binary", value: plaintext };
  } catch (error) {
    if (error instanceof EnvelopeIntegrityError) {
      throw decryptionFailure(new AwsError("InvalidCiphertextException", "the stored value failed its integrity check"));
    }
    throw error;
  }
}

/** Whether a stored version holds exactly `value` (type included): an idempotent retry, or a token reused. */
export async function holdsValue(ctx: SecretsRequestContext, secretArn: string, version: SecretVersionRecord, value: SecretValue): Promise<boolean> {
  if (version.valueType !== value.type) return false;
  const stored = await openVersion(ctx, secretArn, version);
  if (stored.type === "string" && value.type === "string") return stored.value === value.value;
  if (stored.type === "binary" && value.type === "binary") {
    const same = Buffer.from(stored.value).equals(Buffer.from(value.value));
    stored.value.fill(0);
    return same;
  }
  return false;
}

/**
 * A call that makes a version (CreateSecret, PutSecretValue, UpdateSecret) found its ClientRequestToken naming a
 * version that already has a value. With the same value it is a retry of the call that made that version, sent
 * after it or racing it (an SDK retry while the original is still in flight), and "the operation succeeds but
 * does nothing" (PutSecretValue); with another value the token is refused. `stored` is that version as read
 * after the other call's write: under the secret's lock, or from a record that already listed it. A stored value
 * never changes, so comparing it here, through KMS and outside any lock, decides as a comparison under the lock
 * would.
 */
export async function requireSameValue(
  ctx: SecretsRequestContext,
  secretArn: string,
  versionId: string,
  stored: SecretVersionRecord | undefined,
  value: SecretValue,
): Promise<void> {
  if (stored === undefined || !(await holdsValue(ctx, secretArn, stored, value))) throw tokenReusedWithOtherValue(versionId, secretArn);
}

/**
 * Adds a copy of the version's data key sealed under another KMS key, through KMS ReEncrypt: the data key
 * never leaves KMS, the value is not re-sealed, and the older copies stay, so the version still opens with
 * the old key (AWS keeps old versions decryptable with it: "Secrets Manager needs permission to decrypt
 * with the previous key"). Undefined when the newest copy is already under that key.
 */
export async function rekeyVersion(
  ctx: SecretsRequestContext,
  secretArn: string,
  version: SecretVersionRecord,
  kmsKeyId: string | undefined,
): Promise<{ record: SecretVersionRecord; sealedUnder: SealedUnder } | undefined> {
  const newest = version.encryptedDataKeys[version.encryptedDataKeys.length - 1];
  if (newest === undefined) throw new Error(`version ${version.versionId} has no data key`);
  const context = dataKeyContext(secretArn, version.versionId);
  const request: ReEncryptRequest = {
    CiphertextBlob: Buffer.from(newest.blob, "base64"),
    SourceEncryptionContext: context,
    DestinationKeyId: storedKmsKeyId(kmsKeyId) ?? DEFAULT_SECRETS_MANAGER_KEY_ALIAS,
    DestinationEncryptionContext: context,
  };
  const reEncrypted = await viaKms(ctx, "write", "ReEncrypt", kmsOperations.ReEncrypt, request);
  const kmsKeyArn = reEncrypted.KeyId ?? "";
  if (kmsKeyArn === newest.kmsKeyArn) return undefined;
  const blob = Buffer.from(reEncrypted.CiphertextBlob as Uint8Array).toString("base64");
  return {
    record: { ...version, encryptedDataKeys: [...version.encryptedDataKeys, { kmsKeyArn, blob }] },
    sealedUnder: { kmsKeyArn, kmsKeyListedId: listedId(kmsKeyId, kmsKeyArn) },
  };
}

/** At most one of SecretString and SecretBinary; neither means no new version. */
export function secretValueOf(input: { SecretString?: string; SecretBinary?: Uint8Array }): SecretValue | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) throw bothValues();
  if (input.SecretString !== undefined) return { type: "string", value: input.SecretString };
  if (input.SecretBinary !== undefined) return { type: "binary", value: input.SecretBinary };
  return undefined;
}

/**
 * The new version's id: the ClientRequestToken. The SDKs and the CLI always fill it in; a raw request that
 * brings a value without one is refused, as AWS refuses it. Without a value no version is made and no token
 * is needed (the token "specifies the unique identifier for the new version" only "if you include
 * SecretString or SecretBinary"; whether AWS also refuses a raw value-less call was not recorded).
 */
export function newVersionId(token: string | undefined, value: SecretValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (token === undefined) throw clientRequestTokenRequired();
  return token;
}

/** The SecretVersionId Secrets Manager puts in the encryption context of the calls that only validate key access. */
export const VALIDATION_VERSION_ID = "RequestToValidateKeyAccess";

/**
 * Checks the KmsKeyId a call sets or changes when nothing is sealed under it yet (a secret created or re-keyed
 * without versions). Under --enforce-auth it does what AWS does (SM user guide, security-encryption "Secrets Manager
 * encryption context"): a GenerateDataKey and a Decrypt of its result with the encryption context SecretARN and
 * SecretVersionId "RequestToValidateKeyAccess", for the caller, so the key policy and the caller's IAM policies
 * decide (kms:ViaService, kms:CallerAccount and kms:EncryptionContext:* included) exactly as they will for the
 * versions to come, and a caller without kms:GenerateDataKey or kms:Decrypt is refused now ("Access to KMS is not
 * allowed"), not at its first PutSecretValue. Without enforcement it stays a DescribeKey: the key must exist, and a
 * disabled key is refused at first use, as before.
 */
export async function checkKmsKey(ctx: SecretsRequestContext, secretArn: string, kmsKeyId: string | undefined): Promise<void> {
  const keyId = storedKmsKeyId(kmsKeyId);
  if (keyId === undefined) return;
  if (ctx.caller === undefined) {
    await viaKms(ctx, "write", "DescribeKey", kmsOperations.DescribeKey, { KeyId: keyId });
    return;
  }
  const context = dataKeyContext(secretArn, VALIDATION_VERSION_ID);
  const dataKey = await viaKms(ctx, "write", "GenerateDataKey", kmsOperations.GenerateDataKey, { KeyId: keyId, KeySpec: "AES_256", EncryptionContext: context });
  (dataKey.Plaintext as Buffer | undefined)?.fill(0);
  const opened = await viaKms(ctx, "write", "Decrypt", kmsOperations.Decrypt, { CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context });
  (opened.Plaintext as Buffer | undefined)?.fill(0);
}

/**
 * One version's value as GetSecretValue and BatchGetSecretValue return it: one version read, one KMS
 * Decrypt, and LastAccessedDate recorded (a write at most once a day). `notFound` is the caller's error
 * for a version with no stored value (RotateSecret's valueless AWSPENDING).
 */
export async function readSecretValue(
  ctx: SecretsRequestContext,
  secret: SecretRecord,
  versionId: string,
  notFound: () => Error,
): Promise<SecretValueEntry> {
  const version = await ctx.secrets.secrets.version(ctx.scope, secret.name, versionId);
  if (version === undefined) throw notFound();
  const value = await openVersion(ctx, secret.arn, version);
  await ctx.secrets.secrets.recordAccess(ctx.scope, secret, versionId, utcDay(ctx.now));
  const summary = secret.versions[versionId];
  const stages = summary?.stages ?? [];
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: versionId,
    SecretString: value.type === "string" ? value.value : undefined,
    SecretBinary: value.type === "binary" ? value.value : undefined,
    // A deprecated version (still kept) has no labels; AWS leaves the member out rather than sending [].
    VersionStages: stages.length === 0 ? undefined : [...stages],
    CreatedDate: new Date(summary?.createdAt ?? secret.createdAt),
  };
}
