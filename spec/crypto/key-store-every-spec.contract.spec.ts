// The KeyStore contract for every key spec, checked against code nobody here wrote: node:crypto, openssl, @noble, RFC vectors.

import { ed25519ph } from "@noble/curves/ed25519.js";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { spawnSync } from "node:child_process";
import {
  constants,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { closeCryptoWorkers } from "../../src/crypto/crypto-workers";
import {
  KeyStoreIntegrityError,
  KeyStoreUsageError,
  PeerPublicKeyError,
  type BackingKeyRef,
  type BackingKeySpec,
  type KeyStore,
  type NewBackingKey,
  type SigningAlgorithmSpec,
} from "../../src/crypto/key-store";
import { BACKING_KEY_SPECS, backingKeyFacts, macAlgorithmsOf, oaepPlaintextLimit, signingAlgorithmsOf, type HashName } from "../../src/crypto/key-specs";
import { openPkcs11KeyStore } from "../../src/crypto/pkcs11-key-store";
import { encryptWithPublicKey, verifySignature } from "../../src/crypto/public-key-operations";
import { temporaryDirs } from "../support/files";
import { externalMu, flipLastBit } from "../support/signing";
import { testSoftHsm } from "../support/softhsm";

interface KeyStoreSubject {
  readonly kind: string;
  open(): Promise<KeyStore>;
}

const RSA_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"] as const;
const EC_SIGNING_SPECS = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1"] as const;
const ECDH_SPECS = { ECC_NIST_P256: "prime256v1", ECC_NIST_P384: "secp384r1", ECC_NIST_P521: "secp521r1" } as const;
const ML_DSA = { ML_DSA_44: ml_dsa44, ML_DSA_65: ml_dsa65, ML_DSA_87: ml_dsa87 } as const;
const HMAC_SPECS = { HMAC_224: "sha224", HMAC_256: "sha256", HMAC_384: "sha384", HMAC_512: "sha512" } as const;

const hashOfAlgorithm = (algorithm: SigningAlgorithmSpec): HashName =>
  algorithm.endsWith("_256") ? "sha256" : algorithm.endsWith("_384") ? "sha384" : "sha512";
const digest = (hash: HashName, message: Uint8Array): Buffer => createHash(hash).update(message).digest();
const spkiKey = (spki: Uint8Array): KeyObject => createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
const pem = (spki: Uint8Array): string => spkiKey(spki).export({ type: "spki", format: "pem" }).toString();

/** Runs openssl with `args` in `dir`, returning its exit status and output. */
function openssl(dir: string, args: readonly string[]): { readonly status: number | null; readonly output: string } {
  const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

// OpenSSL 3.5 (Node 24.7+, the suite's second CI run on Node 26) parses ML-DSA keys; Node 20's OpenSSL 3.0 does not.
const nodeKnowsMlDsa = ((): boolean => {
  try {
    generateKeyPairSync("ml-dsa-44" as never);
    return true;
  } catch {
    return false;
  }
})();

function describeEverySpecContract(name: string, makeSubject: () => Promise<KeyStoreSubject>): void {
  describe(`KeyStore contract, every key spec: ${name}`, () => {
    let store: KeyStore;
    let counter = 0;
    const generated = new Map<BackingKeySpec, NewBackingKey>();
    const tempDir = temporaryDirs("secretslite-key-specs-");
    const ref = (spec: BackingKeySpec, key: NewBackingKey): BackingKeyRef => ({ id: `every-spec-${++counter}`, spec, wrapped: key.wrapped });
    const publicKeyOf = (spec: BackingKeySpec): Buffer => {
      const publicKey = generated.get(spec)?.publicKey;
      if (publicKey === undefined) throw new Error(`no public key for ${spec}`);
      return publicKey;
    };
    const keyOf = (spec: BackingKeySpec): BackingKeyRef => {
      const key = generated.get(spec);
      if (key === undefined) throw new Error(`${spec} was not generated`);
      return { id: `every-spec-${spec}`, spec, wrapped: key.wrapped };
    };

    beforeAll(async () => {
      store = await (await makeSubject()).open();
      // One key per spec the store supports, made in parallel as concurrent CreateKey calls would.
      const specs = BACKING_KEY_SPECS.filter((spec) => store.supports(spec) !== undefined);
      const keys = await Promise.all(specs.map((spec) => store.generate(spec)));
      specs.forEach((spec, index) => generated.set(spec, keys[index] ?? { wrapped: new Uint8Array() }));
    }, 120_000);
    afterAll(async () => {
      await store.close();
      await closeCryptoWorkers();
    });

    test("public keys are SubjectPublicKeyInfo DER of the spec's type and size; symmetric specs have none", () => {
      for (const spec of RSA_SPECS) {
        const key = spkiKey(publicKeyOf(spec));
        expect(key.asymmetricKeyType).toBe("rsa");
        expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: Number(spec.slice(4)), publicExponent: 65537n });
      }
      const curves = { ECC_NIST_P256: "prime256v1", ECC_NIST_P384: "secp384r1", ECC_NIST_P521: "secp521r1", ECC_SECG_P256K1: "secp256k1" };
      for (const [spec, curve] of Object.entries(curves)) {
        expect(spkiKey(publicKeyOf(spec as BackingKeySpec)).asymmetricKeyDetails?.namedCurve).toBe(curve);
      }
      expect(spkiKey(publicKeyOf("ECC_NIST_EDWARDS25519")).asymmetricKeyType).toBe("ed25519");
      // RFC 9881: SEQUENCE { SEQUENCE { id-ml-dsa-NN } BIT STRING { 0 unused bits, public key } }.
      for (const [spec, arc, bytes] of [["ML_DSA_44", "11", 1312], ["ML_DSA_65", "12", 1952], ["ML_DSA_87", "13", 2592]] as const) {
        const spki = publicKeyOf(spec);
        const hex16 = (value: number): string => value.toString(16).padStart(4, "0");
        expect(spki.length).toBe(bytes + 22);
        expect(spki.subarray(0, 22).toString("hex")).toBe(`3082${hex16(bytes + 18)}300b06096086480165030403${arc}0382${hex16(bytes + 1)}00`);
      }
      for (const spec of ["SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"] as const) {
        expect(generated.get(spec)?.publicKey).toBeUndefined();
      }
    });

    test("every generate makes new material: two keys of one spec share neither wrapped bytes nor public key", async () => {
      for (const spec of ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "HMAC_256"] as const) {
        const [first, second] = await Promise.all([store.generate(spec), store.generate(spec)]);
        expect(Buffer.from(first!.wrapped).equals(second!.wrapped)).toBe(false);
        if (first!.publicKey !== undefined) expect(first!.publicKey.equals(second!.publicKey!)).toBe(false);
      }
    });

    test("wrapped private material is no private key in the clear", () => {
      // PKCS#8 PrivateKeyInfo heads: version 0 then the rsaEncryption or id-ecPublicKey AlgorithmIdentifier.
      const rsaPkcs8Head = Buffer.from("020100300d06092a864886f70d0101010500", "hex");
      const ecPkcs8Head = Buffer.from("020100301306072a8648ce3d0201", "hex");
      for (const key of generated.values()) {
        const wrapped = Buffer.from(key.wrapped);
        expect(wrapped.includes(rsaPkcs8Head)).toBe(false);
        expect(wrapped.includes(ecPkcs8Head)).toBe(false);
        for (const type of ["pkcs8", "sec1", "pkcs1"] as const) {
          expect(() => createPrivateKey({ key: wrapped, format: "der", type })).toThrow();
        }
        // Nor half of a key pair that one could match against the public key.
        if (key.publicKey !== undefined) expect(wrapped.includes(key.publicKey.subarray(-32))).toBe(false);
      }
    });

    test("RSA signatures verify with node:crypto for both message types, PSS with a salt of the hash length", async () => {
      const message = randomBytes(300);
      for (const spec of RSA_SPECS) {
        const key = keyOf(spec);
        const publicKey = spkiKey(publicKeyOf(spec));
        for (const algorithm of signingAlgorithmsOf(spec)) {
          const hash = hashOfAlgorithm(algorithm);
          const pss = algorithm.startsWith("RSASSA_PSS");
          const padding = pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length } : {};
          const raw = await store.sign(key, algorithm, { messageType: "RAW", message });
          const overDigest = await store.sign(key, algorithm, { messageType: "DIGEST", message: digest(hash, message) });
          for (const signature of [raw, overDigest]) {
            expect(signature.length).toBe(Number(spec.slice(4)) / 8);
            expect(nodeVerify(hash, message, { key: publicKey, ...padding }, signature)).toBe(true);
            expect(nodeVerify(hash, randomBytes(300), { key: publicKey, ...padding }, signature)).toBe(false);
          }
          // PKCS#1 v1.5 is deterministic: signing the message or its digest is the same signature.
          if (!pss) expect(raw.equals(overDigest)).toBe(true);
          // PSS salts at random: the same message signs differently every time.
          if (pss) expect(raw.equals(await store.sign(key, algorithm, { messageType: "RAW", message }))).toBe(false);
        }
      }
    });

    test("ECDSA signatures are DER and verify with node:crypto for both message types", async () => {
      const message = randomBytes(100);
      for (const spec of EC_SIGNING_SPECS) {
        const [algorithm] = signingAlgorithmsOf(spec);
        const hash = hashOfAlgorithm(algorithm!);
        const publicKey = spkiKey(publicKeyOf(spec));
        for (const input of [{ messageType: "RAW", message }, { messageType: "DIGEST", message: digest(hash, message) }] as const) {
          const signature = await store.sign(keyOf(spec), algorithm!, input);
          expect(signature[0]).toBe(0x30);
          expect(signature[1]! & 0x80 ? signature[2]! + 3 : signature[1]! + 2).toBe(signature.length);
          expect(nodeVerify(hash, message, { key: publicKey, dsaEncoding: "der" }, signature)).toBe(true);
          expect(nodeVerify(hash, flipLastBit(message), { key: publicKey, dsaEncoding: "der" }, signature)).toBe(false);
        }
      }
    });

    test("RSA and ECDSA signatures verify with openssl pkeyutl from the exported public key", async () => {
      const dir = tempDir();
      const message = Buffer.from("verified by openssl");
      const cases: ReadonlyArray<readonly [BackingKeySpec, SigningAlgorithmSpec, readonly string[]]> = [
        ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", []],
        ["RSA_3072", "RSASSA_PSS_SHA_384", ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:48"]],
        ["RSA_4096", "RSASSA_PSS_SHA_512", ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:64"]],
        ["RSA_4096", "RSASSA_PKCS1_V1_5_SHA_384", []],
        ["ECC_NIST_P256", "ECDSA_SHA_256", []],
        ["ECC_NIST_P384", "ECDSA_SHA_384", []],
        ["ECC_NIST_P521", "ECDSA_SHA_512", []],
        ["ECC_SECG_P256K1", "ECDSA_SHA_256", []],
      ];
      for (const [spec, algorithm, options] of cases) {
        const hash = hashOfAlgorithm(algorithm);
        writeFileSync(path.join(dir, "public.pem"), pem(publicKeyOf(spec)));
        writeFileSync(path.join(dir, "digest.bin"), digest(hash, message));
        writeFileSync(path.join(dir, "signature.bin"), await store.sign(keyOf(spec), algorithm, { messageType: "RAW", message }));
        const verifyArgs = ["pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-in", "digest.bin", "-sigfile", "signature.bin", "-pkeyopt", `digest:${hash}`, ...options];
        const verified = openssl(dir, verifyArgs);
        expect({ spec, algorithm, ...verified }).toEqual({ spec, algorithm, status: 0, output: expect.stringContaining("Signature Verified Successfully") });
        writeFileSync(path.join(dir, "digest.bin"), digest(hash, Buffer.from("another message")));
        expect(openssl(dir, verifyArgs).status).not.toBe(0);
      }
    });

    test("Ed25519 signatures verify with node:crypto and openssl; Ed25519ph ones with @noble's ed25519ph", async () => {
      const dir = tempDir();
      const message = randomBytes(64);
      const key = keyOf("ECC_NIST_EDWARDS25519");
      const spki = publicKeyOf("ECC_NIST_EDWARDS25519");
      const pure = await store.sign(key, "ED25519_SHA_512", { messageType: "RAW", message });
      expect(pure.length).toBe(64);
      expect(nodeVerify(null, message, spkiKey(spki), pure)).toBe(true);
      writeFileSync(path.join(dir, "public.pem"), pem(spki));
      writeFileSync(path.join(dir, "message.bin"), message);
      writeFileSync(path.join(dir, "signature.bin"), pure);
      const verified = openssl(dir, ["pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin", "-in", "message.bin", "-sigfile", "signature.bin"]);
      expect(verified).toEqual({ status: 0, output: expect.stringContaining("Signature Verified Successfully") });

      // KMS hashes the DIGEST again as Ed25519ph does: the signature is Ed25519ph of the message whose SHA-512 it is.
      const prehashed = await store.sign(key, "ED25519_PH_SHA_512", { messageType: "DIGEST", message: digest("sha512", message) });
      const rawPublicKey = spkiKey(spki).export({ format: "jwk" }).x!;
      expect(ed25519ph.verify(prehashed, message, Buffer.from(rawPublicKey, "base64url"))).toBe(true);
      expect(prehashed.equals(pure)).toBe(false);
      expect(nodeVerify(null, message, spkiKey(spki), prehashed)).toBe(false);
    });

    test("ED25519_PH_SHA_512 matches RFC 8032 §7.3 (Ed25519ph, TEST abc) for the RFC's imported key", async () => {
      expect(store.importBackingKey).toBeDefined();
      const secretKey = Buffer.from("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42", "hex");
      const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), secretKey]);
      const imported = await store.importBackingKey!("ECC_NIST_EDWARDS25519", pkcs8);
      expect(spkiKey(imported.publicKey!).export({ format: "jwk" }).x).toBe(
        Buffer.from("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", "hex").toString("base64url"),
      );
      const signature = await store.sign(ref("ECC_NIST_EDWARDS25519", imported), "ED25519_PH_SHA_512", {
        messageType: "DIGEST",
        message: digest("sha512", Buffer.from("abc")),
      });
      expect(signature.toString("hex")).toBe(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41" + "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
      );
      // The imported seed is nowhere in what the store hands back to be stored.
      expect(Buffer.from(imported.wrapped).includes(secretKey)).toBe(false);
    });

    test("ML-DSA: pure signatures verify with @noble, and EXTERNAL_MU signs the same as RAW", async () => {
      const message = randomBytes(4096);
      for (const [spec, mlDsa] of Object.entries(ML_DSA) as Array<[keyof typeof ML_DSA, (typeof ML_DSA)[keyof typeof ML_DSA]]>) {
        const spki = publicKeyOf(spec);
        const rawPublicKey = spki.subarray(22);
        const raw = await store.sign(keyOf(spec), "ML_DSA_SHAKE_256", { messageType: "RAW", message });
        expect(raw.length).toBe(mlDsa.lengths.signature);
        expect(mlDsa.verify(raw, message, rawPublicKey)).toBe(true);
        expect(mlDsa.verify(raw, flipLastBit(message), rawPublicKey)).toBe(false);
        const mu = externalMu(rawPublicKey, message);
        const overMu = await store.sign(keyOf(spec), "ML_DSA_SHAKE_256", { messageType: "EXTERNAL_MU", message: mu });
        expect(overMu.equals(raw)).toBe(true);
        if (nodeKnowsMlDsa) expect(nodeVerify(null, message, spkiKey(spki), raw)).toBe(true);
        else expect(() => spkiKey(spki)).toThrow();
      }
    });

    test("every signature verifies through verifySignature with either message type, and a tampered one does not", async () => {
      const message = randomBytes(200);
      for (const [spec] of generated) {
        for (const algorithm of signingAlgorithmsOf(spec)) {
          const hash = algorithm.startsWith("ML_DSA") || algorithm === "ED25519_SHA_512" ? undefined : hashOfAlgorithm(algorithm);
          const signed = algorithm === "ED25519_PH_SHA_512" ? ({ messageType: "DIGEST", message: digest("sha512", message) } as const) : ({ messageType: "RAW", message } as const);
          const signature = await store.sign(keyOf(spec), algorithm, signed);
          const inputs = [signed, ...(hash !== undefined && algorithm !== "ED25519_PH_SHA_512" ? [{ messageType: "DIGEST", message: digest(hash, message) } as const] : [])];
          for (const input of inputs) {
            expect({ spec, algorithm, type: input.messageType, valid: await verifySignature(publicKeyOf(spec), spec, algorithm, input, signature) }).toEqual({
              spec,
              algorithm,
              type: input.messageType,
              valid: true,
            });
            expect(await verifySignature(publicKeyOf(spec), spec, algorithm, input, flipLastBit(signature))).toBe(false);
          }
        }
      }
    });

    test("RSA-OAEP: what node:crypto, encryptWithPublicKey and openssl encrypt with the public key decrypts here", async () => {
      const dir = tempDir();
      for (const spec of RSA_SPECS) {
        const key = keyOf(spec);
        const spki = publicKeyOf(spec);
        writeFileSync(path.join(dir, "public.pem"), pem(spki));
        for (const [algorithm, hash] of [["RSAES_OAEP_SHA_1", "sha1"], ["RSAES_OAEP_SHA_256", "sha256"]] as const) {
          const longest = randomBytes(oaepPlaintextLimit(Number(spec.slice(4)), algorithm));
          const byNode = publicEncrypt({ key: spkiKey(spki), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, longest);
          expect((await store.decrypt(key, algorithm, byNode)).equals(longest)).toBe(true);
          const plaintext = Buffer.from(`secret for ${spec} ${algorithm}`);
          expect((await store.decrypt(key, algorithm, encryptWithPublicKey(spki, algorithm, plaintext))).equals(plaintext)).toBe(true);
          writeFileSync(path.join(dir, "plaintext.bin"), plaintext);
          const encrypted = openssl(dir, [
            "pkeyutl", "-encrypt", "-pubin", "-inkey", "public.pem", "-in", "plaintext.bin", "-out", "ciphertext.bin",
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", `rsa_oaep_md:${hash}`, "-pkeyopt", `rsa_mgf1_md:${hash}`,
          ]);
          expect(encrypted.status).toBe(0);
          expect((await store.decrypt(key, algorithm, readFileSync(path.join(dir, "ciphertext.bin")))).equals(plaintext)).toBe(true);
          // The same bytes under the other OAEP hash, tampered bytes, or bytes of the wrong length are not ours.
          const other = algorithm === "RSAES_OAEP_SHA_1" ? "RSAES_OAEP_SHA_256" : "RSAES_OAEP_SHA_1";
          await expect(store.decrypt(key, other, byNode)).rejects.toThrow(KeyStoreIntegrityError);
          await expect(store.decrypt(key, algorithm, flipLastBit(byNode))).rejects.toThrow(KeyStoreIntegrityError);
          await expect(store.decrypt(key, algorithm, byNode.subarray(1))).rejects.toThrow(KeyStoreIntegrityError);
          await expect(store.decrypt(key, algorithm, Buffer.alloc(byNode.length, 0xff))).rejects.toThrow(KeyStoreIntegrityError);
        }
      }
    });

    test("HMAC: the MAC of an imported key equals node's createHmac; generated keys give stable MACs of the hash's length", async () => {
      const message = randomBytes(4096);
      for (const [spec, hash] of Object.entries(HMAC_SPECS) as Array<[keyof typeof HMAC_SPECS, HashName]>) {
        const [algorithm] = macAlgorithmsOf(spec);
        if (algorithm === undefined) throw new Error(`${spec} has no MAC algorithm`);
        const facts = backingKeyFacts(spec);
        const material = randomBytes(facts.family === "hmac" ? facts.keyBytes : 0);
        const imported = ref(spec, await store.importBackingKey!(spec, material));
        expect(Buffer.from(imported.wrapped).includes(material)).toBe(false);
        expect((await store.generateMac(imported, algorithm, message)).equals(createHmac(hash, material).update(message).digest())).toBe(true);
        const key = keyOf(spec);
        const mac = await store.generateMac(key, algorithm, message);
        expect(mac.length).toBe(createHash(hash).digest().length);
        expect((await store.generateMac(key, algorithm, message)).equals(mac)).toBe(true);
        expect((await store.generateMac(key, algorithm, flipLastBit(message))).equals(mac)).toBe(false);
        expect((await store.generateMac(imported, algorithm, message)).equals(mac)).toBe(false);
        await expect(store.importBackingKey!(spec, randomBytes(material.length + 1))).rejects.toThrow(RangeError);
      }
    });

    test("RSA and EC PKCS#8 import: the public key is the material's own, and what the key signs verifies against it", async () => {
      const message = randomBytes(200);
      const pairs: Array<[BackingKeySpec, KeyObject, SigningAlgorithmSpec]> = [
        ["RSA_2048", generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, "RSASSA_PKCS1_V1_5_SHA_256"],
        ["ECC_NIST_P256", generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey, "ECDSA_SHA_256"],
        ["ECC_NIST_P521", generateKeyPairSync("ec", { namedCurve: "secp521r1" }).privateKey, "ECDSA_SHA_512"],
        ["ECC_SECG_P256K1", generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey, "ECDSA_SHA_256"],
      ];
      for (const [spec, privateKey, algorithm] of pairs) {
        const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
        const imported = await store.importBackingKey!(spec, pkcs8);
        expect(imported.publicKey?.equals(createPublicKey(privateKey).export({ type: "spki", format: "der" }))).toBe(true);
        // The token wraps its own encoding: no stretch of the PKCS#8 (its private part, say) shows through.
        expect(Buffer.from(imported.wrapped).includes(pkcs8.subarray(-24))).toBe(false);
        const key = ref(spec, imported);
        const signature = await store.sign(key, algorithm, { messageType: "RAW", message });
        expect(nodeVerify(hashOfAlgorithm(algorithm), message, spkiKey(imported.publicKey!), signature)).toBe(true);
        if (spec === "RSA_2048") {
          // PKCS#1 v1.5 is deterministic: the token's signature is node's with the same private key.
          expect(signature.equals(nodeSign("sha256", message, privateKey))).toBe(true);
          const ciphertext = publicEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, message.subarray(0, 100));
          expect((await store.decrypt(key, "RSAES_OAEP_SHA_256", ciphertext)).equals(message.subarray(0, 100))).toBe(true);
        }
      }
      const ed25519 = generateKeyPairSync("ed25519").privateKey;
      const importedEd = await store.importBackingKey!("ECC_NIST_EDWARDS25519", ed25519.export({ type: "pkcs8", format: "der" }));
      expect(importedEd.publicKey?.equals(createPublicKey(ed25519).export({ type: "spki", format: "der" }))).toBe(true);
      expect((await store.sign(ref("ECC_NIST_EDWARDS25519", importedEd), "ED25519_SHA_512", { messageType: "RAW", message })).equals(nodeSign(null, message, ed25519))).toBe(true);
    });

    test("PKCS#8 import refuses material of another type, size or curve, or no PKCS#8 at all, with KeyStoreUsageError", async () => {
      const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey.export({ type: "pkcs8", format: "der" });
      await expect(store.importBackingKey!("ECC_NIST_P256", p384)).rejects.toThrow(
        new KeyStoreUsageError("The key material is an EC key on P-384, not an EC key on P-256 as ECC_NIST_P256 needs"),
      );
      const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "der" });
      await expect(store.importBackingKey!("RSA_3072", rsa2048)).rejects.toThrow(/is an RSA key of 2048 bits, not an RSA key of 3072 bits as RSA_3072 needs/);
      await expect(store.importBackingKey!("ECC_NIST_EDWARDS25519", rsa2048)).rejects.toThrow(KeyStoreUsageError);
      await expect(store.importBackingKey!("ECC_NIST_P256", randomBytes(64))).rejects.toThrow(/not a PKCS#8 private key \(DER\); ECC_NIST_P256 needs an EC key on P-256/);
      await expect(store.importBackingKey!("ML_DSA_44", rsa2048)).rejects.toThrow(KeyStoreUsageError);
    });

    test("ECDH: the shared secret is node's diffieHellman with the peer's private key, the x-coordinate of 32/48/66 bytes", async () => {
      for (const [spec, curve] of Object.entries(ECDH_SPECS) as Array<[keyof typeof ECDH_SPECS, string]>) {
        const peer = generateKeyPairSync("ec", { namedCurve: curve });
        const secret = await store.deriveSharedSecret(keyOf(spec), peer.publicKey.export({ type: "spki", format: "der" }));
        expect(secret.length).toBe({ prime256v1: 32, secp384r1: 48, secp521r1: 66 }[curve]);
        expect(secret.equals(diffieHellman({ privateKey: peer.privateKey, publicKey: spkiKey(publicKeyOf(spec)) }))).toBe(true);
      }
    });

    test("ECDH refuses a peer key that is not on the key's curve, or no key at all, with PeerPublicKeyError", async () => {
      const key = keyOf("ECC_NIST_P256");
      const spkiOf = (pair: { publicKey: KeyObject }): Buffer => pair.publicKey.export({ type: "spki", format: "der" });
      const onP384 = spkiOf(generateKeyPairSync("ec", { namedCurve: "secp384r1" }));
      const onK1 = spkiOf(generateKeyPairSync("ec", { namedCurve: "secp256k1" }));
      const x25519 = spkiOf(generateKeyPairSync("x25519"));
      const onP256 = spkiOf(generateKeyPairSync("ec", { namedCurve: "prime256v1" }));
      // The last byte of Y changed: the point is no longer on the curve.
      const offCurve = flipLastBit(onP256);
      for (const peer of [onP384, onK1, x25519, offCurve, randomBytes(91), Buffer.alloc(0), publicKeyOf("RSA_2048")]) {
        await expect(store.deriveSharedSecret(key, peer)).rejects.toThrow(PeerPublicKeyError);
      }
      await expect(store.deriveSharedSecret(keyOf("ECC_SECG_P256K1"), onK1)).rejects.toThrow(KeyStoreUsageError);
      await expect(store.deriveSharedSecret(keyOf("RSA_2048"), onP256)).rejects.toThrow(KeyStoreUsageError);
      expect((await store.deriveSharedSecret(key, onP256)).length).toBe(32);
    });

    test("an algorithm, message type or digest length that does not fit the key is a KeyStoreUsageError", async () => {
      const message = randomBytes(32);
      const refused: Array<Promise<unknown>> = [
        store.sign(keyOf("ECC_NIST_P256"), "ECDSA_SHA_384", { messageType: "RAW", message }),
        store.sign(keyOf("ECC_NIST_P256"), "ECDSA_SHA_256", { messageType: "DIGEST", message: randomBytes(31) }),
        store.sign(keyOf("RSA_2048"), "RSASSA_PSS_SHA_512", { messageType: "DIGEST", message: randomBytes(32) }),
        store.sign(keyOf("RSA_2048"), "ECDSA_SHA_256", { messageType: "RAW", message }),
        store.sign(keyOf("RSA_2048"), "RSASSA_PSS_SHA_256", { messageType: "EXTERNAL_MU", message: randomBytes(64) }),
        store.sign(keyOf("ECC_NIST_EDWARDS25519"), "ED25519_SHA_512", { messageType: "DIGEST", message: randomBytes(64) }),
        store.sign(keyOf("ECC_NIST_EDWARDS25519"), "ED25519_PH_SHA_512", { messageType: "RAW", message }),
        store.sign(keyOf("ML_DSA_44"), "ML_DSA_SHAKE_256", { messageType: "DIGEST", message }),
        store.sign(keyOf("ML_DSA_44"), "ML_DSA_SHAKE_256", { messageType: "EXTERNAL_MU", message }),
        store.sign(keyOf("HMAC_256"), "RSASSA_PSS_SHA_256", { messageType: "RAW", message }),
        store.decrypt(keyOf("ECC_NIST_P256"), "RSAES_OAEP_SHA_256", randomBytes(256)),
        store.generateMac(keyOf("HMAC_224"), "HMAC_SHA_256", message),
        store.generateMac(keyOf("SYMMETRIC_DEFAULT"), "HMAC_SHA_256", message),
        store.deriveSharedSecret(keyOf("ML_DSA_65"), publicKeyOf("ECC_NIST_P256")),
      ];
      for (const attempt of refused) await expect(attempt).rejects.toThrow(KeyStoreUsageError);
      const iv = randomBytes(12);
      expect(() => store.seal(keyOf("HMAC_256"), iv, Buffer.alloc(0), message)).toThrow(KeyStoreUsageError);
      expect(() => store.seal(keyOf("RSA_2048"), iv, Buffer.alloc(0), message)).toThrow(KeyStoreUsageError);
      // A SYMMETRIC_DEFAULT reference with its spec seals like the spec-less one.
      const aes = keyOf("SYMMETRIC_DEFAULT");
      expect(store.open(aes, iv, Buffer.alloc(0), store.seal({ id: aes.id, spec: aes.spec, wrapped: aes.wrapped }, iv, Buffer.alloc(0), message)).equals(message)).toBe(true);
    });

    test("tampered wrapped material of any spec is a KeyStoreIntegrityError, and the untampered key still works", async () => {
      const message = randomBytes(16);
      for (const spec of ["RSA_2048", "ECC_NIST_P384", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "HMAC_384"] as const) {
        const good = keyOf(spec);
        const tampered: BackingKeyRef = { id: `tampered-${++counter}`, spec, wrapped: flipLastBit(good.wrapped) };
        const truncated: BackingKeyRef = { id: `truncated-${++counter}`, spec, wrapped: good.wrapped.subarray(0, good.wrapped.length - 8) };
        for (const broken of [tampered, truncated]) {
          if (spec === "HMAC_384") await expect(store.generateMac(broken, "HMAC_SHA_384", message)).rejects.toThrow(KeyStoreIntegrityError);
          else await expect(store.sign(broken, signingAlgorithmsOf(spec)[0]!, { messageType: "RAW", message })).rejects.toThrow(KeyStoreIntegrityError);
        }
      }
      // Wrapped bytes of one spec presented as another spec's do not unwrap as that spec's key.
      const hmacAsSeed: BackingKeyRef = { id: `mixed-${++counter}`, spec: "ECC_NIST_EDWARDS25519", wrapped: keyOf("HMAC_512").wrapped };
      await expect(store.sign(hmacAsSeed, "ED25519_SHA_512", { messageType: "RAW", message })).rejects.toThrow(KeyStoreIntegrityError);
      const ecAsRsa: BackingKeyRef = { id: `mixed-${++counter}`, spec: "RSA_2048", wrapped: keyOf("ECC_NIST_P521").wrapped };
      await expect(store.sign(ecAsRsa, "RSASSA_PSS_SHA_256", { messageType: "RAW", message })).rejects.toThrow(KeyStoreIntegrityError);
      expect((await store.sign(keyOf("RSA_2048"), "RSASSA_PSS_SHA_256", { messageType: "RAW", message })).length).toBe(256);
    });

    test("many operations on many keys in parallel all succeed and verify", async () => {
      const message = randomBytes(100);
      const specs = ["RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44"] as const;
      const keys = await Promise.all(specs.flatMap((spec) => [0, 1, 2].map(async () => ({ spec, key: await store.generate(spec) }))));
      const signed = await Promise.all(
        Array.from({ length: 90 }, async (_, index) => {
          const { spec, key } = keys[index % keys.length]!;
          const algorithm = signingAlgorithmsOf(spec)[0]!;
          const input = { messageType: "RAW", message } as const;
          const signature = await store.sign({ id: `parallel-${spec}-${index % keys.length}`, spec, wrapped: key.wrapped }, algorithm, input);
          return verifySignature(key.publicKey!, spec, algorithm, input, signature);
        }),
      );
      expect(signed.every(Boolean)).toBe(true);
    });

    test("close waits for signatures already under way", async () => {
      const extra = await (await makeSubject()).open();
      const message = randomBytes(10);
      const pending = ["RSA_4096", "ECC_NIST_P521", "ML_DSA_87"].map((spec) =>
        extra.sign(keyOf(spec as BackingKeySpec), signingAlgorithmsOf(spec as BackingKeySpec)[0]!, { messageType: "RAW", message }),
      );
      const closed = extra.close();
      const signatures = await Promise.all(pending);
      await closed;
      expect(signatures.map((signature) => signature.length > 0)).toEqual([true, true, true]);
      await expect(extra.sign(keyOf("ECC_NIST_P256"), "ECDSA_SHA_256", { messageType: "RAW", message })).rejects.toThrow(/closed/);
      await expect(extra.generate("HMAC_256")).rejects.toThrow(/closed/);
    });
  });
}

describeEverySpecContract("PKCS#11 on SoftHSM2", async () => {
  const token = await testSoftHsm();
  return { kind: "pkcs11", open: () => openPkcs11KeyStore(token) };
});
