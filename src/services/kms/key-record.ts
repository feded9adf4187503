// The stored KMS key record: its types, the constants its dates use, and how a new one is made.
import { randomBytes, randomUUID } from "node:crypto";
import type { StoredValue } from "../../storage/store";
import type { Scope } from "../scope";
import { keyArn } from "./key-arn";
import { defaultKeyPolicy } from "./key-policy";
import type { KmsKeySpec, KmsKeyUsage } from "./key-specs";
import type { KeyUse } from "./ciphertext";

export type KeyState =
  | "Enabled"
  | "Disabled"
  | "PendingDeletion"
  | "PendingImport"
  | "Unavailable"
  | "Creating"
  | "Updating"
  | "PendingReplicaDeletion";

/** The regions of a multi-Region key set, the same on every key of the set (multi-region.ts). */
export interface KeySetRegions {
  readonly primaryRegion: string;
  readonly replicaRegions: readonly string[];
}

/** A transient state (Creating, Updating) and the state it gives way to when `until` has passed. */
export interface KeyTransition {
  readonly until: number;
  readonly then: KeyState;
}

/** KMS OriginType. */
export type KeyOrigin = "AWS_KMS" | "EXTERNAL" | "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE";

export type RotationType = "AUTOMATIC" | "ON_DEMAND";

/** One generation of a key's backing key; rotation appends, Decrypt may use any. */
export interface BackingKeyRecord {
  /** KeyMaterialId: 64 hex characters, as AWS shows it. */
  readonly id: string;
  /** The backing key wrapped under the token's root key, base64; for a key pair, its private key. */
  readonly wrapped: string;
  /** Asymmetric specs only: the public key as SubjectPublicKeyInfo DER, base64, kept in the clear to verify and to hand out. */
  readonly publicKey?: string;
  /** When it was made: for a rotation's material, the RotationDate ListKeyRotations shows. */
  readonly createdAt: number;
  /** Absent for a key's first material, which no rotation made. */
  readonly rotationType?: RotationType;
  /** Imported material that expires (ImportKeyMaterial ValidTo, milliseconds); absent when it does not. */
  readonly validTo?: number;
  /** ImportKeyMaterial's KeyMaterialDescription. */
  readonly description?: string;
  /**
   * Imported material deleted (DeleteImportedKeyMaterial) or expired: ImportState PENDING_IMPORT. `wrapped` is
   * then empty; the entry stays so that re-importing the same material restores it under the same id.
   */
  readonly deleted?: true;
}

/**
 * An RSA key pair GetParametersForImport made for one KMS key and wrapping key spec: its private key wrapped under
 * the root key like a backing key, and a symmetric key (also wrapped) that authenticates the import tokens issued
 * with it. Reused for an hour, kept until `expiresAt` (a day after the last token it can have issued).
 */
