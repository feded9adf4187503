// AWS's key spec reference as one table: per KeySpec the key usages, algorithms, rotation and sizes; per signing algorithm its hash and message types.
// https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
import type {
  EncryptionAlgorithmSpec,
  KeyAgreementAlgorithmSpec,
  KeySpec,
  KeyUsageType,
  MacAlgorithmSpec,
  SigningAlgorithmSpec,
} from "@aws-sdk/client-kms";

/**
 * The key specs and usages of the model secretslite serves (../shared/aws-models/kms). The SDK is newer: its KeySpec
 * adds ML_KEM_512/768/1024 and its KeyUsageType ENCAPSULATE_DECAPSULATE. Validation refuses those (the generated
 * tables come from the model), so no stored key has them; spec/kms/key-specs.spec.ts pins both unions to the model.
 */
export type KmsKeySpec = Exclude<KeySpec, "ML_KEM_512" | "ML_KEM_768" | "ML_KEM_1024">;
export type KmsKeyUsage = Exclude<KeyUsageType, "ENCAPSULATE_DECAPSULATE">;

/** Any algorithm a KMS key can be used with, whatever its usage. */
export type KeyAlgorithm = EncryptionAlgorithmSpec | SigningAlgorithmSpec | MacAlgorithmSpec | KeyAgreementAlgorithmSpec;

/** The key usages a spec allows, each with its algorithms in the order DescribeKey and GetPublicKey list them. */
export interface UsageAlgorithms {
  readonly ENCRYPT_DECRYPT?: readonly EncryptionAlgorithmSpec[];
  readonly SIGN_VERIFY?: readonly SigningAlgorithmSpec[];
  readonly GENERATE_VERIFY_MAC?: readonly MacAlgorithmSpec[];
  readonly KEY_AGREEMENT?: readonly KeyAgreementAlgorithmSpec[];
}

export interface KeySpecRow {
  /** What UpdateAlias calls the key's type ("both symmetric or both asymmetric or both HMAC"). */
  readonly kind: "symmetric" | "asymmetric" | "hmac";
  readonly usages: UsageAlgorithms;
  /**
   * The KeyUsage CreateKey assumes when none is sent. Only SYMMETRIC_DEFAULT has one: "You must specify a KeyUsage
   * value for all KMS keys except for symmetric encryption keys." (recorded AWS answer).
   */
  readonly defaultUsage?: KmsKeyUsage;
  /** Automatic and on-demand rotation: symmetric encryption keys only (EnableKeyRotation, RotateKeyOnDemand). */
  readonly rotatable: boolean;
  /** Whether the deprecated CustomerMasterKeySpec can name this spec: its enum predates Ed25519 and ML-DSA. */
  readonly customerMasterKeySpec: boolean;
  /** SM2 exists only in the China Regions (aws-cn). */
  readonly partition?: "aws-cn";
  /** Encrypt's plaintext limit in bytes per encryption algorithm (the Encrypt API reference's table). */
  readonly plaintextLimits?: Readonly<Partial<Record<EncryptionAlgorithmSpec, number>>>;
  /** HMAC keys: the key's length and the MAC's, in bytes (the spec's number of bits). */
  readonly hmac?: { readonly keyBytes: number; readonly macBytes: number };
  /** KEY_AGREEMENT: the length of DeriveSharedSecret's raw x-coordinate, in bytes. */
  readonly sharedSecretBytes?: number;
}

const RSA_ENCRYPTION: readonly EncryptionAlgorithmSpec[] = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"];
/** PKCS #1 v1.5 before PSS: the order of the API reference's DescribeKey example for an RSA signing key. */
const RSA_SIGNING: readonly SigningAlgorithmSpec[] = [
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
];

/**
 * RSAES_OAEP carries at most k − 2·hLen − 2 bytes (RFC 8017 §7.1.1) for a k-byte modulus: with SHA-1 (20) and
 * SHA-256 (32) that is the Encrypt reference's 214/190, 342/318 and 470/446 bytes.
 */
