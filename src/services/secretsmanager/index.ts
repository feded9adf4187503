// The Secrets Manager operation table: wire operation name → typed operation function, grouped by what they manage.
import { checkingSecretAccess } from "./access";
import type { SecretsManagerOperation } from "../../generated/secretsmanager";
import type { Operation } from "./context";
// Secrets and versions
import { createSecret } from "./create-secret";
import { deleteSecret } from "./delete-secret";
import { describeSecret } from "./describe-secret";
import { getSecretValue } from "./get-secret-value";
import { listSecretVersionIds } from "./list-secret-version-ids";
import { putSecretValue } from "./put-secret-value";
import { restoreSecret } from "./restore-secret";
import { updateSecret } from "./update-secret";
import { updateSecretVersionStage } from "./update-secret-version-stage";
// Listing, batch reads, tags, passwords, resource policies
import { batchGetSecretValue } from "./batch-get-secret-value";
import { deleteResourcePolicy } from "./delete-resource-policy";
import { getRandomPassword } from "./get-random-password";
import { getResourcePolicy } from "./get-resource-policy";
import { listSecrets } from "./list-secrets";
import { putResourcePolicy } from "./put-resource-policy";
import { tagResource } from "./tag-resource";
import { untagResource } from "./untag-resource";
import { validateResourcePolicy } from "./validate-resource-policy";
// Rotation and replication
import { cancelRotateSecret } from "./cancel-rotate-secret";
import { removeRegionsFromReplication } from "./remove-regions-from-replication";
import { replicateSecretToRegions } from "./replicate-secret-to-regions";
import { rotateSecret } from "./rotate-secret";
import { stopReplicationToReplica } from "./stop-replication-to-replica";

/** Every operation is authorized for its caller first (access.ts; --enforce-auth only). */
export const secretsManagerOperations = checkingSecretAccess({
  // Secrets and versions
  CreateSecret: createSecret,
  DescribeSecret: describeSecret,
  UpdateSecret: updateSecret,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  ListSecretVersionIds: listSecretVersionIds,
  UpdateSecretVersionStage: updateSecretVersionStage,
  // Listing, batch reads, tags, passwords, resource policies
  ListSecrets: listSecrets,
  BatchGetSecretValue: batchGetSecretValue,
  TagResource: tagResource,
  UntagResource: untagResource,
  GetRandomPassword: getRandomPassword,
  PutResourcePolicy: putResourcePolicy,
  GetResourcePolicy: getResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
  ValidateResourcePolicy: validateResourcePolicy,
  // Rotation and replication
  RotateSecret: rotateSecret,
  CancelRotateSecret: cancelRotateSecret,
  ReplicateSecretToRegions: replicateSecretToRegions,
  RemoveRegionsFromReplication: removeRegionsFromReplication,
  StopReplicationToReplica: stopReplicationToReplica,
} satisfies Record<SecretsManagerOperation, Operation>);
