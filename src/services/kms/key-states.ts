// AWS's "Key states and KMS operations" table: which operations a key's state allows, and the error otherwise.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
import type { AwsError } from "../../errors";
import { disabled, externalOriginUnsupported, invalidState } from "./errors";
import type { KeyState, KmsKeyRecord } from "./key-record";

/*
 * The rules, with the page's footnotes (texts as the page gives them):
 *   refuse          [1] DisabledException "<ARN> is disabled." · [3] KMSInvalidStateException "<ARN> is pending
 *                   deletion." · [5] KMSInvalidStateException "<ARN> is pending import." · [11] "<ARN> is unavailable."
 *   notPending      [4] KMSInvalidStateException "<ARN> is not pending deletion." (CancelKeyDeletion, any other state)
 *   externalOrigin  [6] UnsupportedOperationException "<ARN> origin is EXTERNAL which is not valid for this
 *                   operation." (the rotation operations on a key waiting for imported material)
 * Footnote [7] (imported material on an enabled or disabled key → UnsupportedOperationException) is the
 * rotation operations' own origin check, made after this table. For cryptographic operations on a key
 * pending deletion the archived page (awsdocs/aws-kms-developer-guide, key-state.md) reads "[2] or [3]", [2]
 * being DisabledException "<ARN> is pending deletion."; secretslite answers [3], the one every other row
 * uses for that state and the one the API reference's KMSInvalidStateException describes.
 */
type Rule = "ok" | "refuse" | "notPending" | "externalOrigin";

/*
 * Multi-Region columns. Creating: "you can manage key, but you cannot yet use it in cryptographic operations"
 * (ReplicateKey), answered "<ARN> is creating." (recorded); secretslite also refuses EnableKey, DisableKey and the
 * rotation changes then, so nothing races the state the replica is headed for. Updating: "you can use the keys in
 * cryptographic operations, but you cannot replicate the new primary key or perform certain management operations,
 * such as enabling or disabling these keys" (UpdatePrimaryRegion); which others the page calls "certain" is not said,
 * so secretslite refuses the ones that change state, rotation or the set. PendingReplicaDeletion is a primary waiting
 * for its replicas' deletion: refused as PendingDeletion is, and CancelKeyDeletion applies.
 *
 * Unavailable is a key of a custom key store that is not connected (a state KmsKeys.presented derives, never stored):
 * the page's column refuses the cryptographic operations ([11] "<ARN> is unavailable.") and allows managing the key,
 * CreateGrant included.
 */
interface Row {
  readonly Enabled: Rule;
  readonly Disabled: Rule;
  readonly PendingDeletion: Rule;
  readonly PendingImport: Rule;
  readonly Creating: Rule;
  readonly Updating: Rule;
  readonly PendingReplicaDeletion: Rule;
  readonly Unavailable: Rule;
}

const ALL: Row = { Enabled: "ok", Disabled: "ok", PendingDeletion: "ok", PendingImport: "ok", Creating: "ok", Updating: "ok", PendingReplicaDeletion: "ok", Unavailable: "ok" };
/** Cryptographic operations: only an Enabled key, or one Updating (UpdatePrimaryRegion needs an Enabled key). */
const CRYPTO: Row = { ...ALL, Disabled: "refuse", PendingDeletion: "refuse", PendingImport: "refuse", Creating: "refuse", PendingReplicaDeletion: "refuse", Unavailable: "refuse" };
/** Managing a key that is not being deleted. */
const NOT_DELETING: Row = { ...ALL, PendingDeletion: "refuse", PendingReplicaDeletion: "refuse" };
/** Managing a key that is not being deleted and not Updating. */
const SETTLED: Row = { ...NOT_DELETING, Updating: "refuse" };
/** Turning a key on and off: not while deleting, not before its material is imported, not in a transient state. */
const ON_OFF: Row = { ...SETTLED, PendingImport: "refuse", Creating: "refuse" };
/** Changing rotation: an enabled key only; the page's rows for EnableKeyRotation and DisableKeyRotation. */
const ROTATION_CHANGE: Row = { ...ON_OFF, Disabled: "refuse", PendingImport: "externalOrigin" };
/** Reading rotation: GetKeyRotationStatus's row (a key pending deletion answers, with rotation off). */
const ROTATION_READ: Row = { ...ALL, PendingImport: "externalOrigin" };
const NOT_PENDING: Row = {
  Enabled: "notPending",
  Disabled: "notPending",
  PendingDeletion: "notPending",
  PendingImport: "notPending",
  Creating: "notPending",
  Updating: "notPending",
  PendingReplicaDeletion: "notPending",
  Unavailable: "notPending",
};

