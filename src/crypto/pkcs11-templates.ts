// The PKCS#11 templates and mechanisms of every token-held backing key: how each is generated, wrapped, unwrapped and used.

import * as pkcs11 from "pkcs11js";
import type { ECDH1, Mechanism, RsaOAEP, RsaPSS, Template } from "pkcs11js";
import type { EcCurve, HashName } from "./key-specs";

export type TokenKeyFamily = "aes" | "hmac" | "rsa" | "ec";

/** RFC 5649 key wrap under the root key: works for AES, generic-secret, RSA and EC keys alike (measured on SoftHSM 2.6.1). */
export const WRAP_MECHANISM: Mechanism = { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD };

// Not among pkcs11js's constants: CK_RSA_PKCS_OAEP_SOURCE_TYPE for "the label is the data given" (here, none).
const CKZ_DATA_SPECIFIED = 1;

const attribute = (type: number, value: boolean | number | Buffer) => ({ type, value });

// Attributes that say what a key may do; unlisted ones default to the token's choice, so each template lists them all.
const NO_USE: Template = [
  attribute(pkcs11.CKA_ENCRYPT, false),
  attribute(pkcs11.CKA_DECRYPT, false),
  attribute(pkcs11.CKA_SIGN, false),
  attribute(pkcs11.CKA_VERIFY, false),
  attribute(pkcs11.CKA_DERIVE, false),
  attribute(pkcs11.CKA_WRAP, false),
  attribute(pkcs11.CKA_UNWRAP, false),
];
/** The usage attributes of NO_USE that a key of some class carries (PKCS#11 v2.40 §4.8–4.10: no CKA_SIGN on a public key). */
const noUseOf = (...types: readonly number[]): Template => NO_USE.filter((entry) => types.includes(entry.type));
const PRIVATE_KEY_NO_USE = noUseOf(pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_DERIVE, pkcs11.CKA_UNWRAP);

/** Replaces the usage attributes named in `uses` with true. */
function allowing(template: Template, ...uses: readonly number[]): Template {
  return template.map((entry) => (uses.includes(entry.type) ? attribute(entry.type, true) : entry));
}

const SESSION_OBJECT: Template = [attribute(pkcs11.CKA_TOKEN, false), attribute(pkcs11.CKA_PRIVATE, true)];

/**
 * Fresh material is a session object that can do nothing but be wrapped: extractable only so the root key can
 * wrap it, sensitive so nothing reads it, and destroyed right after. Backing keys then live only wrapped.
 */
const WRAPPABLE_ONLY: Template = [
  ...SESSION_OBJECT,
  attribute(pkcs11.CKA_SENSITIVE, true),
  attribute(pkcs11.CKA_EXTRACTABLE, true),
];

/** AES for SYMMETRIC_DEFAULT; generic secrets for HMAC keys and for the seeds of keys used in Node. */
export type SecretKeyType = "aes" | "generic";

const SECRET_KEY_TYPE: Readonly<Record<SecretKeyType, number>> = { aes: pkcs11.CKK_AES, generic: pkcs11.CKK_GENERIC_SECRET };

/** A secret key to generate (`valueLen`) or to create from outside material (`value`), wrappable only. */
export function wrappableSecretTemplate(keyType: SecretKeyType, material: { readonly valueLen: number } | { readonly value: Buffer }): Template {
  return [
    attribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
    attribute(pkcs11.CKA_KEY_TYPE, SECRET_KEY_TYPE[keyType]),
    "value" in material ? attribute(pkcs11.CKA_VALUE, material.value) : attribute(pkcs11.CKA_VALUE_LEN, material.valueLen),
    ...WRAPPABLE_ONLY,
    ...NO_USE,
  ];
}

/** An RSA private key's CRT components, big-endian (as a JWK gives them, base64url-decoded). */
export interface RsaPrivateComponents {
  readonly modulus: Buffer;
  readonly publicExponent: Buffer;
  readonly privateExponent: Buffer;
  readonly prime1: Buffer;
  readonly prime2: Buffer;
  readonly exponent1: Buffer;
  readonly exponent2: Buffer;
  readonly coefficient: Buffer;
}

/**
 * A private key from outside material (a seed's PKCS#8), made a session object that can only be wrapped, as
 * generated key pairs' private halves are: the token then wraps it in its own PKCS#8, like generated keys.
 */
