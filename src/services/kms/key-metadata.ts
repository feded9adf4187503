// DescribeKey's KeyMetadata (also CreateKey's answer) for a stored key record.
import type { KeyMetadata } from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "./key-record";

export function keyMetadata(key: KmsKeyRecord): KeyMetadata {
  const current = key.backingKeys[key.backingKeys.length - 1];
  return {
    AWSAccountId: key.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: new Date(key.createdAt),
    Enabled: key.keyState === "Enabled",
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.keyState,
    // PendingDeletionWindowInDays is only for multi-Region primaries in PendingReplicaDeletion; secretslite
    // has no replicas, so a scheduled key always shows its DeletionDate instead.
    DeletionDate: key.deletionDate === undefined ? undefined : new Date(key.deletionDate),
    Origin: key.origin,
    // "Present only when Origin is EXTERNAL"; nothing to say before material is imported.
    ExpirationModel: key.origin === "EXTERNAL" ? key.expirationModel : undefined,
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: key.multiRegion,
    // A multi-Region key names itself as the primary; replicas come with replication.
    MultiRegionConfiguration: key.multiRegion
      ? { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: key.arn, Region: key.arn.split(":")[3] }, ReplicaKeys: [] }
      : undefined,
    CurrentKeyMaterialId: current?.id,
  };
}
