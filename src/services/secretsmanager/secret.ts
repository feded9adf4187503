// Secret: the stored secret record, its ARN, and how a SecretId (name, full ARN, partial ARN) resolves to it.
import { randomInt } from "node:crypto";
import { recordKey } from "../../storage/keys";
import type { Store, StoredValue } from "../../storage/store";
import type { Scope } from "../scope";

export const AWSCURRENT = "AWSCURRENT";
export const AWSPREVIOUS = "AWSPREVIOUS";
export const AWSPENDING = "AWSPENDING";

/** A version as the secret record knows it: its labels and dates; the sealed value lives apart. */
export interface VersionSummary {
  readonly stages: readonly string[];
  readonly createdAt: number;
  /** Midnight UTC of the last day the version was read, in ms; AWS keeps LastAccessedDate per day. */
  readonly lastAccessedDay: number | undefined;
  /** ARNs of the KMS keys the version's data key is sealed under (more than one after a key change). */
  readonly kmsKeyArns: readonly string[];
  /**
   * The same keys as ListSecretVersionIds names them, index for index with kmsKeyArns: AWS shows
   * "DefaultEncryptionKey" for the AWS managed aws/secretsmanager key. Absent on records written before it
   * existed; the ARNs are shown then.
   */
  readonly kmsKeyIds?: readonly string[];
}

export interface RotationRules {
  readonly AutomaticallyAfterDays?: number;
  readonly Duration?: string;
  readonly ScheduleExpression?: string;
}

export interface RotationConfig {
  readonly enabled: boolean;
  readonly lambdaArn: string | undefined;
  readonly rules: RotationRules | undefined;
  readonly lastRotatedAt: number | undefined;
  readonly nextRotationAt: number | undefined;
  /** RotateSecret's ExternalSecretRotationMetadata (managed external secrets), as given. */
  readonly externalMetadata?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  /** RotateSecret's ExternalSecretRotationRoleArn. */
  readonly externalRoleArn?: string;
}

/** A replica of this secret in another region of the account (kept on the primary). */
export interface ReplicaRecord {
  readonly region: string;
  /** As the caller gave it; undefined means that region's default key. */
  readonly kmsKeyId: string | undefined;
  readonly status: "InSync" | "Failed" | "InProgress";
  readonly statusMessage: string | undefined;
  readonly lastAccessedDay: number | undefined;
  /** CreateSecret's or ReplicateSecretToRegions' ForceOverwriteReplicaSecret, for whoever completes the replica. */
  readonly forceOverwrite?: boolean;
}

export interface SecretRecord extends StoredValue {
  readonly v: 1;
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  /** As the caller gave it; undefined means the default `aws/secretsmanager` key. */
  readonly kmsKeyId: string | undefined;
  /** The model's `Type` (MedeaTypeType), stored as given. */
  readonly type: string | undefined;
  readonly createdAt: number;
  readonly lastChangedAt: number;
  readonly lastAccessedDay: number | undefined;
  /** When DeleteSecret was called (AWS's DeletedDate); undefined while the secret is live. */
  readonly deletedAt: number | undefined;
  /** When a scheduled deletion falls due: deletedAt plus the recovery window. */
  readonly deletionDueAt: number | undefined;
  readonly tags: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  /**
   * Set once UntagResource removed the last tag: AWS then shows `"Tags": []`, where a secret never tagged has no
   * Tags member at all. Absent on every other record.
   */
  readonly tagsCleared?: true;
  readonly versions: Readonly<Record<string, VersionSummary>>;
  readonly rotation: RotationConfig | undefined;
  readonly resourcePolicy: string | undefined;
  readonly owningService: string | undefined;
  /** Set on a replica: the region of its primary. */
  readonly primaryRegion: string | undefined;
  /** Set on a primary: its replicas. */
  readonly replicas: readonly ReplicaRecord[];
}

export const secretKey = (scope: Scope, name: string): string => recordKey(scope, "secretsmanager", "secret", name);

const SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** AWS appends a hyphen and six random characters to the name, so a re-created name gets a new ARN. */
export function newSecretArn(scope: Scope, name: string): string {
  let suffix = "";
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.account}:secret:${name}-${suffix}`;
}

const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:(.+)$/;
const FULL_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * Finds a secret by name, then full ARN, then partial ARN, as AWS resolves SecretId. The raw lookup: operations go
 * through Secrets.find, which also treats a secret past its recovery window as gone.
 */
export async function findSecret(store: Store, scope: Scope, secretId: string): Promise<SecretRecord | undefined> {
  const byName = await store.get<SecretRecord>(secretKey(scope, secretId));
  if (byName !== undefined) return byName;
  const arn = SECRET_ARN.exec(secretId);
  if (arn === null) return undefined;
  const [, partition, region, account, resource = ""] = arn;
  if (partition !== scope.partition || region !== scope.region || account !== scope.account) return undefined;
  if (FULL_ARN_SUFFIX.test(resource)) {
    const full = await store.get<SecretRecord>(secretKey(scope, resource.slice(0, -7)));
    if (full !== undefined && full.arn === secretId) return full;
  }
  const partial = await store.get<SecretRecord>(secretKey(scope, resource));
  return partial;
}

/** The version id carrying `stage`, if any. */
export function versionWithStage(secret: SecretRecord, stage: string): string | undefined {
  for (const [versionId, summary] of Object.entries(secret.versions)) {
    if (summary.stages.includes(stage)) return versionId;
  }
  return undefined;
}

export const utcDay = (date: Date): number => Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());

/** The members DescribeSecret and a ListSecrets entry share, from one secret record. */
export function describeFields(secret: SecretRecord) {
  const rotation = secret.rotation;
  return {
    ARN: secret.arn,
    Name: secret.name,
    Type: secret.type,
    Description: secret.description,
    // AWS omits KmsKeyId for a secret under the default key.
    KmsKeyId: secret.kmsKeyId,
    RotationEnabled: rotation?.enabled,
    RotationLambdaARN: rotation?.lambdaArn,
    RotationRules: rotation?.rules,
    ExternalSecretRotationMetadata: rotation?.externalMetadata?.map((item) => ({ Key: item.Key, Value: item.Value })),
    ExternalSecretRotationRoleArn: rotation?.externalRoleArn,
    LastRotatedDate: rotation?.lastRotatedAt === undefined ? undefined : new Date(rotation.lastRotatedAt),
    NextRotationDate: rotation?.enabled && rotation.nextRotationAt !== undefined ? new Date(rotation.nextRotationAt) : undefined,
    LastChangedDate: new Date(secret.lastChangedAt),
    LastAccessedDate: secret.lastAccessedDay === undefined ? undefined : new Date(secret.lastAccessedDay),
    DeletedDate: secret.deletedAt === undefined ? undefined : new Date(secret.deletedAt),
    Tags: secret.tags.length === 0 ? (secret.tagsCleared ? [] : undefined) : secret.tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })),
    OwningService: secret.owningService,
    CreatedDate: new Date(secret.createdAt),
    PrimaryRegion: secret.primaryRegion,
  };
}

/** Version id → its labels, for the versions that have any (deprecated versions are left out, as AWS does). */
export function versionsToStages(secret: SecretRecord): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [versionId, summary] of Object.entries(secret.versions)) {
    if (summary.stages.length > 0) out[versionId] = [...summary.stages];
  }
  return out;
}

/** Whether the secret's recovery window has ended: from then on it is gone, whether or not it was purged yet. */
export const deletionDue = (secret: SecretRecord, nowMs: number): boolean =>
  secret.deletionDueAt !== undefined && secret.deletionDueAt <= nowMs;

/**
 * A replica lives in another region than its primary. Checked against the caller's region too, so a primary
 * that records its own region as PrimaryRegion (as AWS shows it once replicated) is not taken for a replica.
 */
export const isReplica = (secret: SecretRecord, region: string): boolean =>
  secret.primaryRegion !== undefined && secret.primaryRegion !== region;

/**
 * Labels in code-point order: AWS answers PutSecretValue's VersionStages ["one","two","three"] with
 * ["one","three","two"] and lists moved labels in that order too (LocalStack's AWS-recorded snapshots).
 */
export const sortedStages = (stages: Iterable<string>): string[] => [...new Set(stages)].sort();

/** The ReplicationStatus members DescribeSecret and CreateSecret show; undefined without replicas, as AWS leaves it out. */
export function replicationStatus(secret: SecretRecord) {
  if (secret.replicas.length === 0) return undefined;
  return secret.replicas.map((replica) => ({
    Region: replica.region,
    KmsKeyId: replica.kmsKeyId,
    Status: replica.status,
    StatusMessage: replica.statusMessage,
    LastAccessedDate: replica.lastAccessedDay === undefined ? undefined : new Date(replica.lastAccessedDay),
  }));
}
