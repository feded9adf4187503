// DeleteSecret: schedule a secret's deletion after a recovery window, or delete it at once.
import type { DeleteSecretRequest, DeleteSecretResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { markedForDeletion, notPermittedOnReplica, secretNotFound, stillHasReplicas } from "./errors";
import { isReplica, newSecretArn } from "./secret";

const DAY_MS = 24 * 3600 * 1000;
/** "If you don't use either, then by default Secrets Manager uses a 30 day recovery window." */
const DEFAULT_RECOVERY_WINDOW_DAYS = 30;
const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/;

// The window's 7–30 range and its conflict with ForceDeleteWithoutRecovery are checked before this runs
// (validation-overlay.ts), in that order, as AWS does.
export const deleteSecret: Operation<DeleteSecretRequest, DeleteSecretResponse> = async (input, ctx) => {
  const secretId = input.SecretId ?? "";
  const force = input.ForceDeleteWithoutRecovery === true;
  const secrets = ctx.secrets.secrets;
  const secret = await secrets.find(ctx.scope, secretId);
  if (secret === undefined) {
    // "If you forcibly delete an already deleted or nonexistent secret, the operation does not return
    // ResourceNotFoundException": AWS answers as for a secret it deleted, with a Name, an ARN and the date, so the
    // answer does not tell whether the secret existed. The ARN is the one given, or a fresh one for the name.
    if (!force) throw secretNotFound();
    const arn = SECRET_ARN.exec(secretId);
    if (arn !== null) return { ARN: secretId, Name: arn[1], DeletionDate: ctx.now };
    return { ARN: newSecretArn(ctx.scope, secretId), Name: secretId, DeletionDate: ctx.now };
  }
  if (isReplica(secret, ctx.scope.region)) throw notPermittedOnReplica();
  // "You can't delete a primary secret that is replicated to other Regions."
  if (secret.replicas.length > 0) throw stillHasReplicas(secret.arn, secret.replicas.map((replica) => replica.region));

  if (force) {
    // Allowed on a secret already scheduled (moto#8638: AWS force-deletes a scheduled secret).
    await secrets.purge(ctx.scope, secret.name, secret.arn);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: ctx.now };
  }
  // Scheduling again is refused with the scheduled-secret error; which text AWS uses here was not found.
  if (secret.deletedAt !== undefined) throw markedForDeletion();

  const now = ctx.now.getTime();
  const due = now + (input.RecoveryWindowInDays ?? DEFAULT_RECOVERY_WINDOW_DAYS) * DAY_MS;
  const scheduled = await secrets.update(ctx.scope, secret.name, (current) => {
    if (current.arn !== secret.arn) throw secretNotFound();
    if (current.deletedAt !== undefined) throw markedForDeletion();
    if (current.replicas.length > 0) throw stillHasReplicas(current.arn, current.replicas.map((replica) => replica.region));
    return { secret: { ...current, deletedAt: now, deletionDueAt: due, lastChangedAt: now } };
  });
  return { ARN: scheduled.arn, Name: scheduled.name, DeletionDate: new Date(due) };
};