const rsa = (plaintextLimits: { RSAES_OAEP_SHA_1: number; RSAES_OAEP_SHA_256: number }): KeySpecRow => ({
  kind: "asymmetric",
  usages: { ENCRYPT_DECRYPT: RSA_ENCRYPTION, SIGN_VERIFY: RSA_SIGNING },
  rotatable: false,
  customerMasterKeySpec: true,
  plaintextLimits,
});

/** The NIST curves sign with the ECDSA of their own size and derive ECDH secrets as long as their field. */
const nistCurve = (signing: SigningAlgorithmSpec, sharedSecretBytes: number): KeySpecRow => ({
  kind: "asymmetric",
  usages: { SIGN_VERIFY: [signing], KEY_AGREEMENT: ["ECDH"] },
  rotatable: false,
  customerMasterKeySpec: true,
  sharedSecretBytes,
});

const mlDsa: KeySpecRow = { kind: "asymmetric", usages: { SIGN_VERIFY: ["ML_DSA_SHAKE_256"] }, rotatable: false, customerMasterKeySpec: false };

/** HMAC keys are GENERATE_VERIFY_MAC only, given explicitly (no default usage); each takes the one MAC algorithm of its size. */
const hmac = (algorithm: MacAlgorithmSpec, bytes: number): KeySpecRow => ({
  kind: "hmac",
  usages: { GENERATE_VERIFY_MAC: [algorithm] },
  rotatable: false,
  customerMasterKeySpec: true,
  hmac: { keyBytes: bytes, macBytes: bytes },
});

export const KEY_SPECS: Readonly<Record<KmsKeySpec, KeySpecRow>> = {
  SYMMETRIC_DEFAULT: {
    kind: "symmetric",
    usages: { ENCRYPT_DECRYPT: ["SYMMETRIC_DEFAULT"] },
    defaultUsage: "ENCRYPT_DECRYPT",
    rotatable: true,
    customerMasterKeySpec: true,
    plaintextLimits: { SYMMETRIC_DEFAULT: 4096 },
  },
  RSA_2048: rsa({ RSAES_OAEP_SHA_1: 214, RSAES_OAEP_SHA_256: 190 }),
  RSA_3072: rsa({ RSAES_OAEP_SHA_1: 342, RSAES_OAEP_SHA_256: 318 }),
  RSA_4096: rsa({ RSAES_OAEP_SHA_1: 470, RSAES_OAEP_SHA_256: 446 }),
  ECC_NIST_P256: nistCurve("ECDSA_SHA_256", 32),
  ECC_NIST_P384: nistCurve("ECDSA_SHA_384", 48),
  // P-521's 521-bit field takes 66 bytes.
  ECC_NIST_P521: nistCurve("ECDSA_SHA_512", 66),
  // "KMS keys with ECC_SECG_P256K1 can be used only to sign and verify messages" (CreateKey).
  ECC_SECG_P256K1: { kind: "asymmetric", usages: { SIGN_VERIFY: ["ECDSA_SHA_256"] }, rotatable: false, customerMasterKeySpec: true },
  // Signing only. The model's enum order; no DescribeKey capture of an Ed25519 key was found to confirm it.
  ECC_NIST_EDWARDS25519: {
    kind: "asymmetric",
    usages: { SIGN_VERIFY: ["ED25519_SHA_512", "ED25519_PH_SHA_512"] },
    rotatable: false,
    customerMasterKeySpec: false,
  },
  ML_DSA_44: mlDsa,
  ML_DSA_65: mlDsa,
  ML_DSA_87: mlDsa,
  HMAC_224: hmac("HMAC_SHA_224", 28),
  HMAC_256: hmac("HMAC_SHA_256", 32),
  HMAC_384: hmac("HMAC_SHA_384", 48),
  HMAC_512: hmac("HMAC_SHA_512", 64),
  SM2: {
    kind: "asymmetric",
    usages: { ENCRYPT_DECRYPT: ["SM2PKE"], SIGN_VERIFY: ["SM2DSA"], KEY_AGREEMENT: ["ECDH"] },
    rotatable: false,
    customerMasterKeySpec: true,
    partition: "aws-cn",
    plaintextLimits: { SM2PKE: 1024 },
    sharedSecretBytes: 32,
  },
};