export function wrappablePrivateKeyTemplate(key: { readonly rsa: RsaPrivateComponents } | { readonly ec: EcCurve; readonly value: Buffer }): Template {
  const material =
    "rsa" in key
      ? [
          attribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
          attribute(pkcs11.CKA_MODULUS, key.rsa.modulus),
          attribute(pkcs11.CKA_PUBLIC_EXPONENT, key.rsa.publicExponent),
          attribute(pkcs11.CKA_PRIVATE_EXPONENT, key.rsa.privateExponent),
          attribute(pkcs11.CKA_PRIME_1, key.rsa.prime1),
          attribute(pkcs11.CKA_PRIME_2, key.rsa.prime2),
          attribute(pkcs11.CKA_EXPONENT_1, key.rsa.exponent1),
          attribute(pkcs11.CKA_EXPONENT_2, key.rsa.exponent2),
          attribute(pkcs11.CKA_COEFFICIENT, key.rsa.coefficient),
        ]
      : [attribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC), attribute(pkcs11.CKA_EC_PARAMS, key.ec.oidDer), attribute(pkcs11.CKA_VALUE, key.value)];
  return [attribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), ...material, ...WRAPPABLE_ONLY, ...PRIVATE_KEY_NO_USE];
}

export const SECRET_KEY_GENERATION: Readonly<Record<SecretKeyType, Mechanism>> = {
  aes: { mechanism: pkcs11.CKM_AES_KEY_GEN },
  generic: { mechanism: pkcs11.CKM_GENERIC_SECRET_KEY_GEN },
};

export interface KeyPairGeneration {
  readonly mechanism: Mechanism;
  readonly publicKey: Template;
  readonly privateKey: Template;
}

// The public half is read once for its SubjectPublicKeyInfo and destroyed; verification happens in Node.
const PUBLIC_KEY_NO_USE: Template = [
  attribute(pkcs11.CKA_TOKEN, false),
  attribute(pkcs11.CKA_PRIVATE, false),
  ...noUseOf(pkcs11.CKA_VERIFY, pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP),
];

/**
 * 65537, the exponent KMS keys have. Module-level like every other Buffer in these templates: pkcs11js's thread-pool
 * calls may read template values after the call returns, so none may be garbage the moment it is handed over.
 */
const F4 = Buffer.from([0x01, 0x00, 0x01]);

