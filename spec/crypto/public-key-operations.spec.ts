// Verify, RSA encryption with a public key and data key pairs, without a key store: against node:crypto, @noble and RFC 8032.

import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { closeCryptoWorkers } from "../../src/crypto/crypto-workers";
import { ecdsaDerToRaw, ecdsaRawToDer } from "../../src/crypto/der";
import { KeyStoreIntegrityError, KeyStoreUsageError, type BackingKeySpec, type SigningAlgorithmSpec } from "../../src/crypto/key-store";
import { oaepPlaintextLimit, signingAlgorithmsOf, type HashName } from "../../src/crypto/key-specs";
import { encryptWithPublicKey, generateDataKeyPair, verifySignature, type DataKeyPairSpec } from "../../src/crypto/public-key-operations";
import { mlDsaPublicKeySpki } from "../../src/crypto/public-keys";
import { decodeOaep } from "../../src/crypto/rsa-padding";
import { flipLastBit } from "../support/signing";

const spkiOf = (key: KeyObject): Buffer => key.export({ type: "spki", format: "der" });
const digest = (hash: HashName, message: Uint8Array): Buffer => createHash(hash).update(message).digest();
const hashOfAlgorithm = (algorithm: SigningAlgorithmSpec): HashName =>
  algorithm.endsWith("_256") ? "sha256" : algorithm.endsWith("_384") ? "sha384" : "sha512";

afterAll(() => closeCryptoWorkers());

