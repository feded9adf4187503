// The KMS operation table: wire operation name → typed operation function, grouped by what they manage.
import type { KmsOperation } from "../../generated/kms";
import type { Operation } from "./context";
import { checkingAccess } from "./access";
import { checkingGrantTokens } from "./grant-tokens";
// Keys: lifecycle, states, rotation
import { createKey } from "./create-key";
import { deleteImportedKeyMaterial } from "./delete-imported-key-material";
import { getParametersForImport } from "./get-parameters-for-import";
import { importKeyMaterial } from "./import-key-material";
import { describeKey } from "./describe-key";
import { disableKey } from "./disable-key";
import { enableKey } from "./enable-key";
import { getKeyLastUsage } from "./get-key-last-usage";
import { cancelKeyDeletion } from "./cancel-key-deletion";
import { disableKeyRotation } from "./disable-key-rotation";
import { enableKeyRotation } from "./enable-key-rotation";
import { getKeyRotationStatus } from "./get-key-rotation-status";
import { listKeyRotations } from "./list-key-rotations";
import { listKeys } from "./list-keys";
import { replicateKey } from "./replicate-key";
import { rotateKeyOnDemand } from "./rotate-key-on-demand";
import { scheduleKeyDeletion } from "./schedule-key-deletion";
import { updateKeyDescription } from "./update-key-description";
import { updatePrimaryRegion } from "./update-primary-region";
// Aliases, tags, key policies
import { createAlias } from "./create-alias";
import { deleteAlias } from "./delete-alias";
import { getKeyPolicy } from "./get-key-policy";
import { listAliases } from "./list-aliases";
import { listKeyPolicies } from "./list-key-policies";
import { listResourceTags } from "./list-resource-tags";
import { putKeyPolicy } from "./put-key-policy";
import { tagResource } from "./tag-resource";
import { untagResource } from "./untag-resource";
import { updateAlias } from "./update-alias";
// Grants
import { createGrant } from "./create-grant";
import { listGrants } from "./list-grants";
import { listRetirableGrants } from "./list-retirable-grants";
import { retireGrant } from "./retire-grant";
import { revokeGrant } from "./revoke-grant";
// Custom key stores
import { connectCustomKeyStore } from "./connect-custom-key-store";
import { createCustomKeyStore } from "./create-custom-key-store";
import { deleteCustomKeyStore } from "./delete-custom-key-store";
import { describeCustomKeyStores } from "./describe-custom-key-stores";
import { disconnectCustomKeyStore } from "./disconnect-custom-key-store";
import { updateCustomKeyStore } from "./update-custom-key-store";
// Cryptographic operations
import { decrypt } from "./decrypt";
import { deriveSharedSecret } from "./derive-shared-secret";
import { encrypt } from "./encrypt";
import { generateDataKey } from "./generate-data-key";
import { generateDataKeyPair } from "./generate-data-key-pair";
import { generateDataKeyPairWithoutPlaintext } from "./generate-data-key-pair-without-plaintext";
import { generateDataKeyWithoutPlaintext } from "./generate-data-key-without-plaintext";
import { generateMac } from "./generate-mac";
import { generateRandom } from "./generate-random";
import { getPublicKey } from "./get-public-key";
import { reEncrypt } from "./re-encrypt";
import { verifyMac } from "./verify-mac";
import { sign } from "./sign";
import { verify } from "./verify";

/** Every operation is authorized for its caller first (access.ts, --enforce-auth only), then its GrantTokens are checked (grant-tokens.ts). */
export const kmsOperations = checkingAccess(checkingGrantTokens({
  // Keys: lifecycle, states, rotation
  CreateKey: createKey,
  DescribeKey: describeKey,
  DisableKey: disableKey,
  EnableKey: enableKey,
  GetKeyLastUsage: getKeyLastUsage,
  CancelKeyDeletion: cancelKeyDeletion,
  DisableKeyRotation: disableKeyRotation,
  EnableKeyRotation: enableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  ListKeyRotations: listKeyRotations,
  ListKeys: listKeys,
  ReplicateKey: replicateKey,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  UpdateKeyDescription: updateKeyDescription,
  // Imported key material (bring your own key)
  GetParametersForImport: getParametersForImport,
  ImportKeyMaterial: importKeyMaterial,
  DeleteImportedKeyMaterial: deleteImportedKeyMaterial,
  // Multi-Region keys
  UpdatePrimaryRegion: updatePrimaryRegion,
  // Aliases, tags, key policies
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
  GetKeyPolicy: getKeyPolicy,
  ListAliases: listAliases,
  ListKeyPolicies: listKeyPolicies,
  ListResourceTags: listResourceTags,
  PutKeyPolicy: putKeyPolicy,
  TagResource: tagResource,
  UntagResource: untagResource,
  UpdateAlias: updateAlias,
  // Grants
  CreateGrant: createGrant,
  ListGrants: listGrants,
  ListRetirableGrants: listRetirableGrants,
  RetireGrant: retireGrant,
  RevokeGrant: revokeGrant,
  // Custom key stores
  ConnectCustomKeyStore: connectCustomKeyStore,
  CreateCustomKeyStore: createCustomKeyStore,
  DeleteCustomKeyStore: deleteCustomKeyStore,
  DescribeCustomKeyStores: describeCustomKeyStores,
  DisconnectCustomKeyStore: disconnectCustomKeyStore,
  UpdateCustomKeyStore: updateCustomKeyStore,
  // Cryptographic operations
  Decrypt: decrypt,
  DeriveSharedSecret: deriveSharedSecret,
  Encrypt: encrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyPair: generateDataKeyPair,
  GenerateDataKeyPairWithoutPlaintext: generateDataKeyPairWithoutPlaintext,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateMac: generateMac,
  GenerateRandom: generateRandom,
  GetPublicKey: getPublicKey,
  ReEncrypt: reEncrypt,
  VerifyMac: verifyMac,
  Sign: sign,
  Verify: verify,
} satisfies Record<KmsOperation, Operation>));