/** The algorithms a key of `spec` offers for `usage`, in DescribeKey's order; none when the spec refuses the usage. */
export const usageAlgorithms = (spec: KmsKeySpec, usage: KmsKeyUsage): readonly KeyAlgorithm[] => KEY_SPECS[spec].usages[usage] ?? [];

export const allowsUsage = (spec: KmsKeySpec, usage: KmsKeyUsage): boolean => KEY_SPECS[spec].usages[usage] !== undefined;

/**
 * How long a Sign or Verify message may be per MessageType; a type left out is refused for the algorithm.
 * RAW is the model's 4,096-byte Message bound. DIGEST must be exactly the hash's length ("the length of the Message
 * value must match the length of hashed messages for the specified signing algorithm"); EXTERNAL_MU exactly 64.
 */
export interface MessageLengths {
  readonly RAW?: { readonly max: number };
  readonly DIGEST?: { readonly exact: number };
  readonly EXTERNAL_MU?: { readonly exact: number };
}

export interface SigningAlgorithmRow {
  /** The hash the algorithm names, as node:crypto calls it ("Signing algorithms that end in SHA_256 use SHA_256"…; SM2DSA uses SM3). */
  readonly hash: "sha256" | "sha384" | "sha512" | "shake256" | "sm3";
  readonly messages: MessageLengths;
}

const RAW = { max: 4096 } as const;
const hashed = (hash: "sha256" | "sha384" | "sha512", digestBytes: number): SigningAlgorithmRow => ({
  hash,
  messages: { RAW, DIGEST: { exact: digestBytes } },
});

export const SIGNING_ALGORITHMS: Readonly<Record<SigningAlgorithmSpec, SigningAlgorithmRow>> = {
  RSASSA_PSS_SHA_256: hashed("sha256", 32),
  RSASSA_PSS_SHA_384: hashed("sha384", 48),
  RSASSA_PSS_SHA_512: hashed("sha512", 64),
  RSASSA_PKCS1_V1_5_SHA_256: hashed("sha256", 32),
  RSASSA_PKCS1_V1_5_SHA_384: hashed("sha384", 48),
  RSASSA_PKCS1_V1_5_SHA_512: hashed("sha512", 64),
  ECDSA_SHA_256: hashed("sha256", 32),
  ECDSA_SHA_384: hashed("sha384", 48),
  ECDSA_SHA_512: hashed("sha512", 64),
  // A DIGEST is SM3(Z_A ‖ M), computed by the caller ("Offline verification with SM2 key pairs").
  SM2DSA: { hash: "sm3", messages: { RAW, DIGEST: { exact: 32 } } },
  // Pure ML-DSA: RAW up to 4,096 bytes, or the 64-byte μ of FIPS 204 §6.2; no DIGEST (HashML-DSA is not offered).
  ML_DSA_SHAKE_256: { hash: "shake256", messages: { RAW, EXTERNAL_MU: { exact: 64 } } },
  // "ED25519_SHA_512 signing algorithm requires KMS MessageType:RAW" (SignRequest.MessageType).
  ED25519_SHA_512: { hash: "sha512", messages: { RAW } },
  // "ED25519_PH_SHA_512 … requires MessageType:DIGEST": a SHA-512 digest that KMS hashes again (Ed25519ph).
  ED25519_PH_SHA_512: { hash: "sha512", messages: { DIGEST: { exact: 64 } } },
};