describe("verifySignature", () => {
  const message = randomBytes(500);

  test("RSA signatures made by node:crypto verify over the message and over its digest; PSS only with a salt of the hash length", async () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const spki = spkiOf(pair.publicKey);
    for (const algorithm of signingAlgorithmsOf("RSA_2048")) {
      const hash = hashOfAlgorithm(algorithm);
      const pss = algorithm.startsWith("RSASSA_PSS");
      const padding = pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: digest(hash, message).length } : {};
      const signature = nodeSign(hash, message, { key: pair.privateKey, ...padding });
      for (const input of [{ messageType: "RAW", message }, { messageType: "DIGEST", message: digest(hash, message) }] as const) {
        expect(await verifySignature(spki, "RSA_2048", algorithm, input, signature)).toBe(true);
        expect(await verifySignature(spki, "RSA_2048", algorithm, input, flipLastBit(signature))).toBe(false);
        expect(await verifySignature(spki, "RSA_2048", algorithm, input, signature.subarray(1))).toBe(false);
        expect(await verifySignature(spki, "RSA_2048", algorithm, input, Buffer.alloc(256, 0xff))).toBe(false);
      }
      if (pss) {
        const saltless = nodeSign(hash, message, { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
        expect(await verifySignature(spki, "RSA_2048", algorithm, { messageType: "RAW", message }, saltless)).toBe(false);
        expect(await verifySignature(spki, "RSA_2048", algorithm, { messageType: "DIGEST", message: digest(hash, message) }, saltless)).toBe(false);
      }
    }
    // A 3072-bit key in place of a 2048-bit one is a mistake of the caller's, not an invalid signature.
    const other = spkiOf(generateKeyPairSync("rsa", { modulusLength: 3072 }).publicKey);
    await expect(verifySignature(other, "RSA_2048", "RSASSA_PSS_SHA_256", { messageType: "RAW", message }, randomBytes(384))).rejects.toThrow(/not an RSA_2048 key/);
  });

  test("ECDSA takes DER only: raw r ‖ s, trailing bytes and non-minimal integers are false; high-S signatures verify", async () => {
    const curves = [
      ["ECC_NIST_P256", "prime256v1", 32, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"],
      ["ECC_NIST_P384", "secp384r1", 48, "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"],
      ["ECC_NIST_P521", "secp521r1", 66, "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"],
      ["ECC_SECG_P256K1", "secp256k1", 32, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"],
    ] as const;
    for (const [spec, curve, size, order] of curves) {
      const pair = generateKeyPairSync("ec", { namedCurve: curve });
      const spki = spkiOf(pair.publicKey);
      const [algorithm] = signingAlgorithmsOf(spec);
      const hash = hashOfAlgorithm(algorithm!);
      const der = nodeSign(hash, message, { key: pair.privateKey, dsaEncoding: "der" });
      const raw = ecdsaDerToRaw(der, size)!;
      // The same signature both ways: this module's conversion agrees with node's.
      expect(nodeVerify(hash, message, { key: pair.publicKey, dsaEncoding: "ieee-p1363" }, raw)).toBe(true);
      expect(ecdsaRawToDer(raw).equals(der)).toBe(true);
      // s' = n − s is the other valid signature for the same r.
      const s = BigInt(`0x${raw.subarray(size).toString("hex")}`);
      const highS = Buffer.concat([raw.subarray(0, size), Buffer.from((BigInt(`0x${order}`) - s).toString(16).padStart(2 * size, "0"), "hex")]);
      const otherS = ecdsaRawToDer(highS);
      const bad = [
        raw,
        Buffer.concat([der, Buffer.of(0)]),
        Buffer.concat([Buffer.of(0x30, der[1]! + 1, 0x02, der[3]! + 1, 0x00), der.subarray(4)]),
        der.subarray(0, der.length - 1),
        Buffer.from(der).fill(0, 4, 4 + der[3]!),
        Buffer.alloc(0),
      ];
      for (const input of [{ messageType: "RAW", message }, { messageType: "DIGEST", message: digest(hash, message) }] as const) {
        expect(await verifySignature(spki, spec, algorithm!, input, der)).toBe(true);
        expect(await verifySignature(spki, spec, algorithm!, input, otherS)).toBe(true);
        for (const signature of bad) expect(await verifySignature(spki, spec, algorithm!, input, signature)).toBe(false);
      }
    }
  });

  test("Ed25519: node's signatures verify; ED25519_PH_SHA_512 verifies RFC 8032 §7.3 over the SHA-512 of 'abc'", async () => {
    const pair = generateKeyPairSync("ed25519");
    const signature = nodeSign(null, message, pair.privateKey);
    const spki = spkiOf(pair.publicKey);
    expect(await verifySignature(spki, "ECC_NIST_EDWARDS25519", "ED25519_SHA_512", { messageType: "RAW", message }, signature)).toBe(true);
    expect(await verifySignature(spki, "ECC_NIST_EDWARDS25519", "ED25519_SHA_512", { messageType: "RAW", message: flipLastBit(message) }, signature)).toBe(false);

    const rfcPublicKey = Buffer.from("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", "hex");
    const rfcSpki = spkiOf(createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: rfcPublicKey.toString("base64url") }, format: "jwk" }));
    const rfcSignature = Buffer.from(
      "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41" + "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
      "hex",
    );
    const prehash = { messageType: "DIGEST", message: digest("sha512", Buffer.from("abc")) } as const;
    expect(await verifySignature(rfcSpki, "ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", prehash, rfcSignature)).toBe(true);
    expect(await verifySignature(rfcSpki, "ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", prehash, flipLastBit(rfcSignature))).toBe(false);
    expect(await verifySignature(rfcSpki, "ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", prehash, rfcSignature.subarray(1))).toBe(false);
    // Pure Ed25519 over the same bytes is another signature.
    expect(await verifySignature(rfcSpki, "ECC_NIST_EDWARDS25519", "ED25519_SHA_512", { messageType: "RAW", message: prehash.message }, rfcSignature)).toBe(false);
  });

  test("ML-DSA: @noble's hedged signatures verify over the message and over its μ", async () => {
    for (const [spec, level, mlDsa] of [["ML_DSA_44", 44, ml_dsa44], ["ML_DSA_65", 65, ml_dsa65], ["ML_DSA_87", 87, ml_dsa87]] as const) {
      const { publicKey, secretKey } = mlDsa.keygen(randomBytes(32));
      const spki = mlDsaPublicKeySpki(level, publicKey);
      const signature = mlDsa.sign(message, secretKey);
      const tr = createHash("shake256", { outputLength: 64 }).update(publicKey).digest();
      const mu = createHash("shake256", { outputLength: 64 }).update(tr).update(Buffer.of(0, 0)).update(message).digest();
      expect(await verifySignature(spki, spec, "ML_DSA_SHAKE_256", { messageType: "RAW", message }, signature)).toBe(true);
      expect(await verifySignature(spki, spec, "ML_DSA_SHAKE_256", { messageType: "EXTERNAL_MU", message: mu }, signature)).toBe(true);
      expect(await verifySignature(spki, spec, "ML_DSA_SHAKE_256", { messageType: "RAW", message }, flipLastBit(signature))).toBe(false);
      expect(await verifySignature(spki, spec, "ML_DSA_SHAKE_256", { messageType: "EXTERNAL_MU", message: flipLastBit(mu) }, signature)).toBe(false);
      expect(await verifySignature(spki, spec, "ML_DSA_SHAKE_256", { messageType: "RAW", message }, signature.subarray(10))).toBe(false);
    }
    const spki44 = mlDsaPublicKeySpki(44, ml_dsa44.keygen(randomBytes(32)).publicKey);
    await expect(verifySignature(spki44, "ML_DSA_65", "ML_DSA_SHAKE_256", { messageType: "RAW", message }, randomBytes(3309))).rejects.toThrow(/ML-DSA-65/);
  });

  test("an algorithm, message type or digest length that does not fit is a KeyStoreUsageError, not false", async () => {
    const spki = spkiOf(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey);
    const cases: ReadonlyArray<readonly [BackingKeySpec, SigningAlgorithmSpec, "RAW" | "DIGEST" | "EXTERNAL_MU", number]> = [
      ["ECC_NIST_P256", "ECDSA_SHA_384", "RAW", 10],
      ["ECC_NIST_P256", "ECDSA_SHA_256", "DIGEST", 48],
      ["ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU", 64],
      ["ECC_NIST_P256", "RSASSA_PSS_SHA_256", "RAW", 10],
    ];
    for (const [spec, algorithm, messageType, length] of cases) {
      await expect(verifySignature(spki, spec, algorithm, { messageType, message: randomBytes(length) }, randomBytes(72))).rejects.toThrow(KeyStoreUsageError);
    }
  });
});

