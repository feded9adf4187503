// The rotation schedule index: secrets by when their next rotation window opens, written with every secret record.
import type { BatchOp } from "../../storage/store";
import type { Scope } from "../scope";
import { dueIndexOps } from "./due-index";
import { copiesAPrimary } from "./replication";
import { storedSchedule, windowStartOf } from "./rotation-rules";
import type { SecretRecord } from "./secret";

/** When a secret's next rotation window opens, if rotation is on and scheduled. */
export function dueAt(secret: SecretRecord | undefined): number | undefined {
  const rotation = secret?.rotation;
  if (rotation === undefined || !rotation.enabled || rotation.nextRotationAt === undefined) return undefined;
  // A replica shows its primary's rotation settings, but the primary rotates and the new value is copied.
  if (secret !== undefined && copiesAPrimary(secret)) return undefined;
  const schedule = storedSchedule(rotation.rules);
  return schedule === undefined ? undefined : windowStartOf(schedule, rotation.nextRotationAt);
}

/** The index of secrets by when their next rotation window opens, for the same batch as the record. */
export const rotationScheduleOps = (scope: Scope, before: SecretRecord | undefined, after: SecretRecord | undefined): BatchOp[] =>
  dueIndexOps("secret-rotation-schedule", dueAt, scope, before, after);
