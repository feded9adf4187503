// The KMS error catalog: every error KMS operations throw, with AWS's texts.
import { AwsError } from "../../errors";

export const invalidKeyId = (keyId: string): AwsError => new AwsError("NotFoundException", `Invalid keyId '${keyId}'`);

export const keyNotFound = (keyArn: string): AwsError =>
  new AwsError("NotFoundException", `Key '${keyArn}' does not exist`);

/**
 * A key ARN of another region than the request's. AWS's text names only that region: "Invalid arn us-west-1"
 * (nakedible/openssl-engine-kms#1), "Invalid arn us-east-1" (pulumi/pulumi#17022), both from a client whose region
 * and key ARN disagreed.
 */
export const invalidArnRegion = (region: string): AwsError => new AwsError("NotFoundException", `Invalid arn ${region}`);

/** No quotes around the ARN here, unlike the key texts (sigstore/cosign#1474 quotes AWS's answer). */
export const aliasNotFound = (aliasArn: string): AwsError =>
  new AwsError("NotFoundException", `Alias ${aliasArn} is not found.`);

/**
 * Operations that manage one key (GetKeyPolicy, EnableKey, TagResource…) refuse alias names and alias
 * ARNs with this; the text is quoted from AWS in several public CLI transcripts.
 */
export const aliasesNotSupported = (): AwsError =>
  new AwsError("InvalidArnException", "Key Aliases are not supported for this operation.");

export const disabled = (keyArn: string): AwsError => new AwsError("DisabledException", `${keyArn} is disabled.`);

export const invalidState = (message: string): AwsError => new AwsError("KMSInvalidStateException", message);

export const invalidKeyUsage = (message: string): AwsError => new AwsError("InvalidKeyUsageException", message);

/** AWS sends InvalidCiphertextException without a message for every ciphertext it cannot open. */
export const invalidCiphertext = (): AwsError => new AwsError("InvalidCiphertextException", "");

export const incorrectKey = (): AwsError =>
  new AwsError(
    "IncorrectKeyException",
    "The key ID in the request does not identify a CMK that can perform this operation.",
  );

/**
 * What AWS answers when a ciphertext names a key that no longer exists (destroyed after its
 * deletion window) or belongs to another account or region.
 */
export const ciphertextKeyNotFound = (): AwsError =>
  new AwsError(
    "AccessDeniedException",
    "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
  );

export const unsupportedOperation = (message: string): AwsError => new AwsError("UnsupportedOperationException", message);

export const dryRunSucceeded = (): AwsError =>
  new AwsError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.");

export const internal = (cause: unknown): AwsError =>
  new AwsError("KMSInternalException", "An internal error occurred.", { cause });

/** Any Recipient: secretslite cannot verify Nitro attestation (see symmetric.ts). Code and text are our choice. */
export const unverifiableAttestation = (): AwsError =>
  new AwsError(
    "ValidationException",
    "The attestation document in Recipient could not be verified: secretslite cannot verify AWS Nitro attestation signatures.",
  );

/** secretslite has no custom key stores, so every CustomKeyStoreId names a missing one. The text is a guess. */
export const customKeyStoreNotFound = (customKeyStoreId: string): AwsError =>
  new AwsError("CustomKeyStoreNotFoundException", `Custom key store '${customKeyStoreId}' does not exist.`);

// Aliases, tags, key policies. Sources for each text are in aliases.ts, tags.ts and key-policy.ts.

export const aliasAlreadyExists = (aliasArn: string): AwsError =>
  new AwsError("AlreadyExistsException", `An alias with the name ${aliasArn} already exists`);

/** AWS sends no message with it (moto's boto-era tests pin the bare `{"__type":"NotAuthorizedException"}`, 400). */
export const reservedAliasName = (): AwsError => new AwsError("NotAuthorizedException", "");

export const aliasTargetIsAlias = (): AwsError =>
  new AwsError("ValidationException", "Aliases must refer to keys. Not aliases");