const table = {
  CancelKeyDeletion: { ...NOT_PENDING, PendingDeletion: "ok", PendingReplicaDeletion: "ok" },
  CreateAlias: NOT_DELETING,
  // The page's CreateGrant row is a cryptographic operation's: [1] when disabled, [5] pending import, [2] or [3]
  // pending deletion (the archived awsdocs/aws-kms-developer-guide key-state.md; the model lists DisabledException and
  // KMSInvalidStateException for it). Its Unavailable column allows it.
  // ListGrants, RetireGrant and RevokeGrant work in every state; ListRetirableGrants names no key, so it has no row.
  CreateGrant: { ...CRYPTO, Unavailable: "ok" },
  Decrypt: CRYPTO,
  DeleteAlias: ALL,
  // The page's row: every state ([5]'s PendingImport included: deleting material again changes nothing), and "When the
  // specified KMS key is in the PendingDeletion state, this operation does not change the KMS key's state" (the model).
  DeleteImportedKeyMaterial: ALL,
  DeriveSharedSecret: CRYPTO,
  DescribeKey: ALL,
  DisableKey: ON_OFF,
  DisableKeyRotation: ROTATION_CHANGE,
  EnableKey: ON_OFF,
  EnableKeyRotation: ROTATION_CHANGE,
  Encrypt: CRYPTO,
  GenerateDataKey: CRYPTO,
  GenerateDataKeyWithoutPlaintext: CRYPTO,
  GenerateDataKeyPair: CRYPTO,
  GenerateDataKeyPairWithoutPlaintext: CRYPTO,
  GenerateMac: CRYPTO,
  // Not on the page (newer than it); tracking data about the key, readable in every state like DescribeKey.
  GetKeyLastUsage: ALL,
  GetKeyPolicy: ALL,
  // The page's rows for the import operations: any state but PendingDeletion ([3]); an Enabled or Disabled key
  // takes its material again (to change its expiry) and a symmetric one new material.
  GetParametersForImport: NOT_DELETING,
  ImportKeyMaterial: NOT_DELETING,
  // The page's row for GetPublicKey is a cryptographic operation's: an Enabled key only ([1], [3], [5]); the
  // API reference lists DisabledException and KMSInvalidStateException for it.
  GetPublicKey: CRYPTO,
  GetKeyRotationStatus: ROTATION_READ,
  ListGrants: ALL,
  ListKeyPolicies: ALL,
  // Not on the page; the read side of rotation, so GetKeyRotationStatus's row, except that a PendingImport key (whose
  // imported material expired or was deleted) lists its material with ImportState PENDING_IMPORT.
  ListKeyRotations: ALL,
  ListResourceTags: ALL,
  PutKeyPolicy: ALL,
  ReEncrypt: CRYPTO,
  RetireGrant: ALL,
  RevokeGrant: ALL,
  // The primary may be Enabled, Disabled or waiting for imported material; not deleting, not Updating ("you cannot
  // replicate the new primary key", UpdatePrimaryRegion).
  ReplicateKey: SETTLED,
  // Not on the page; it changes the key's material as EnableKeyRotation changes its schedule, and the
  // model lists the same DisabledException and KMSInvalidStateException for it.
  RotateKeyOnDemand: ROTATION_CHANGE,
  ScheduleKeyDeletion: SETTLED,
  Sign: CRYPTO,
  TagResource: NOT_DELETING,
  UntagResource: NOT_DELETING,
  // For the target key; the page lets the alias's current key be pending deletion ([10]).
  UpdateAlias: NOT_DELETING,
  UpdateKeyDescription: NOT_DELETING,
  // Both keys must be Enabled: the model lists DisabledException, and the Updating keys "can be used in cryptographic
  // operations", which only an Enabled key can.
  UpdatePrimaryRegion: { ...ON_OFF, Disabled: "refuse" },
  Verify: CRYPTO,
  VerifyMac: CRYPTO,
} as const satisfies Record<string, Row>;

export type KeyStateOperation = keyof typeof table;

/** The error AWS gives when `key` is in a state the operation does not allow. */
export function stateError(operation: KeyStateOperation, key: KmsKeyRecord): AwsError {
  const rule = ruleFor(operation, key.keyState);
  if (rule === "notPending") return invalidState(`${key.arn} is not pending deletion.`);
  if (rule === "externalOrigin") return externalOriginUnsupported(key.arn);
  switch (key.keyState) {
    case "Disabled":
      return disabled(key.arn);
    case "PendingDeletion":
      return invalidState(`${key.arn} is pending deletion.`);
    case "PendingImport":
      return invalidState(`${key.arn} is pending import.`);
    // Not recorded; worded as the other states are.
    case "PendingReplicaDeletion":
      return invalidState(`${key.arn} is pending replica deletion.`);
    default:
      return invalidState(`${key.arn} is ${key.keyState.toLowerCase()}.`);
  }
}

export function assertKeyState(operation: KeyStateOperation, key: KmsKeyRecord): void {
  if (ruleFor(operation, key.keyState) !== "ok") throw stateError(operation, key);
}

function ruleFor(operation: KeyStateOperation, state: KeyState): Rule {
  const row: Row = table[operation];
  return row[state];
}
