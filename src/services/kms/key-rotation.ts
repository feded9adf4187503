// Key rotation: the rules the rotation operations share (which keys rotate, the default period, the on-demand quota and
// conflict window) and the rotation itself, new material appended under the key's lock.
import { recordKey } from "../../storage/keys";
import type { Scope } from "../scope";
import { assertCustomerManaged } from "./aws-managed";
import { externalOriginUnsupported, onDemandRotationLimit, rotationConflict, specNotRotatable } from "./errors";
import { KEY_SPECS } from "./key-specs";
import { deletionDue } from "./key-destruction";
import { newBackingKey } from "./key-material";
import { DAY_MS, type KmsKeyRecord, type RotationSchedule, type RotationType } from "./key-record";
import type { KeyRecordAccess } from "./key-repository";
import { scheduleChanges } from "./key-schedule";
import { assertKeyState, type KeyStateOperation } from "./key-states";

/** EnableKeyRotation: "If no value is specified, the default value is 365 days." */
export const DEFAULT_ROTATION_PERIOD_DAYS = 365;

/** The on-demand rotation resource quota: 25 per key and not adjustable (the KMS guide's resource quotas; the model says so too). */
export const ON_DEMAND_ROTATION_LIMIT = 25;

/** ConflictException: "an automatic rotation of this key is currently in progress or scheduled to begin within the next 20 minutes". */
const CONFLICT_WINDOW_MS = 20 * 60_000;

/**
 * The checks every rotation operation makes after finding the key: the key-state table, then footnote [7]
 * ("If the KMS key has imported key material …: UnsupportedOperationException") for an EXTERNAL key in a
 * state the table lets through. AWS has rotated imported material on demand since 2025, but only material
 * imported for it beforehand (ImportKeyMaterial), which secretslite does not have; so an EXTERNAL key
 * answers as it did before that. Only symmetric encryption keys rotate at all: other specs are refused
 * after the state check, like an EXTERNAL key.
 */
export function assertRotatable(key: KmsKeyRecord, operation: KeyStateOperation): void {
  assertKeyState(operation, key);
  if (!KEY_SPECS[key.keySpec].rotatable) throw specNotRotatable(key.arn, key.keySpec);
  // Keys in a CloudHSM key store do not rotate either ("Unsupported KMS key types", the rotation guide).
  if (key.origin !== "AWS_KMS") throw externalOriginUnsupported(key.arn, key.origin);
}

/** Nobody changes an AWS managed key's rotation: KMS rotates it every year. */
export function assertRotationChangeable(key: KmsKeyRecord, operation: "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand"): void {
  assertCustomerManaged(key, operation);
  assertRotatable(key, operation);
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
  if (key.rotation !== undefined && key.rotation.nextAt - nowMs < CONFLICT_WINDOW_MS) throw rotationConflict();
}

/**
 * An enabled key past its rotation date rotates before use. KMS does not rotate disabled or pending-deletion
 * keys; re-enabled, a key overdue rotates at once.
 */
export const rotationDue = (key: KmsKeyRecord, nowMs: number): boolean =>
  key.rotation !== undefined && key.rotation.nextAt <= nowMs && key.keyState === "Enabled";

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
  const backingKey = await newBackingKey(access.keyStore, nowMs, type);
  const key = recordKey(scope, "kms", "kms-key", keyId);
  return access.store.withLock(key, async () => {
    const current = await access.store.get<KmsKeyRecord>(key);
    if (current === undefined || deletionDue(current, nowMs)) return undefined;
    if (!check(current)) return current;
    // "On-demand rotations do not change existing automatic rotation schedules" (RotateKeyOnDemand).
    const rotation = type === "AUTOMATIC" && current.rotation !== undefined ? nextRotation(current.rotation, nowMs) : current.rotation;
    const updated: KmsKeyRecord = { ...current, backingKeys: [...current.backingKeys, backingKey], rotation };
    await access.write(key, [{ type: "put", key, value: updated }, ...scheduleChanges(scope, current, updated)]);
    return updated;
  });
}

export const rotateAutomatically = (access: KeyRecordAccess, scope: Scope, keyId: string, nowMs: number): Promise<KmsKeyRecord | undefined> =>
  rotateKey(access, scope, keyId, nowMs, "AUTOMATIC", (current) => rotationDue(current, nowMs));
