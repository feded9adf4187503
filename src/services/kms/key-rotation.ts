// Key rotation: the rules the rotation operations share (which keys rotate, the default period, the on-demand quota and
// conflict window) and the rotation itself, new material appended under the key's lock.
import type { KmsRequestContext } from "./context";
import { recordKey } from "../../storage/keys";
import type { Scope } from "../scope";
import { assertCustomerManaged } from "./aws-managed";
import { externalOriginUnsupported, noMaterialPendingRotation, onDemandRotationLimit, rotationConflict, specNotRotatable } from "./errors";
import { KEY_SPECS } from "./key-specs";
import { deletionDue, unlessGone } from "./key-destruction";
import { newBackingKey } from "./key-material";
import { DAY_MS, type KmsKeyRecord, type RotationSchedule, type RotationType } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";
import { assertKeyState, type KeyStateOperation } from "./key-states";
import { assertPrimary, isReplica, withShared } from "./multi-region";

/** EnableKeyRotation: "If no value is specified, the default value is 365 days." */
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;

/** The on-demand rotation resource quota: 25 per key and not adjustable (the KMS guide's resource quotas; the model says so too). */
export const ON_DEMAND_ROTATION_LIMIT = 25;

/** ConflictException: "an automatic rotation of this key is currently in progress or scheduled to begin within the next 20 minutes". */
const CONFLICT_WINDOW_MS = 20 * 60_000;

/**
 * The checks every rotation operation makes after finding the key: the key-state table, then footnote [7]
 * ("If the KMS key has imported key material …: UnsupportedOperationException") for an EXTERNAL key in a
 * state the table lets through. Since 2025 AWS rotates imported material on demand, to material imported for it
 * beforehand (ImportKeyMaterial NEW_KEY_MATERIAL), and lists imported material: RotateKeyOnDemand and
 * ListKeyRotations pass `importedMaterial` to let EXTERNAL keys through; EnableKeyRotation, DisableKeyRotation and
 * GetKeyRotationStatus still refuse them. Only symmetric encryption keys rotate at all: other specs are refused
 * after the state check, like an EXTERNAL key.
 */
export function assertRotatable(key: KmsKeyRecord, operation: KeyStateOperation, importedMaterial: "refuse" | "allow" = "refuse"): void {
  assertKeyState(operation, key);
  if (!KEY_SPECS[key.keySpec].rotatable) throw specNotRotatable(key.arn, key.keySpec);
  // Keys in custom key stores do not rotate ("Unsupported KMS key types", the rotation guide).
  if (key.origin === "AWS_CLOUDHSM" || key.origin === "EXTERNAL_KEY_STORE") throw externalOriginUnsupported(key.arn, key.origin);
  if (key.origin === "EXTERNAL" && importedMaterial === "refuse") throw externalOriginUnsupported(key.arn);
}

/**
 * Nobody changes an AWS managed key's rotation: KMS rotates it every year. Automatic rotation is a shared property of a
 * multi-Region key, set on the primary only (multi-region-keys-overview, "Rotating multi-Region keys"); a replica is
 * refused with the recorded "is not a multi-region primary key." that ReplicateKey gives (AWS's text for rotation on a
 * replica is not recorded).
 */
export function assertRotationChangeable(key: KmsKeyRecord, operation: "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand"): void {
  assertCustomerManaged(key, operation);
  assertRotatable(key, operation, operation === "RotateKeyOnDemand" ? "allow" : "refuse");
  if (key.multiRegion) assertPrimary(key);
}

export const onDemandRotations = (key: KmsKeyRecord): number =>
  key.backingKeys.reduce((count, backingKey) => (backingKey.rotationType === "ON_DEMAND" ? count + 1 : count), 0);

/**
 * Whether RotateKeyOnDemand may go ahead now. Rotations here complete within the request, so none is ever
 * "in progress"; the conflict is an automatic rotation due within the next 20 minutes.
 */
export function assertOnDemandRotation(key: KmsKeyRecord, nowMs: number): void {
  assertRotationChangeable(key, "RotateKeyOnDemand");
  if (onDemandRotations(key) >= ON_DEMAND_ROTATION_LIMIT) throw onDemandRotationLimit(key.arn);
  // "You must have already imported new key material and that key material's state should be PENDING_ROTATION" (RotateKeyOnDemand).
  if (key.origin === "EXTERNAL" && key.pendingMaterial === undefined) throw noMaterialPendingRotation(key.arn);
  if (key.rotation !== undefined && key.rotation.nextAt - nowMs < CONFLICT_WINDOW_MS) throw rotationConflict();
}

