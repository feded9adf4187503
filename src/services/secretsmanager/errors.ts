// The Secrets Manager error catalog: every error its operations throw, with AWS's texts and where each was seen.
import { AwsError } from "../../errors";

// Sources named below: "LS-AWS" = LocalStack's AWS-recorded snapshots (tests/aws/services/secretsmanager/
// test_secretsmanager.snapshot.json); "moto-AWS" = moto tests marked aws_verified; "captured" = a real answer
// quoted in an issue. Texts without a source are our wording in AWS's style and say so.

// --- Finding secrets and values -------------------------------------------------------------------------------

/** LS-AWS (GetSecretValue, ListSecretVersionIds). */
export const secretNotFound = (): AwsError =>
  new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");

/** LS-AWS test_secret_version_not_found. */
export const secretValueNotFoundForStage = (stage: string): AwsError =>
  new AwsError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for staging label: ${stage}`);

/** LS-AWS test_secret_version_not_found. */
export const secretValueNotFoundForVersion = (versionId: string): AwsError =>
  new AwsError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);

/** LS-AWS test_get_secret_value_errors: an InvalidRequestException, not a ResourceNotFoundException. */
export const versionAndStageDisagree = (): AwsError =>
  new AwsError("InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId.");

// --- Names, tokens and values ---------------------------------------------------------------------------------

/** LS-AWS and moto-AWS test_create_duplicate_secret_without_specifying_token. */
export const secretExists = (name: string): AwsError =>
  new AwsError("ResourceExistsException", `The operation failed because the secret ${name} already exists.`);

/** LS-AWS test_exp_raised_on_creation_of_secret_scheduled_for_deletion. */
export const nameScheduledForDeletion = (): AwsError =>
  new AwsError(
    "InvalidRequestException",
    "You can't create this secret because a secret with this name is already scheduled for deletion.",
  );

/**
 * A ClientRequestToken already used by a version whose value differs: moto-AWS (CreateSecret, PutSecretValue
 * and UpdateSecret all answer this).
 */
export const tokenReusedWithOtherValue = (token: string, secretArn: string): AwsError =>
  new AwsError(
    "ResourceExistsException",
    `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secretArn}.`,
  );

/**
 * A raw request that carries a value but no ClientRequestToken (the SDKs and the CLI always fill one in):
 * LS-AWS test_no_client_request_token, for CreateSecret, UpdateSecret and PutSecretValue; checked before the
 * secret is looked up (the recorded calls named secrets that did not exist).
 */
export const clientRequestTokenRequired = (): AwsError =>
  new AwsError("InvalidRequestException", "You must provide a ClientRequestToken value. We recommend a UUID-type value.");

/**
 * RotateSecret sent without ClientRequestToken (only a raw request can: the SDKs and the CLI fill one in). Unlike
 * the value-writing operations above, AWS answers it as an InvalidParameterException; checked before the secret
 * is looked up.
 */
export const rotationTokenRequired = (): AwsError =>
  new AwsError("InvalidParameterException", "You must provide a ClientRequestToken value. We recommend a UUID-type value.");

/** Text as moto and LocalStack give it (no AWS capture found). */
export const bothValues = (): AwsError =>
  new AwsError(
    "InvalidParameterException",
    "You can't specify both a binary secret value and a string secret value in the same secret.",
  );

/** PutSecretValue with neither SecretString nor SecretBinary; text as moto and LocalStack give it (no AWS capture found). */
export const valueRequired = (): AwsError =>
  new AwsError("InvalidRequestException", "You must provide either SecretString or SecretBinary.");

// --- Secret state ---------------------------------------------------------------------------------------------

/**
 * Captured (external-secrets#114, terraform-provider-aws handling it for GetSecretValue, UpdateSecret and
 * DeleteResourcePolicy). Every operation that reads or changes a secret scheduled for deletion answers it,
 * except DescribeSecret, ListSecretVersionIds and RestoreSecret, whose models do not list InvalidRequestException.
 */
export const markedForDeletion = (): AwsError =>
  new AwsError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.");

/** Captured (gruntwork-io/cloud-nuke#435, rebuy-de/aws-nuke#1127), for DeleteSecret and changes made in a replica's region. */
export const notPermittedOnReplica = (): AwsError =>
  new AwsError(
    "InvalidParameterException",
    "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
  );

/** Captured (rebuy-de/aws-nuke#1127 from CloudTrail, cloud-nuke#435): regions comma-separated in brackets. */
export const stillHasReplicas = (secretArn: string, regions: readonly string[]): AwsError =>
  new AwsError(
    "InvalidParameterException",
    `You can't delete secret ${secretArn} that still has replica regions [${regions.join(", ")}].`,
  );