export const invalidAliasCharacters = (aliasName: string): AwsError =>
  new AwsError("ValidationException", `${aliasName} contains invalid characters for an alias`);

export const aliasTargetMismatch = (message: string): AwsError => new AwsError("ValidationException", message);

export const tagError = (message: string): AwsError => new AwsError("TagException", message);

/** AWS sends MalformedPolicyDocumentException without a message for a policy that is not JSON. */
export const malformedPolicy = (): AwsError => new AwsError("MalformedPolicyDocumentException", "");

export const policyTooLarge = (message: string): AwsError => new AwsError("LimitExceededException", message);

export const policyNotFound = (): AwsError => new AwsError("NotFoundException", "No such policy exists");

export const keySpecConflict = (): AwsError =>
  new AwsError(
    "ValidationException",
    "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
  );

/** CreateKey without a KeyUsage for a spec that has no default (recorded AWS answer). */
export const keyUsageRequired = (): AwsError =>
  new AwsError("ValidationException", "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.");

/** CreateKey with a KeyUsage the spec does not allow: "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048" (recorded AWS answer, no period). */
export const keyUsageMismatch = (keyUsage: string, keySpec: string): AwsError =>
  new AwsError("ValidationException", `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);

/** Footnote [6] of the key-state page: rotation of a key whose material is imported. */
/** Also AWS_CLOUDHSM keys' answer to the rotation operations (a recorded AWS text quoted in crossplane-contrib/provider-aws#2310). */
export const externalOriginUnsupported = (keyArn: string, origin = "EXTERNAL"): AwsError =>
  new AwsError("UnsupportedOperationException", `${keyArn} origin is ${origin} which is not valid for this operation.`);

/**
 * Rotation of a key that is not a symmetric encryption key. AWS's text was not found; this follows the form of the
 * rotation operations' recorded refusal of an EXTERNAL key ("<ARN> origin is EXTERNAL which is not valid for this
 * operation."), naming the key spec instead.
 */
export const specNotRotatable = (keyArn: string, keySpec: string): AwsError =>
  new AwsError("UnsupportedOperationException", `${keyArn} key spec is ${keySpec} which is not valid for this operation.`);

/**
 * RotateKeyOnDemand past the per-key quota (25, not adjustable). The text is LocalStack's, whose KMS tests
 * are recorded against AWS; no AWS capture of it was found.
 */
export const onDemandRotationLimit = (keyArn: string): AwsError =>
  new AwsError(
    "LimitExceededException",
    `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${keyArn}`,
  );

/** AWS's text for this is not published; the model's description of ConflictException stands in for it. */
export const rotationConflict = (): AwsError =>
  new AwsError(
    "ConflictException",
    "The request was rejected because an automatic rotation of this key is currently in progress or scheduled to begin within the next 20 minutes.",
  );

/**
 * The key policy lockout safety check's refusal (CreateKey, PutKeyPolicy; see key-policy.ts). The text as every
 * public capture quotes it, e.g. trussworks/terraform-aws-cloudtrail#178 ("MalformedPolicyDocumentException: The new
 * key policy will not allow you to update the key policy in the future."), and as terraform-provider-aws's
 * TestAccKMSKey_Policy_bypass expects it from AWS.
 */
export const policyLockout = (): AwsError =>
  new AwsError("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.");

// Signing, MACs, RSA encryption, key agreement (issue 10). Texts marked "recorded" are AWS answers quoted in
// ../shared/notes/kms-and-access-facts.md part 1.

/** Verify of a signature that does not verify, or is not a signature at all: sent with an empty message (recorded). */
export const invalidSignature = (): AwsError => new AwsError("KMSInvalidSignatureException", "");

/** VerifyMac of a MAC that does not match: like KMSInvalidSignatureException, without a message. */
export const invalidMac = (): AwsError => new AwsError("KMSInvalidMacException", "");

/** A DIGEST message whose length is not the algorithm's hash length (recorded). */
export const digestLength = (algorithm: string): AwsError =>
  new AwsError("ValidationException", `Digest is invalid length for algorithm ${algorithm}.`);

/** RSA Encrypt (or a ReEncrypt destination) over the OAEP limit (recorded). */
export const rsaPlaintextTooLarge = (algorithm: string, keySpec: string, limitBytes: number): AwsError =>
  new AwsError("ValidationException", `Algorithm ${algorithm} and key spec ${keySpec} cannot encrypt data larger than ${limitBytes} bytes.`);

/** DeriveSharedSecret with a peer key that is not SPKI DER on the key's curve: an empty message (recorded). */
export const invalidPeerPublicKey = (): AwsError => new AwsError("ValidationException", "");

// Sign and Verify

/**
 * A MessageType the signing algorithm does not take: EXTERNAL_MU with a key that is not ML-DSA, DIGEST with ML-DSA,
 * DIGEST with ED25519_SHA_512 or RAW with ED25519_PH_SHA_512. The model states each rule ("ED25519_SHA_512 signing
 * algorithm requires KMS MessageType:RAW", SignRequest.MessageType) but not AWS's answer to breaking it, and no capture
 * of one was found. A bad parameter value is ValidationException throughout KMS, so that is the code; the text is ours
 * and names what the algorithm takes.
 */
export const messageTypeNotValid = (algorithm: string, messageType: string, allowed: readonly string[]): AwsError =>
  new AwsError("ValidationException", `MessageType ${messageType} is not valid for algorithm ${algorithm}. It requires MessageType ${allowed.join(" or ")}.`);

/** An EXTERNAL_MU that is not 64 bytes. Undocumented like messageTypeNotValid; worded as the recorded digestLength text. */
export const externalMuLength = (algorithm: string): AwsError =>
  new AwsError("ValidationException", `External mu is invalid length for algorithm ${algorithm}.`);

// RSA encryption and data key pairs.

/**
 * An EncryptionContext sent with an RSA key (Encrypt, Decrypt, either side of ReEncrypt). The model says only "An
 * encryption context is supported only on operations with symmetric encryption KMS keys"; AWS's error for it is not
 * recorded (no capture found). A request member the key cannot take is a bad parameter, which the KMS guide answers
 * with ValidationException, so that is the code, with the model's sentence as the text. Refusing beats ignoring: a
 * context silently dropped would let a test pass that binds nothing.
 */
export const asymmetricEncryptionContext = (): AwsError =>
  new AwsError("ValidationException", "An encryption context is supported only on operations with symmetric encryption KMS keys.");

/**
 * GenerateDataKey*, GenerateDataKeyPair* with an RSA ENCRYPT_DECRYPT key: they seal with a symmetric key only. AWS's
 * text is not recorded; this takes the form of its recorded key-usage refusal ("<ARN> key usage is ENCRYPT_DECRYPT which
 * is not valid for Verify.") with the key spec in its place, as specNotRotatable does. The code is the model's
 * (InvalidKeyUsageException: the key's material "is incompatible with the API operation").
 */
export const specNotValidFor = (keyArn: string, keySpec: string, operation: string): AwsError =>
  invalidKeyUsage(`${keyArn} key spec is ${keySpec} which is not valid for ${operation}.`);

// --strict-hsm

/**
 * CreateKey (or a seed) of a spec whose private key this key store uses in Node, refused under --strict-hsm at
 * creation, never at first use. secretslite's own text: AWS has no such mode.
 */
export const strictHsmRefusal = (keySpec: string): AwsError =>
  unsupportedOperation(`KeySpec ${keySpec} is not supported by this key store with --strict-hsm: its private key would be used outside the token.`);

// Grants. AWS's texts for these were not found in any capture unless a source is named; the codes are the model's
// (CreateGrantRequest.Operations: "KMS returns a ValidationError exception", sent as ValidationException).

/**
 * A grant token that is not one this server issued, or whose grant is gone (retired, revoked, or its key destroyed).
 * The model's description of InvalidGrantTokenException stands in for the unrecorded text.
 */
export const invalidGrantToken = (): AwsError =>
  new AwsError("InvalidGrantTokenException", "The request was rejected because the specified grant token is not valid.");

/** A GrantId that is not 64 hex characters (the form every AWS grant id has, e.g. the API reference's examples). */
export const invalidGrantId = (grantId: string): AwsError => new AwsError("InvalidGrantIdException", `Invalid grant ID '${grantId}'`);

/** A well-formed GrantId with no grant on the key: worded as keyNotFound. */
export const grantNotFound = (grantId: string, keyArn: string): AwsError =>
  new AwsError("NotFoundException", `Grant '${grantId}' does not exist for key '${keyArn}'`);

export const grantValidation = (message: string): AwsError => new AwsError("ValidationException", message);

/** Recorded: a real AWS answer quoted in ansible/ansible#31960 (2019). */
export const grantOnlyCreateGrant = (): AwsError => grantValidation("Grants must not contain only the CreateGrant operation.");

/**
 * A grant operation the key cannot perform. Worded as the recorded InvalidKeyUsageException texts ("<ARN> key usage is
 * ENCRYPT_DECRYPT which is not valid for Verify."), with the key spec when the spec, not the usage, rules it out.
 */
export const grantOperationNotValid = (keyArn: string, property: "usage" | "spec", value: string, operation: string): AwsError =>
  grantValidation(`${keyArn} key ${property} is ${value} which is not valid for grant operation ${operation}.`);

/** AWS's quotas page: 50,000 grants per KMS key, 500 per grantee principal per key. */
export const grantLimit = (message: string): AwsError => new AwsError("LimitExceededException", message);

// Import

/** GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial on a key that is not EXTERNAL (recorded; see the KMS facts note). */
export const originNotValid = (keyArn: string, origin: string): AwsError =>
  unsupportedOperation(`${keyArn} origin is ${origin} which is not valid for this operation.`);

/**
 * A wrapping key spec or algorithm GetParametersForImport cannot give for this key's material. AWS documents the rules
 * (the model's WrappingAlgorithm and WrappingKeySpec members) but not its error; secretslite answers ValidationException
 * (the request's own parameter is wrong for this key) with the model's sentence for the rule broken.
 */
export const wrappingNotValid = (message: string): AwsError => new AwsError("ValidationException", message);

/** Texts: the model's descriptions of the two exceptions. */
export const expiredImportToken = (): AwsError =>
  new AwsError(
    "ExpiredImportTokenException",
    "The request was rejected because the specified import token is expired. Use GetParametersForImport to get a new import token and public key, use the new public key to encrypt the key material, and then try the request again.",
  );

export const invalidImportToken = (): AwsError =>
  new AwsError("InvalidImportTokenException", "The request was rejected because the provided import token is invalid or is associated with a different KMS key.");

/** The model's IncorrectKeyMaterialException covers material that is invalid, not the one imported before, or not new when new was expected. */
export const incorrectKeyMaterial = (message: string): AwsError => new AwsError("IncorrectKeyMaterialException", message);

/** Recorded AWS response (kms-and-access-facts part 1 item 12). */
export const materialPendingRotation = (newId: string, keyArn: string, pendingId: string): AwsError =>
  invalidState(`New key material (id: ${newId}) cannot be imported into KMS key ${keyArn}, because another key material (id: ${pendingId}) is pending rotation.`);

/**
 * RotateKeyOnDemand on an EXTERNAL key with no PENDING_ROTATION material. The model requires such material; the text is
 * the one floci-io/floci answers with (no AWS capture found), the code KMSInvalidStateException as there.
 */
export const noMaterialPendingRotation = (keyArn: string): AwsError =>
  invalidState(`No available key material pending rotation for the key: ${keyArn}.`);

// Multi-Region keys

/** ReplicateKey, UpdatePrimaryRegion and the rotation operations on a key that is not a multi-Region primary (recorded). */
export const notMultiRegionPrimary = (keyArn: string): AwsError =>
  unsupportedOperation(`${keyArn} is not a multi-region primary key.`);

/** ReplicateKey into a region that already has a key of the set. The code is the model's; the text is ours. */
export const replicaExists = (replicaArn: string): AwsError => new AwsError("AlreadyExistsException", `${replicaArn} already exists.`);

/**
 * A ReplicaRegion or PrimaryRegion that cannot hold a key of this set: "The replica must be in a different Amazon Web
 * Services Region than its primary key …, but in the same Amazon Web Services partition" (ReplicateKeyRequest). AWS's
 * answer is not recorded; a bad parameter value is ValidationException throughout KMS, and the text is ours.
 */
export const invalidSetRegion = (member: "ReplicaRegion" | "PrimaryRegion", region: string, reason: string): AwsError =>
  new AwsError("ValidationException", `${member} ${region} ${reason}`);

// Custom key stores. No AWS texts were recorded for these; each message paraphrases its exception's description in the
// model (CustomKeyStoreInvalidStateException, CustomKeyStoreHasCMKsException, CloudHsmCluster*Exception).

export const customKeyStoreInvalidState = (message: string): AwsError => new AwsError("CustomKeyStoreInvalidStateException", message);

export const customKeyStoreNameInUse = (name: string): AwsError =>
  new AwsError("CustomKeyStoreNameInUseException", `A custom key store named '${name}' already exists in this account and Region.`);

export const customKeyStoreHasKeys = (customKeyStoreId: string): AwsError =>
  new AwsError("CustomKeyStoreHasCMKsException", `Custom key store '${customKeyStoreId}' contains KMS keys; delete them before the custom key store.`);

export const cloudHsmClusterNotFound = (clusterId: string): AwsError =>
  new AwsError("CloudHsmClusterNotFoundException", `CloudHSM cluster '${clusterId}' was not found (secretslite knows only the clusters of --cloudhsm-clusters).`);

export const cloudHsmClusterInUse = (clusterId: string): AwsError =>
  new AwsError("CloudHsmClusterInUseException", `CloudHSM cluster '${clusterId}' is already associated with a custom key store in this account.`);

// External key stores. The messages are those of the XKS proxy API specification's "KMS Considerations" table
// (aws/aws-kms-xksproxy-api-spec, "Error codes"), which names the exception KMS answers for each failure.

export const XKS_MESSAGES = {
  UNREACHABLE: "AWS KMS cannot communicate with the external key store proxy. This might be a transient network issue. If you see this error repeatedly, verify that your external key store proxy is active and is connected to the network, and that its endpoint URI is correct in your external keystore.",
  TLS: "AWS KMS cannot establish a TLS connection to the external key store proxy. Verify the TLS configuration, including its certificate.",
  TIMEOUT: "AWS KMS rejected the request because the external key store proxy did not respond in time. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.",
  MALFORMED: "AWS KMS cannot interpret the response from the external key store proxy. If you see this error repeatedly, report it to your external key store proxy administrator.",
  AuthenticationFailedException: "The external key store proxy rejected the request because it could not authenticate AWS KMS. Verify the XKS proxy authentication credentials for your external key store and update if necessary.",
  InvalidUriPathException: "The external key store proxy rejected the request because of an invalid URI path. Verify the URI path for your external key store and update if necessary.",
  KeyNotFoundException: "The external key associated with this KMS key in an external key store was not found in its external key manager. If the external key ID associated with this KMS key is incorrect, create a new KMS key with the correct external key ID.",
  InvalidStateException: "The external key associated with this KMS key in an external key store is not enabled in the external key manager. Enable the external key in the external key manager and retry the request.",
  InvalidKeyUsageException: "The external key associated with this KMS key in an external key store does not support the requested operation. Enable the operation on the key in your external key manager, and try the request again.",
  InvalidCiphertextException: "The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid.",
  AccessDeniedException: "The external key store proxy denied access to the operation. Verify that the user and the external key are both authorized for this operation, and try the request again.",
  DependencyTimeoutException: "The external key store proxy did not respond to the request in the time allotted. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.",
  ThrottlingException: "The external key store proxy rejected the request due to a very high request rate. Reduce the frequency of your calls using KMS keys in this external key store.",
  UnsupportedOperationException: "The external key store proxy rejected the request because it does not support the requested operation. If you see this error repeatedly, report it to your external key store proxy administrator.",
  InternalException: "The external key store proxy rejected the request because it cannot communicate with the external key manager. Verify that the external key store proxy configuration is correct and that the external key manager is available.",
  NOT_CONNECTED: "This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again.",
} as const;

export const xksMessage = (kind: string): string => (XKS_MESSAGES as Record<string, string>)[kind] ?? XKS_MESSAGES.MALFORMED;

/** Create/UpdateCustomKeyStore: the exception the spec's table names for each failure of the health check. */
export function xksStoreCheckFailed(kind: string): AwsError {
  const code =
    kind === "AuthenticationFailedException"
      ? "XksProxyIncorrectAuthenticationCredentialException"
      : kind === "InvalidUriPathException"
        ? "XksProxyInvalidConfigurationException"
        : ["UNREACHABLE", "TLS", "TIMEOUT", "DependencyTimeoutException", "ThrottlingException"].includes(kind)
          ? "XksProxyUriUnreachableException"
          : "XksProxyInvalidResponseException";
  return new AwsError(code, xksMessage(kind));
}

/** XksProxyUriEndpoint and XksProxyUriPath together name a proxy that another external key store of the Region uses (the model's XksProxyUriInUseException). */
export const xksProxyUriInUse = (uri: string): AwsError =>
  new AwsError("XksProxyUriInUseException", `The XKS proxy URI ${uri} is already associated with an external key store in this account and Region.`);

export const xksProxyVpcEndpointServiceInUse = (name: string): AwsError =>
  new AwsError("XksProxyVpcEndpointServiceInUseException", `The VPC endpoint service ${name} is already associated with an external key store in this account and Region.`);

/** CreateKey with an XksKeyId that another KMS key of the store uses (the model's XksKeyAlreadyInUseException). */
export const xksKeyAlreadyInUse = (xksKeyId: string): AwsError =>
  new AwsError("XksKeyAlreadyInUseException", `The external key ${xksKeyId} is already associated with another KMS key in this external key store. Each KMS key in an external key store must be associated with a different external key.`);

/** The proxy's GetKeyMetadata answer for CreateKey's external key falls short of AES_256, ENCRYPT and DECRYPT, ENABLED. */
export const xksKeyInvalidConfiguration = (xksKeyId: string, found: string): AwsError =>
  new AwsError(
    "XksKeyInvalidConfigurationException",
    `The external key ${xksKeyId} does not meet the configuration requirements for an external key store: it must be an AES-256 symmetric key that is enabled and performs encryption and decryption (the proxy answered ${found}).`,
  );

/** CreateKey: how each failure of the proxy's GetKeyMetadata is answered (the spec's table, CreateKey column). */
export function xksCreateKeyFailed(kind: string): AwsError {
  if (kind === "KeyNotFoundException") return new AwsError("XksKeyNotFoundException", xksMessage(kind));
  if (kind === "InvalidStateException" || kind === "InvalidKeyUsageException") return new AwsError("XksKeyInvalidConfigurationException", xksMessage(kind));
  if (kind === "AccessDeniedException") return invalidState(xksMessage(kind));
  // The table's "XksKeyInvalidResponseException" for UnsupportedOperationException is not in the model's CreateKey errors:
  // CustomKeyStoreInvalidStateException, which the table names for every other proxy failure, stands in for it.
  return customKeyStoreInvalidState(xksMessage(kind));
}

/**
 * Cryptographic operations on a key in an external key store: KMSInvalidStateException for every failure of the proxy
 * (the spec's table), except that no answer in time is the model's DependencyTimeoutException ("The system timed out
 * while trying to fulfill the request. You can retry the request."), which Encrypt and Decrypt list and SDKs retry.
 */
export function xksCryptoFailed(kind: string): AwsError {
  if (kind === "TIMEOUT") return new AwsError("DependencyTimeoutException", xksMessage(kind));
  return invalidState(xksMessage(kind));
}