/**
 * An enabled key past its rotation date rotates before use. KMS does not rotate disabled or pending-deletion
 * keys; re-enabled, a key overdue rotates at once.
 */
export const rotationDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.rotation !== undefined && key.rotation.nextAt <= nowMs && key.keyState === "Enabled" && !isReplica(key);

/** The rotation a due automatic rotation leaves behind: on time keeps the cadence, a late one restarts it from now. */
function nextRotation(rotation: RotationSchedule, nowMs: number): RotationSchedule {
  const period = rotation.periodDays * DAY_MS;
  const onSchedule = rotation.nextAt + period;
  return { ...rotation, nextAt: onSchedule > nowMs ? onSchedule : nowMs + period };
}

/**
 * A rotation's go-ahead, decided under the key's lock on the current record: throw to refuse (on demand),
 * return false when it is no longer wanted (an automatic rotation someone else already did).
 */
export type RotationCheck = (current: KmsKeyRecord) => boolean;

/**
 * Appends a new backing key. It is generated in the token first, with no lock held; then, under the lock,
 * `check` decides on the current record whether the rotation still goes ahead. A rotation that loses the
 * race leaves nothing behind: the material existed only wrapped, in this call.
 */
export async function rotateKey(
  access: KeyRecordAccess,
  scope: Scope,
  keyId: string,
  nowMs: number,
  type: RotationType,
  check: RotationCheck,
): Promise<KmsKeyRecord | undefined> {
  // An EXTERNAL key rotates to the material imported for it (PENDING_ROTATION); no token work then.
  const present = await access.store.get<KmsKeyRecord>(recordKey(scope, "kms", "kms-key", keyId));
  const generated = present?.origin === "EXTERNAL" ? undefined : await newBackingKey(access.keyStore, nowMs, type);
  return access
    .changeSet(scope, keyId, (set) => {
      const current = set.get(scope.region)!;
      if (deletionDue(current, nowMs) || !check(current)) return { result: deletionDue(current, nowMs) ? undefined : current };
      const pending = current.pendingMaterial;
      const backingKey = generated ?? (pending === undefined ? undefined : { ...pending, createdAt: nowMs, rotationType: type });
      if (backingKey === undefined) return { result: current };
      // "On-demand rotations do not change existing automatic rotation schedules" (RotateKeyOnDemand).
      const rotation = type === "AUTOMATIC" && current.rotation !== undefined ? nextRotation(current.rotation, nowMs) : current.rotation;
      const imported =
        generated === undefined
          ? { pendingMaterial: undefined, expirationModel: backingKey.validTo === undefined ? ("KEY_MATERIAL_DOES_NOT_EXPIRE" as const) : ("KEY_MATERIAL_EXPIRES" as const) }
          : {};
      // A multi-Region primary's new material reaches every replica in the same batch: material and rotation are
      // shared properties (multi-region-keys-overview).
      const records = withShared(set, (member) => ({ backingKeys: [...member.backingKeys, backingKey], rotation, ...imported }));
      return { records, result: records.get(scope.region) };
    })
    .catch(unlessGone);
}

export const rotateAutomatically = (access: KeyRecordAccess, scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> =>
  rotateKey(access, scope, keyId, nowMs, "AUTOMATIC", (current) => rotationDue(current, nowMs));

/**
 * EnableKeyRotation and DisableKeyRotation: `decide` checks the key (a multi-Region primary, or a single-Region key) and
 * returns its new schedule, which every key of a multi-Region set takes in one batch, rotation being shared.
 */
export async function changeRotation(
  ctx: KmsRequestContext,
  keyId: string,
  decide: (current: KmsKeyRecord) => RotationSchedule | undefined,
): Promise<void> {
  await ctx.kms.keys.changeSet(ctx.scope, keyId, (set) => {
    const current = set.get(ctx.scope.region)!;
    const rotation = decide(current);
    return { records: rotation === current.rotation ? undefined : withShared(set, () => ({ rotation })), result: undefined };
  });
}
