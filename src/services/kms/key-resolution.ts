// Identifier → KMS key: key ids, key ARNs, alias names and alias ARNs, and the AWS managed key a predefined alias creates on first use.
import { lockName, recordKey } from "../../storage/keys";
import type { Scope } from "../scope";
import type { KmsAliasRecord } from "./aliases";
import { awsManagedKeyDescription } from "./aws-managed";
import { aliasesNotSupported, aliasNotFound, invalidArnRegion, invalidKeyId, keyNotFound } from "./errors";
import { aliasArn, KEY_ID, keyArn, parseKmsArn } from "./key-arn";
import { newBackingKey } from "./key-material";
import { newKeyRecord, type KmsKeyRecord } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";

/**
 * Which identifier forms an operation takes: most take key id, key ARN, alias name and alias ARN;
 * the ones that manage one key (EnableKey, DisableKey, ScheduleKeyDeletion, EnableKeyRotation…) only the first two.
 */
export type KeyIdForms = "any" | "key";

/**
 * A request's scope that may also reach, by key ARN or alias ARN, keys of the accounts in `reaches`: set by access.ts
 * (--enforce-auth only) for a request authorized on keys of two accounts, ReEncrypt from one to the other, which
 * cannot run in either account alone. No other request's scope has it.
 */
export interface ReachingScope extends Scope {
  readonly reaches?: ReadonlySet<string>;
}

/**
 * Resolves a key id, key ARN, alias name or alias ARN in this account and region. The predefined `alias/aws/*`
 * aliases create their AWS managed key on first use. An ARN of another scope is never looked up:
 *
 * - a key ARN of another region gets AWS's "Invalid arn <region>" (errors.ts has the captures);
 * - a key ARN of another account stays "Key '<arn>' does not exist". AWS serves other accounts' keys when their key
 *   policy lets the caller in, and no capture shows what it answers for one that is not there; secretslite shares
 *   no key across accounts, so to a caller here that key does not exist;
 * - an alias ARN of another scope stays "Alias <arn> is not found.": no capture shows AWS's answer for it either.
 */
export async function resolveKey(access: KeyRecordAccess, scope: Scope, identifier: string, now: Date, forms: KeyIdForms): Promise<KmsKeyRecord> {
  const nowMs = now.getTime();
  let resource = identifier;
  const arn = parseKmsArn(identifier);
  const reaches = (scope as ReachingScope).reaches;
  if (arn !== undefined && reaches !== undefined && reaches.has(arn.account) && arn.partition === scope.partition && arn.region === scope.region) {
    return resolveKey(access, { account: arn.account, region: scope.region, partition: scope.partition }, identifier, now, forms);
  }
  if (arn !== undefined) {
    const sameScope = arn.partition === scope.partition && arn.region === scope.region && arn.account === scope.account;
    if (arn.resource.startsWith("alias/")) {
      if (forms === "key") throw aliasesNotSupported();
      if (!sameScope) throw aliasNotFound(identifier);
      resource = arn.resource;
    } else if (arn.resource.startsWith("key/")) {
      const keyId = arn.resource.slice(4);
      // An ARN without a region names no other region: it is only a key that is not here.
      if (arn.region !== "" && arn.region !== scope.region) throw invalidArnRegion(arn.region);
      if (!sameScope || !KEY_ID.test(keyId)) throw keyNotFound(identifier);
      return requireKey(access, scope, keyId, nowMs);
    } else {
      throw invalidKeyId(identifier);
    }
  }
  if (resource.startsWith("alias/")) {
    if (forms === "key") throw aliasesNotSupported();
    return resolveAlias(access, scope, resource, now);
  }
  if (!KEY_ID.test(resource)) throw invalidKeyId(identifier);
  return requireKey(access, scope, resource, nowMs);
}

async function requireKey(access: KeyRecordAccess, scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord> {
  const key = await access.load(scope, keyId, nowMs);
  if (key === undefined) throw keyNotFound(keyArn(scope, keyId));
  return key;
}

async function resolveAlias(access: KeyRecordAccess, scope: Scope, aliasName: string, now: Date): Promise<KmsKeyRecord> {
  const alias = await access.store.get<KmsAliasRecord>(recordKey(scope, "kms", "kms-alias", aliasName));
  if (alias !== undefined) {
    const key = await access.load(scope, alias.targetKeyId, now.getTime());
    if (key !== undefined) return key;
  }
  const description = awsManagedKeyDescription(aliasName);
  if (description === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
  return createAwsManagedKey(access, scope, aliasName, description, now);
}

/**
 * Two first uses at once must not make two keys: the alias is checked again under its lock. The material is
 * made before the lock, and the winner is loaded after it, so no token work happens under the lock; a first
 * use that loses the race only drops material that never left this call.
 */
async function createAwsManagedKey(access: KeyRecordAccess, scope: Scope, aliasName: string, description: string, now: Date): Promise<KmsKeyRecord> {
  const { store } = access;
  const backingKey = await newBackingKey(access.keyStore, now.getTime(), undefined);
  const aliasKey = recordKey(scope, "kms", "kms-alias", aliasName);
  const winner = await store.withLock(lockName(scope, "kms", "kms-alias", aliasName), async () => {
    const existing = await store.get<KmsAliasRecord>(aliasKey);
    if (existing !== undefined && (await store.get(recordKey(scope, "kms", "kms-key", existing.targetKeyId))) !== undefined) {
      return existing.targetKeyId;
    }
    const record = newKeyRecord(scope, now, { description, keyManager: "AWS" }, [backingKey]);
    const alias: KmsAliasRecord = { v: 1, aliasName, targetKeyId: record.keyId, createdAt: record.createdAt, updatedAt: record.createdAt };
    await access.insert(scope, record, [{ type: "put", key: aliasKey, value: alias }]);
    return record;
  });
  if (typeof winner !== "string") return winner;
  const key = await access.load(scope, winner, now.getTime());
  if (key === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
  return key;
}