export function rsaKeyPairGeneration(modulusBits: number): KeyPairGeneration {
  return {
    mechanism: { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
    publicKey: [
      ...PUBLIC_KEY_NO_USE,
      attribute(pkcs11.CKA_MODULUS_BITS, modulusBits),
      attribute(pkcs11.CKA_PUBLIC_EXPONENT, F4),
    ],
    privateKey: [...WRAPPABLE_ONLY, ...PRIVATE_KEY_NO_USE],
  };
}

export function ecKeyPairGeneration(curve: EcCurve): KeyPairGeneration {
  return {
    mechanism: { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN },
    publicKey: [...PUBLIC_KEY_NO_USE, attribute(pkcs11.CKA_EC_PARAMS, curve.oidDer)],
    privateKey: [...WRAPPABLE_ONLY, ...PRIVATE_KEY_NO_USE],
  };
}

/**
 * The usable copy of a backing key: a sensitive, never-extractable session object allowed only what its family
 * does (RSA both signs and decrypts, EC both signs and derives: the KMS key's usage is checked above the store).
 * SoftHSM applies an unwrap template in order and, once CKA_MODIFIABLE is false, refuses every later attribute
 * with CKR_ATTRIBUTE_READ_ONLY: modifiable must come last.
 */
const UNWRAPPED: Readonly<Record<TokenKeyFamily, Template>> = {
  aes: usableTemplate(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, allowing(NO_USE, pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT)),
  hmac: usableTemplate(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_GENERIC_SECRET, allowing(NO_USE, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY)),
  rsa: usableTemplate(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, allowing(PRIVATE_KEY_NO_USE, pkcs11.CKA_SIGN, pkcs11.CKA_DECRYPT)),
  ec: usableTemplate(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC, allowing(PRIVATE_KEY_NO_USE, pkcs11.CKA_SIGN, pkcs11.CKA_DERIVE)),
};

function usableTemplate(objectClass: number, keyType: number, uses: Template): Template {
  return [
    attribute(pkcs11.CKA_CLASS, objectClass),
    attribute(pkcs11.CKA_KEY_TYPE, keyType),
    ...SESSION_OBJECT,
    attribute(pkcs11.CKA_SENSITIVE, true),
    attribute(pkcs11.CKA_EXTRACTABLE, false),
    ...uses,
    attribute(pkcs11.CKA_MODIFIABLE, false),
  ];
}

export const unwrapTemplate = (family: TokenKeyFamily): Template => UNWRAPPED[family];

/**
 * A secret that comes back out of the token once, read and destroyed at once: an Ed25519 or ML-DSA seed after
 * unwrapping, an ECDH shared secret after derivation. SoftHSM lets CKA_VALUE be read only when the object is
 * neither sensitive nor unextractable.
 */
export function readableSecretTemplate(valueLen?: number): Template {
  return [
    attribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
    attribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
    ...(valueLen === undefined ? [] : [attribute(pkcs11.CKA_VALUE_LEN, valueLen)]),
    ...SESSION_OBJECT,
    attribute(pkcs11.CKA_SENSITIVE, false),
    attribute(pkcs11.CKA_EXTRACTABLE, true),
    ...NO_USE,
  ];
}

const HMAC_MECHANISM: Readonly<Partial<Record<HashName, number>>> = {
  sha224: pkcs11.CKM_SHA224_HMAC,
  sha256: pkcs11.CKM_SHA256_HMAC,
  sha384: pkcs11.CKM_SHA384_HMAC,
  sha512: pkcs11.CKM_SHA512_HMAC,
};
const HASH_MECHANISM: Readonly<Record<HashName, number>> = {
  sha1: pkcs11.CKM_SHA_1,
  sha224: pkcs11.CKM_SHA224,
  sha256: pkcs11.CKM_SHA256,
  sha384: pkcs11.CKM_SHA384,
  sha512: pkcs11.CKM_SHA512,
};
const MGF1: Readonly<Record<HashName, number>> = {
  sha1: pkcs11.CKG_MGF1_SHA1,
  sha224: pkcs11.CKG_MGF1_SHA224,
  sha256: pkcs11.CKG_MGF1_SHA256,
  sha384: pkcs11.CKG_MGF1_SHA384,
  sha512: pkcs11.CKG_MGF1_SHA512,
};

export function hmacMechanism(hash: HashName): Mechanism {
  const mechanism = HMAC_MECHANISM[hash];
  if (mechanism === undefined) throw new Error(`No HMAC mechanism for ${hash}`);
  return { mechanism };
}

/** RSASSA-PSS over a digest made outside: MGF1 with the same hash and a salt of the hash's length, as KMS signs. */
export function rsaPssMechanism(hash: HashName, saltBytes: number): Mechanism {
  const parameter: RsaPSS = { type: pkcs11.CK_PARAMS_RSA_PSS, hashAlg: HASH_MECHANISM[hash], mgf: MGF1[hash], saltLen: saltBytes };
  return { mechanism: pkcs11.CKM_RSA_PKCS_PSS, parameter };
}

/** Raw RSA PKCS#1 v1.5 padding over what is given: DigestInfo ‖ hash, for RSASSA-PKCS1-v1_5 over a digest. */
export const RSA_PKCS_MECHANISM: Mechanism = { mechanism: pkcs11.CKM_RSA_PKCS };

/** SoftHSM 2.6.1 hard-codes OAEP to SHA-1 and MGF1-SHA-1 (any other parameters give CKR_ARGUMENTS_BAD). */
const OAEP_SHA1_PARAMETER: RsaOAEP = { type: pkcs11.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11.CKM_SHA_1, mgf: pkcs11.CKG_MGF1_SHA1, source: CKZ_DATA_SPECIFIED };
export const RSA_OAEP_SHA1_MECHANISM: Mechanism = { mechanism: pkcs11.CKM_RSA_PKCS_OAEP, parameter: OAEP_SHA1_PARAMETER };

/** Raw RSA, for OAEP with SHA-256, decoded in Node. */
export const RSA_X509_MECHANISM: Mechanism = { mechanism: pkcs11.CKM_RSA_X_509 };

/** ECDSA over a digest made outside: SoftHSM 2.6.1 has no CKM_ECDSA_SHA*. */
export const ECDSA_MECHANISM: Mechanism = { mechanism: pkcs11.CKM_ECDSA };

/** Plain ECDH (no KDF) with the peer's uncompressed point, which SoftHSM takes without DER wrapping. */
export function ecdhMechanism(peerPoint: Buffer): Mechanism {
  const parameter: ECDH1 = { type: pkcs11.CK_PARAMS_EC_DH, kdf: pkcs11.CKD_NULL, publicData: peerPoint };
  return { mechanism: pkcs11.CKM_ECDH1_DERIVE, parameter };
}