/**
 * CreateSecret's AddReplicaRegions, or ReplicateSecretToRegions, naming the secret's own region: AWS's text, which
 * does not name the region.
 */
export const replicaInPrimaryRegion = (): AwsError => new AwsError("InvalidParameterException", "Invalid replica region.");

// --- Staging labels -------------------------------------------------------------------------------------------

/** moto-AWS test_update_secret_version_stage_dont_specify_current_stage; also quoted in terraform-provider-aws's changelog. */
export const removeFromVersionIdRequired = (stage: string, holderVersionId: string): AwsError =>
  new AwsError(
    "InvalidParameterException",
    `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holderVersionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
  );

/** RemoveFromVersionId naming a version other than the label's holder. Wording from floci; no AWS capture found. */
export const removeFromVersionIdMismatch = (stage: string): AwsError =>
  new AwsError(
    "InvalidParameterException",
    `When you move staging label ${stage}, if you specify RemoveFromVersionId, it must be set to the version that currently has the staging label ${stage}.`,
  );

/** Removing a label from a version that does not carry it. moto's wording; no AWS capture found. */
export const stageNotOnVersion = (stage: string, versionId: string): AwsError =>
  new AwsError("InvalidParameterException", `Version stage ${stage} not found in version ${versionId}`);

/** MoveToVersionId naming no version of the secret. moto's wording; no AWS capture found. */
export const notAValidVersion = (versionId: string): AwsError =>
  new AwsError("InvalidParameterException", `Not a valid version: ${versionId}`);

/** UpdateSecretVersionStage with neither version id. Our wording: no AWS text was found. */
export const versionIdRequired = (): AwsError =>
  new AwsError("InvalidParameterException", "You must specify MoveToVersionId, RemoveFromVersionId, or both.");

/**
 * Removing AWSCURRENT without moving it: a secret with versions always has a current one (the rotation guide:
 * AWSCURRENT can only be moved). Our wording: no AWS text was found.
 */
export const currentCannotBeRemoved = (): AwsError =>
  new AwsError(
    "InvalidParameterException",
    "You can't remove the staging label AWSCURRENT from a version without moving it to another version.",
  );

/**
 * More labels on one version than the model's SecretVersionStagesType allows (20). LimitExceededException is
 * what the model lists for quotas; the wording is ours.
 */
export const tooManyStages = (versionId: string, max: number): AwsError =>
  new AwsError("LimitExceededException", `Version ${versionId} can't have more than ${max} staging labels.`);

/** ListSecretVersionIds' NextToken not one we issued. Our wording: no AWS text was found. */
export const invalidNextToken = (): AwsError => new AwsError("InvalidNextTokenException", "The NextToken value is invalid.");

// --- KMS ------------------------------------------------------------------------------------------------------
//
// How a KMS refusal surfaces, by the state of the secret's key (each is tested in kms-keys.spec.ts):
//   disabled or pending deletion (KMS: DisabledException, KMSInvalidStateException)
//       writes → EncryptionFailure, reads → DecryptionFailure: the model's own descriptions of those two errors
//       ("Check that the KMS key is available, enabled, and not in an invalid state").
//   destroyed (KMS: AccessDeniedException for a ciphertext naming a key that no longer exists)
//       reads → AccessDeniedException "Access to KMS is not allowed", the text AWS gives whenever KMS refuses
//       Secrets Manager access (captured: aws-cdk#7677, external-secrets#838, awsdocs/aws-kms-developer-guide#36).
//   missing or never existed (KMS: NotFoundException), when naming a key for a write
//       → InvalidParameterException "The operation failed because of an invalid KMS key: <KMS's reason>"
//       (captured: terraform-provider-aws#13303 "…invalid KMS key: Invalid keyId"; "…: Invalid arn us-west-2").

export const encryptionFailure = (cause?: AwsError): AwsError =>
  new AwsError(
    "EncryptionFailure",
    "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.",
    { cause },
  );

export const decryptionFailure = (cause?: AwsError): AwsError =>
  new AwsError("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.", { cause });

/**
 * LS-AWS test_cross_account_access (marked AWS-validated): another account reading or writing the value of a secret
 * under aws/secretsmanager, whose key policy admits its own account only (kms:CallerAccount), even though the
 * secret's resource policy lets that account in.
 */
export const crossAccountDefaultKey = (): AwsError =>
  new AwsError(
    "InvalidRequestException",
    "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.",
  );

export const kmsAccessDenied = (cause?: AwsError): AwsError =>
  new AwsError("AccessDeniedException", "Access to KMS is not allowed", { cause });

export const invalidKmsKey = (cause: AwsError): AwsError =>
  new AwsError("InvalidParameterException", `The operation failed because of an invalid KMS key: ${cause.message}`, { cause });

export const internalServiceError = (cause: unknown): AwsError =>
  new AwsError("InternalServiceError", "An error occurred on the server side.", { cause });

// --- Listing, batch reads, tags, passwords, resource policies ---------------------------------------------------

/** A filter without Key or Values. moto's texts (tests/test_secretsmanager/test_list_secrets.py); unconfirmed. */
export const invalidFilterKey = (): AwsError => new AwsError("InvalidParameterException", "Invalid filter key");

export const invalidFilterValues = (key: string): AwsError =>
  new AwsError("InvalidParameterException", `Invalid filter values for key: ${key}`);

/** BatchGetSecretValue's two selectors. moto's texts (models.py batch_get_secret_value); unconfirmed. */
export const idsOrFilters = (): AwsError =>
  new AwsError("InvalidParameterException", "Either 'SecretIdList' or 'Filters' must be provided, but not both.");

export const maxResultsNeedsFilters = (): AwsError =>
  new AwsError("InvalidParameterException", "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");

/** Captured for TagResource (cloud-custodian/cloud-custodian#9093): "You can't modify system tags. Tag key: 'aws:cloudformation:stack-name'." */
export const systemTag = (key: string): AwsError =>
  new AwsError("InvalidParameterException", `You can't modify system tags. Tag key: '${key}'.`);

/** "Maximum number of tags per secret: 50" (API_TagResource). The wording is ours: no AWS capture was found. */
export const tooManyTags = (max: number): AwsError =>
  new AwsError("InvalidParameterException", `A secret can't have more than ${max} tags.`);

/** moto's text, copied from an AWS answer by its shape ("…when calling the GetRandomPassword operation: …"); unconfirmed. */
export const passwordTooShort = (): AwsError =>
  new AwsError("InvalidParameterException", "Password length is too short based on the required types.");

/** Every character excluded. The wording is ours: no AWS capture was found. */
export const noPasswordCharacters = (): AwsError =>
  new AwsError("InvalidParameterException", "The password can't be generated because every character is excluded.");

/** Captured (awsdocs/aws-cloudformation-user-guide#623): "This policy has invalid syntax. (… Error Code: MalformedPolicyDocumentException …)". */
export const malformedPolicy = (): AwsError => new AwsError("MalformedPolicyDocumentException", "This policy has invalid syntax.");

/**
 * A principal the policy names that IAM does not know (only checked under --enforce-auth, where the principals file
 * says who exists). The terraform provider retries on this text while a new role propagates; the user guide lists it
 * under "Invalid Principal Policy JSON".
 */
export const unsupportedPrincipal = (): AwsError =>
  new AwsError("MalformedPolicyDocumentException", "This resource policy contains an unsupported principal.");

/** No AWS capture was found: the text is the model's description of PublicPolicyException. */
export const publicPolicy = (): AwsError =>
  new AwsError(
    "PublicPolicyException",
    "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
  );

// --- Rotation and replication ----------------------------------------------------------------------------------

/** Captured (terraform-provider-aws and CDK users quoting RotateSecret; moto and LocalStack give the same). */
export const noRotationFunction = (): AwsError =>
  new AwsError("InvalidRequestException", "No Lambda rotation function ARN is associated with this secret.");

/**
 * Captured (AWS ParallelCluster's "Recover from a stranded pending version", terraform-provider-aws's acceptance
 * tests): AWSPENDING on a version other than AWSCURRENT's blocks RotateSecret.
 */
export const previousRotationIncomplete = (): AwsError =>
  new AwsError("InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.");

/**
 * Captured (terraform-provider-aws retries RotateSecret on it; CloudFormation stacks failing with it): AWS checks
 * that it may invoke the function before RotateSecret answers. Not in the model's error list.
 */
export const cannotInvokeRotationFunction = (): AwsError =>
  new AwsError(
    "AccessDeniedException",
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
  );

/**
 * CancelRotateSecret on a secret never given a rotation function: the API reference's InvalidRequestException
 * case for it (moto answers the same); no capture found.
 */
export const noRotationToCancel = (): AwsError =>
  new AwsError(
    "InvalidRequestException",
    "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.",
  );

/** Captured (hashicorp/terraform-provider-aws#33329, #31915). */
export const frequencyAndExpression = (): AwsError =>
  new AwsError("InvalidParameterException", "You cannot specify both rotation frequency and schedule expression together.");

// The five schedule texts below come from one third-party rule set that quotes RotateSecret's answers
// (a CDK preflight policy); no second source was found.

export const invalidScheduleExpression = (): AwsError => new AwsError("InvalidParameterException", "Invalid schedule expression.");

export const hourRateOutOfRange = (): AwsError =>
  new AwsError("InvalidParameterException", "Rate in hour should be least 4 and less than 24.");

export const dayRateOutOfRange = (): AwsError =>
  new AwsError("InvalidParameterException", "Rate in day should be greater than 0 and less than 1000.");

export const durationOutOfRange = (): AwsError =>
  new AwsError("InvalidParameterException", "Duration must be at least 1 hour, at most 24 hour.");

export const durationOverRate = (): AwsError =>
  new AwsError("InvalidParameterException", "Duration cannot be greater than Rate in hour.");

export const durationPastMidnight = (): AwsError =>
  new AwsError("InvalidParameterException", "Starting hour and duration must be within a day.");

/**
 * A replica's StatusMessage when its region already holds a secret of that name: moto's text, which keeps the
 * name "simple" from the AWS answer it was copied from; the real-world "Replication failed: Secret name … is
 * currently replicated to <region> with a different arn" has the same form.
 */
export const replicaNameTaken = (name: string, region: string): string =>
  `Replication failed: Secret name ${name} already exists in region ${region}.`;

/** A replica written and in step; the message Pulumi's and Terraform's docs quote for InSync. */
export const REPLICA_IN_SYNC = "Replication succeeded";

/** A replica KMS refused to seal for. Our wording around KMS's own reason: no AWS text was found. */
export const replicaKmsFailure = (cause: AwsError): string => `Replication failed: ${cause.message}`;

/** Replication across partitions (aws ↔ aws-cn ↔ aws-us-gov), which AWS does not offer. Our wording. */
export const replicaInOtherPartition = (region: string): AwsError =>
  new AwsError("InvalidParameterException", `Invalid replica region: ${region} is in another partition than the secret.`);

/** StopReplicationToReplica on a secret that is not a replica. Our wording: no AWS text was found. */
export const notAReplica = (): AwsError =>
  new AwsError("InvalidRequestException", "This secret is not a replica: StopReplicationToReplica promotes a replica secret in its own Region.");