export interface WrappingKeyRecord {
  readonly id: string;
  readonly spec: "RSA_2048" | "RSA_3072" | "RSA_4096";
  readonly wrapped: string;
  readonly publicKey: string;
  readonly tokenKey: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Automatic rotation, present while it is enabled. */
export interface RotationSchedule {
  readonly periodDays: number;
  /** NextRotationDate in milliseconds. */
  readonly nextAt: number;
}

export interface KmsKeyRecord extends StoredValue {
  readonly v: 1;
  readonly keyId: string;
  readonly arn: string;
  readonly account: string;
  readonly createdAt: number;
  readonly description: string;
  readonly keyUsage: KmsKeyUsage;
  readonly keySpec: KmsKeySpec;
  readonly origin: KeyOrigin;
  readonly keyManager: "CUSTOMER" | "AWS";
  readonly keyState: KeyState;
  readonly multiRegion: boolean;
  /** Set while the key is PendingDeletion: when it is destroyed. */
  readonly deletionDate: number | undefined;
  readonly policy: string;
  readonly tags: ReadonlyArray<{ readonly TagKey: string; readonly TagValue: string }>;
  /** Oldest first; the last one encrypts. */
  readonly backingKeys: readonly BackingKeyRecord[];
  /** Optional so records written before rotation existed still read as "rotation disabled". */
  readonly rotation?: RotationSchedule | undefined;
  /** Origin EXTERNAL only, set once material is imported (DescribeKey shows ExpirationModel then). */
  readonly expirationModel?: "KEY_MATERIAL_EXPIRES" | "KEY_MATERIAL_DOES_NOT_EXPIRE";
  /** Symmetric EXTERNAL keys: NEW material imported and waiting for RotateKeyOnDemand (PENDING_ROTATION). */
  readonly pendingMaterial?: BackingKeyRecord;
  /** Origin EXTERNAL: the wrapping keys of GetParametersForImport not yet expired. */
  readonly wrappingKeys?: readonly WrappingKeyRecord[];
  /** Multi-Region keys with replicas, or that are replicas; absent on a primary that was never replicated. */
  readonly regions?: KeySetRegions;
  /** Set while the key is Creating or Updating (multi-Region keys). */
  readonly transition?: KeyTransition;
  /** PendingReplicaDeletion only: the waiting period that starts when the last replica is gone. */
  readonly pendingWindowDays?: number;
  /**
   * Origin AWS_CLOUDHSM: the custom key store whose token holds the material, and its cluster when the key was made.
   * Origin EXTERNAL_KEY_STORE: the store, "" for the cluster, and the external key (XksKeyId) that wraps every
   * ciphertext a second time, outside secretslite; the KMS-side material is the record's backing key, as for AWS_KMS.
   */
  readonly customKeyStore?: { readonly id: string; readonly clusterId: string; readonly xksKeyId?: string };
}

export const DAY_MS = 86_400_000;

/** KMS rotates AWS managed keys every year (365 days since May 2022) and nobody can change that. */
export const AWS_MANAGED_ROTATION_DAYS = 365;

export interface NewKmsKey {
  /** A fixed id (seed fixtures); a fresh UUID or `mrk-` id otherwise. The caller makes sure it is free. */
  readonly keyId?: string;
  readonly description?: string;
  readonly origin?: KeyOrigin;
  readonly multiRegion?: boolean;
  /** Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE: the store to make the key in (CreateKey has checked the rest of the request). */
  readonly customKeyStoreId?: string;
  /** Origin EXTERNAL_KEY_STORE: the external key, as its proxy names it. */
  readonly xksKeyId?: string;
  /** The request that makes the key: an external key store's proxy is told who asked (CreateKey's GetKeyMetadata). */
  readonly use?: KeyUse;
  readonly policy?: string;
  readonly tags?: ReadonlyArray<{ readonly TagKey: string; readonly TagValue: string }>;
  readonly keyManager?: "CUSTOMER" | "AWS";
  /** SYMMETRIC_DEFAULT with ENCRYPT_DECRYPT when absent; CreateKey has checked the pair against the key-spec table. */
  readonly keySpec?: KmsKeySpec;
  readonly keyUsage?: KmsKeyUsage;
}

export function newKeyRecord(
  scope: Scope,
  now: Date,
  props: NewKmsKey,
  backingKeys: BackingKeyRecord[],
  customKeyStore?: KmsKeyRecord["customKeyStore"],
): KmsKeyRecord {
  const keyId = props.keyId ?? (props.multiRegion ? "mrk-" + randomBytes(16).toString("hex") : randomUUID());
  const keyManager = props.keyManager ?? "CUSTOMER";
  return {
    v: 1,
    keyId,
    arn: keyArn(scope, keyId),
    account: scope.account,
    createdAt: now.getTime(),
    description: props.description ?? "",
    keyUsage: props.keyUsage ?? "ENCRYPT_DECRYPT",
    keySpec: props.keySpec ?? "SYMMETRIC_DEFAULT",
    origin: props.origin ?? "AWS_KMS",
    keyManager,
    keyState: props.origin === "EXTERNAL" ? "PendingImport" : "Enabled",
    multiRegion: props.multiRegion ?? false,
    deletionDate: undefined,
    policy: props.policy ?? defaultKeyPolicy(scope),
    tags: props.tags ?? [],
    backingKeys,
    ...(customKeyStore === undefined ? {} : { customKeyStore }),
    // "New AWS managed keys are automatically rotated one year after they are created" (EnableKeyRotation).
    rotation:
      keyManager === "AWS"
        ? { periodDays: AWS_MANAGED_ROTATION_DAYS, nextAt: now.getTime() + AWS_MANAGED_ROTATION_DAYS * DAY_MS }
        : undefined,
  };
}
