// DescribeKey's KeyMetadata (also CreateKey's answer) for a stored key record, and the algorithm lists GetPublicKey shares.
import type { KeyMetadata } from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "./key-record";
import { KEY_SPECS } from "./key-specs";

export type AlgorithmLists = Pick<KeyMetadata, "EncryptionAlgorithms" | "SigningAlgorithms" | "MacAlgorithms" | "KeyAgreementAlgorithms">;

/** The one list the key's usage calls for, from the key-spec table; the other three are absent, as AWS leaves them out. */
export function algorithmLists(key: Pick<KmsKeyRecord, "keySpec" | "keyUsage">): AlgorithmLists {
  const usages = KEY_SPECS[key.keySpec].usages;
  switch (key.keyUsage) {
    case "ENCRYPT_DECRYPT":
      return { EncryptionAlgorithms: [...(usages.ENCRYPT_DECRYPT ?? [])] };
    case "SIGN_VERIFY":
      return { SigningAlgorithms: [...(usages.SIGN_VERIFY ?? [])] };
    case "GENERATE_VERIFY_MAC":
      return { MacAlgorithms: [...(usages.GENERATE_VERIFY_MAC ?? [])] };
    case "KEY_AGREEMENT":
      return { KeyAgreementAlgorithms: [...(usages.KEY_AGREEMENT ?? [])] };
  }
}

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
    // The deprecated member's enum stops before Ed25519 and ML-DSA, so it cannot name those specs.
    CustomerMasterKeySpec: KEY_SPECS[key.keySpec].customerMasterKeySpec ? (key.keySpec as KeyMetadata["CustomerMasterKeySpec"]) : undefined,
    KeySpec: key.keySpec,
    ...algorithmLists(key),
    MultiRegion: key.multiRegion,
    // A multi-Region key names itself as the primary; replicas come with replication.
    MultiRegionConfiguration: key.multiRegion
      ? { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: key.arn, Region: key.arn.split(":")[3] }, ReplicaKeys: [] }
      : undefined,
    CurrentKeyMaterialId: current?.id,
    CustomKeyStoreId: key.customKeyStore?.id,
    CloudHsmClusterId: key.customKeyStore?.clusterId,
  };
}
