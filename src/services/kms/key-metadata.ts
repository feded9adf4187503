// DescribeKey's KeyMetadata (also CreateKey's answer) for a stored key record, and the algorithm lists GetPublicKey shares.
import type { KeyMetadata } from "@aws-sdk/client-kms";
import { nextMaterialExpiry } from "./key-material";
import type { KmsKeyRecord } from "./key-record";

const dateOf = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));
import { KEY_SPECS } from "./key-specs";
import { multiRegionConfiguration } from "./multi-region";

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
    DeletionDate: key.deletionDate === undefined ? undefined : new Date(key.deletionDate),
    // "This value is present only when KeyState is PendingReplicaDeletion" (KeyMetadata.PendingDeletionWindowInDays).
    PendingDeletionWindowInDays: key.keyState === "PendingReplicaDeletion" ? key.pendingWindowDays : undefined,
    Origin: key.origin,
    // "Present only when Origin is EXTERNAL"; nothing to say before material is imported.
    ExpirationModel: key.origin === "EXTERNAL" ? key.expirationModel : undefined,
    // "The earliest time at which any imported key material permanently associated with this KMS key expires."
    ValidTo: key.origin === "EXTERNAL" && key.expirationModel === "KEY_MATERIAL_EXPIRES" ? dateOf(nextMaterialExpiry(key)) : undefined,
    KeyManager: key.keyManager,
    // The deprecated member's enum stops before Ed25519 and ML-DSA, so it cannot name those specs.
    CustomerMasterKeySpec: KEY_SPECS[key.keySpec].customerMasterKeySpec ? (key.keySpec as KeyMetadata["CustomerMasterKeySpec"]) : undefined,
    KeySpec: key.keySpec,
    ...algorithmLists(key),
    MultiRegion: key.multiRegion,
    MultiRegionConfiguration: multiRegionConfiguration(key),
    CurrentKeyMaterialId: current?.id,
    CustomKeyStoreId: key.customKeyStore?.id,
    CloudHsmClusterId: key.customKeyStore?.xksKeyId === undefined ? key.customKeyStore?.clusterId : undefined,
    // "appears in a CreateKey or DescribeKey response only for a KMS key in an external key store" (XksKeyConfigurationType).
    XksKeyConfiguration: key.customKeyStore?.xksKeyId === undefined ? undefined : { Id: key.customKeyStore.xksKeyId },
  };
}