describe("encryptWithPublicKey", () => {
  test("RSAES-OAEP with MGF1 over the same hash and no label: node's privateDecrypt reads it, up to KMS's limits", () => {
    for (const [bits, sha1Limit, sha256Limit] of [[2048, 214, 190], [3072, 342, 318], [4096, 470, 446]] as const) {
      expect([oaepPlaintextLimit(bits, "RSAES_OAEP_SHA_1"), oaepPlaintextLimit(bits, "RSAES_OAEP_SHA_256")]).toEqual([sha1Limit, sha256Limit]);
    }
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const spki = spkiOf(pair.publicKey);
    for (const [algorithm, hash, limit] of [["RSAES_OAEP_SHA_1", "sha1", 214], ["RSAES_OAEP_SHA_256", "sha256", 190]] as const) {
      for (const plaintext of [Buffer.alloc(0), randomBytes(1), randomBytes(limit)]) {
        const ciphertext = encryptWithPublicKey(spki, algorithm, plaintext);
        expect(ciphertext.length).toBe(256);
        expect(privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext).equals(plaintext)).toBe(true);
      }
      expect(() => encryptWithPublicKey(spki, algorithm, randomBytes(limit + 1))).toThrow(KeyStoreUsageError);
    }
    expect(() => encryptWithPublicKey(spkiOf(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey), "RSAES_OAEP_SHA_256", randomBytes(8))).toThrow(/not rsa/);
  });
});

describe("decodeOaep", () => {
  test("decodes what node encrypts (raw RSA opened by node), refuses any changed byte alike, and zeroes what it read", () => {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const plaintext = randomBytes(100);
    const ciphertext = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext);
    const encodedMessage = (): Buffer => privateDecrypt({ key: pair.privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
    const em = encodedMessage();
    expect(decodeOaep("sha256", em).equals(plaintext)).toBe(true);
    expect(em.every((byte) => byte === 0)).toBe(true);
    // The leading zero, the masked seed, the masked data block (a change there changes the unmasked seed, so the
    // label hash and padding come out wrong): every altered byte is the same failure, with the same text.
    for (const at of [0, 1, 20, 33, 40, 64, 65, 100, 150, 255]) {
      const altered = encodedMessage();
      altered[at] = (altered[at] ?? 0) ^ 0x01;
      expect(() => decodeOaep("sha256", altered)).toThrow(new KeyStoreIntegrityError("The ciphertext does not decrypt under this RSA key with RSAES_OAEP"));
    }
    expect(() => decodeOaep("sha256", randomBytes(64))).toThrow(KeyStoreIntegrityError);
  });
});

describe("generateDataKeyPair", () => {
  const specs: ReadonlyArray<readonly [DataKeyPairSpec, string, Record<string, unknown>]> = [
    ["RSA_2048", "rsa", { modulusLength: 2048, publicExponent: 65537n }],
    ["RSA_3072", "rsa", { modulusLength: 3072 }],
    ["RSA_4096", "rsa", { modulusLength: 4096 }],
    ["ECC_NIST_P256", "ec", { namedCurve: "prime256v1" }],
    ["ECC_NIST_P384", "ec", { namedCurve: "secp384r1" }],
    ["ECC_NIST_P521", "ec", { namedCurve: "secp521r1" }],
    ["ECC_SECG_P256K1", "ec", { namedCurve: "secp256k1" }],
    ["ECC_NIST_EDWARDS25519", "ed25519", {}],
  ];

  test("returns a PKCS#8 private key and its SubjectPublicKeyInfo, new every time", async () => {
    const pairs = await Promise.all(specs.map(async ([spec]) => [await generateDataKeyPair(spec), await generateDataKeyPair(spec)] as const));
    specs.forEach(([spec, type, details], index) => {
      const [pair, again] = pairs[index]!;
      const privateKey = createPrivateKey({ key: pair.privateKeyPkcs8Der, format: "der", type: "pkcs8" });
      const publicKey = createPublicKey({ key: pair.publicKeySpkiDer, format: "der", type: "spki" });
      expect([spec, privateKey.asymmetricKeyType, publicKey.asymmetricKeyType]).toEqual([spec, type, type]);
      expect(publicKey.asymmetricKeyDetails).toMatchObject(details);
      expect(spkiOf(createPublicKey(privateKey)).equals(pair.publicKeySpkiDer)).toBe(true);
      expect(again.privateKeyPkcs8Der.equals(pair.privateKeyPkcs8Der)).toBe(false);
    });
  });

  test("refuses key specs that are not data key pair specs", async () => {
    await expect(generateDataKeyPair("HMAC_256" as DataKeyPairSpec)).rejects.toThrow(KeyStoreUsageError);
    await expect(generateDataKeyPair("ML_DSA_44" as DataKeyPairSpec)).rejects.toThrow(KeyStoreUsageError);
  });
});
