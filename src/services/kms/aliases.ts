// KMS aliases: the alias records of a scope, their naming rules, and the listing that merges in the predefined AWS aliases.
import type { AliasListEntry } from "@aws-sdk/client-kms";
import { kindRange, lockName, recordKey } from "../../storage/keys";
import type { Store, StoredValue } from "../../storage/store";
import type { Scope } from "../scope";
import { isReservedAliasName, PREDEFINED_AWS_MANAGED_ALIASES } from "./aws-managed";
import {
  aliasAlreadyExists,
  aliasNotFound,
  aliasTargetIsAlias,
  aliasTargetMismatch,
  invalidAliasCharacters,
  reservedAliasName,
} from "./errors";
import { aliasArn } from "./key-arn";
import type { KmsKeyRecord } from "./key-record";
import { KEY_SPECS } from "./key-specs";

export interface KmsAliasRecord extends StoredValue {
  readonly v: 1;
  readonly aliasName: string;
  readonly targetKeyId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * CreateAlias, UpdateAlias and DeleteAlias on a name under `alias/aws/`: "The alias/aws/ prefix is reserved for
 * Amazon Web Services managed keys". KMS answers a bare NotAuthorizedException (no message, 400) — moto's tests pin
 * that body for CreateAlias on alias/aws/ebs, s3, redshift and rds since its boto2 days. We apply it to the whole
 * prefix and to UpdateAlias and DeleteAlias as well, whose answers were not found: an AWS managed alias can be neither
 * repointed nor removed.
 */
export function assertNotReserved(aliasName: string): void {
  if (isReservedAliasName(aliasName)) throw reservedAliasName();
}

/**
 * A new alias name may hold only "alphanumeric characters, forward slashes (/), underscores (_), and dashes (-)". The
 * model's pattern also lets ':' through; KMS then answers "<name> contains invalid characters for an alias" (moto's
 * CreateAlias, written against KMS by an AWS engineer in 2019; not seen in a capture).
 */
export function assertNewAliasName(aliasName: string): void {
  if (aliasName.includes(":")) throw invalidAliasCharacters(aliasName);
}

/**
 * TargetKeyId takes a key id or key ARN only. An alias name or alias ARN gets "Aliases must refer to keys. Not
 * aliases" (moto's CreateAlias; nsmithuk/local-kms answers the same).
 */
export function assertTargetIsKey(targetKeyId: string): void {
  if (targetKeyId.startsWith("alias/") || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) throw aliasTargetIsAlias();
}

/**
 * UpdateAlias: "the new target KMS key must be the same type as the current target KMS key (both symmetric or both
 * asymmetric or both HMAC) and they must have the same key usage". Only symmetric keys exist so far, so this cannot
 * fail yet; the error code (ValidationException) and text are our guess, AWS's answer was not found.
 */
export function assertSameKeyType(
  current: Pick<KmsKeyRecord, "keySpec" | "keyUsage">,
  next: Pick<KmsKeyRecord, "keySpec" | "keyUsage" | "arn">,
): void {
  if (KEY_SPECS[current.keySpec].kind !== KEY_SPECS[next.keySpec].kind || current.keyUsage !== next.keyUsage) {
    throw aliasTargetMismatch(
      `${next.arn} cannot be the target of this alias: the current and new KMS key must be the same type ` +
        "(symmetric, asymmetric or HMAC) and have the same key usage.",
    );
  }
}

export interface AliasPage {
  readonly aliases: AliasListEntry[];
  /** The name of the last alias returned, when more follow. */
  readonly lastName: string | undefined;
}

/** The alias records of each scope; every change to one alias happens under that alias's lock. */
export class KmsAliases {
  constructor(private readonly store: Store) {}

  get(scope: Scope, aliasName: string): Promise<KmsAliasRecord | undefined> {
    return this.store.get<KmsAliasRecord>(recordKey(scope, "kms", "kms-alias", aliasName));
  }

  async create(scope: Scope, aliasName: string, targetKeyId: string, now: Date): Promise<void> {
    const key = recordKey(scope, "kms", "kms-alias", aliasName);
    await this.store.withLock(lockName(scope, "kms", "kms-alias", aliasName), async () => {
      if ((await this.store.get<KmsAliasRecord>(key)) !== undefined) throw aliasAlreadyExists(aliasArn(scope, aliasName));
      const record: KmsAliasRecord = { v: 1, aliasName, targetKeyId, createdAt: now.getTime(), updatedAt: now.getTime() };
      await this.store.batch([{ type: "put", key, value: record }]);
    });
  }

  /** Points an existing alias at `targetKeyId`; `check` sees the current record first and may refuse. */
  async retarget(
    scope: Scope,
    aliasName: string,
    targetKeyId: string,
    now: Date,
    check: (current: KmsAliasRecord) => Promise<void>,
  ): Promise<void> {
    const key = recordKey(scope, "kms", "kms-alias", aliasName);
    await this.store.withLock(lockName(scope, "kms", "kms-alias", aliasName), async () => {
      const current = await this.store.get<KmsAliasRecord>(key);
      if (current === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
      await check(current);
      const record: KmsAliasRecord = { ...current, targetKeyId, updatedAt: now.getTime() };
      await this.store.batch([{ type: "put", key, value: record }]);
    });
  }

  async delete(scope: Scope, aliasName: string, check: (current: KmsAliasRecord) => Promise<void>): Promise<void> {
    const key = recordKey(scope, "kms", "kms-alias", aliasName);
    await this.store.withLock(lockName(scope, "kms", "kms-alias", aliasName), async () => {
      const current = await this.store.get<KmsAliasRecord>(key);
      if (current === undefined) throw aliasNotFound(aliasArn(scope, aliasName));
      await check(current);
      await this.store.batch([{ type: "del", key }]);
    });
  }

  /**
   * One page of ListAliases, in name order, after `afterName`. Stored aliases carry all five members; a predefined
   * `alias/aws/*` alias whose key does not exist yet carries only AliasName and AliasArn, as AWS lists them ("The
   * response might also include aliases that have no TargetKeyId field"; captures show no dates either).
   */
  async page(scope: Scope, options: { keyId?: string; afterName?: string; limit: number }): Promise<AliasPage> {
    const entries = new Map<string, AliasListEntry>();
    if (options.keyId === undefined) {
      for (const name of PREDEFINED_AWS_MANAGED_ALIASES) entries.set(name, { AliasName: name, AliasArn: aliasArn(scope, name) });
    }
    for await (const [, alias] of this.store.range<KmsAliasRecord>(kindRange(scope, "kms", "kms-alias"))) {
      if (options.keyId !== undefined && alias.targetKeyId !== options.keyId) continue;
      entries.set(alias.aliasName, {
        AliasName: alias.aliasName,
        AliasArn: aliasArn(scope, alias.aliasName),
        TargetKeyId: alias.targetKeyId,
        CreationDate: new Date(alias.createdAt),
        LastUpdatedDate: new Date(alias.updatedAt),
      });
    }
    const names = [...entries.keys()].sort();
    const start = options.afterName === undefined ? 0 : names.findIndex((name) => name > (options.afterName as string));
    const shown = start < 0 ? [] : names.slice(start, start + options.limit);
    const more = start >= 0 && start + options.limit < names.length;
    return {
      aliases: shown.map((name) => entries.get(name) as AliasListEntry),
      lastName: more ? shown[shown.length - 1] : undefined,
    };
  }
}
