// KMS Sign and Verify for every signing key spec, checked against code nobody here wrote: node:crypto, openssl, @noble, jose.
import { ed25519ph } from "@noble/curves/ed25519.js";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { spawnSync } from "node:child_process";
import { constants, createHash, createPublicKey, verify as nodeVerify, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  GetKeyLastUsageCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
  type MessageType,
  type SigningAlgorithmSpec,
} from "@aws-sdk/client-kms";
import { importSPKI, jwtVerify } from "jose";
import { temporaryDirs } from "../support/files";
import { externalMu, flipLastBit } from "../support/signing";
import { grantToken } from "../support/kms";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;

interface TestKey {
  readonly arn: string;
  readonly keyId: string;
  readonly spki: Buffer;
}

/** PKCS #1 v1.5 and PSS, each with SHA-256, SHA-384 and SHA-512. */
const RSA_ALGORITHMS = (["PKCS1_V1_5", "PSS"] as const).flatMap((padding) =>
  ([256, 384, 512] as const).map((bits): SigningAlgorithmSpec => `RSASSA_${padding}_SHA_${bits}`),
);

/** Every signing key spec with the algorithms it signs with. */
const SIGNING = {
  RSA_2048: RSA_ALGORITHMS,
  RSA_3072: RSA_ALGORITHMS,
  RSA_4096: RSA_ALGORITHMS,
  ECC_NIST_P256: ["ECDSA_SHA_256"],
  ECC_NIST_P384: ["ECDSA_SHA_384"],
  ECC_NIST_P521: ["ECDSA_SHA_512"],
  ECC_SECG_P256K1: ["ECDSA_SHA_256"],
  ECC_NIST_EDWARDS25519: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
  ML_DSA_44: ["ML_DSA_SHAKE_256"],
  ML_DSA_65: ["ML_DSA_SHAKE_256"],
  ML_DSA_87: ["ML_DSA_SHAKE_256"],
} as const satisfies Partial<Record<KeySpec, readonly SigningAlgorithmSpec[]>>;
type SigningSpec = keyof typeof SIGNING;
const ML_DSA = { ML_DSA_44: ml_dsa44, ML_DSA_65: ml_dsa65, ML_DSA_87: ml_dsa87 } as const;

/** One key per signing spec (RSA-4096 generation alone takes seconds in the token), made once for the whole file. */
const keys = {} as Record<SigningSpec, TestKey>;
const key = (spec: SigningSpec): TestKey => keys[spec];

const createKey = async (KeySpec: KeySpec, KeyUsage: KeyUsageType): Promise<{ arn: string; keyId: string }> => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage }));
  if (KeyMetadata?.Arn === undefined || KeyMetadata.KeyId === undefined) throw new Error("CreateKey answered without KeyMetadata");
  return { arn: KeyMetadata.Arn, keyId: KeyMetadata.KeyId };
};

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
  for (const spec of Object.keys(SIGNING) as SigningSpec[]) {
    const created = await createKey(spec, "SIGN_VERIFY");
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: created.keyId }));
    keys[spec] = { ...created, spki: Buffer.from(PublicKey ?? []) };
  }
}, 120_000);
afterAll(() => server.close());

const tempDir = temporaryDirs("secretslite-sign-verify-");

type HashName = "sha256" | "sha384" | "sha512";
const hashOf = (algorithm: SigningAlgorithmSpec): HashName =>
  algorithm.endsWith("_256") ? "sha256" : algorithm.endsWith("_384") ? "sha384" : "sha512";
const digest = (hash: HashName, message: Uint8Array): Buffer => createHash(hash).update(message).digest();
const HASH_BYTES: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const spkiKey = (spki: Buffer): KeyObject => createPublicKey({ key: spki, format: "der", type: "spki" });
const pem = (spki: Buffer): string => spkiKey(spki).export({ type: "spki", format: "pem" }).toString();
/** Node 20 cannot load ML-DSA SPKI: the raw FIPS 204 public key follows its 22-byte prefix (RFC 9881). */
const mlDsaPublicKey = (spki: Buffer): Buffer => spki.subarray(22);
const ed25519PublicKey = (spki: Buffer): Buffer => Buffer.from(spkiKey(spki).export({ format: "jwk" }).x ?? "", "base64url");

/**
 * An ECDSA signature from DER (SEQUENCE { INTEGER r, INTEGER s }, short lengths only: up to P-256 here) to the
 * fixed-width r ‖ s JWS and PKCS#11 use. Written here, not taken from src/, so the test does not trust the emulator.
 */
function derToRawEcdsa(der: Uint8Array, coordinateBytes: number): Buffer {
  const bytes = Buffer.from(der);
  expect(bytes[0]).toBe(0x30);
  const integers: Buffer[] = [];
  for (let at = 2; at < bytes.length; ) {
    expect(bytes[at]).toBe(0x02);
    const length = bytes[at + 1] ?? 0;
    const value = bytes.subarray(at + 2, at + 2 + length);
    integers.push(Buffer.concat([Buffer.alloc(coordinateBytes), value.subarray(value[0] === 0 ? 1 : 0)]).subarray(-coordinateBytes));
    at += 2 + length;
  }
  expect(integers).toHaveLength(2);
  return Buffer.concat(integers);
}

/** Verifies a KMS signature with code nobody here wrote: node:crypto, or @noble where Node 20 cannot (Ed25519ph, ML-DSA). */
function verifiesOutside(spec: SigningSpec, algorithm: SigningAlgorithmSpec, message: Buffer, signature: Buffer): boolean {
  const { spki } = key(spec);
  if (algorithm === "ED25519_SHA_512") return nodeVerify(null, message, spkiKey(spki), signature);
  if (algorithm === "ED25519_PH_SHA_512") return ed25519ph.verify(signature, message, ed25519PublicKey(spki));
  if (algorithm === "ML_DSA_SHAKE_256") return ML_DSA[spec as keyof typeof ML_DSA].verify(signature, message, mlDsaPublicKey(spki));
  const hash = hashOf(algorithm);
  // PSS with the salt as long as the hash (KMS's rule), not "any salt": a different salt length must not verify.
  if (algorithm.startsWith("RSASSA_PSS")) {
    return nodeVerify(hash, message, { key: spkiKey(spki), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_BYTES[hash] }, signature);
  }
  if (algorithm.startsWith("RSASSA_PKCS1")) return nodeVerify(hash, message, { key: spkiKey(spki), padding: constants.RSA_PKCS1_PADDING }, signature);
  return nodeVerify(hash, message, { key: spkiKey(spki), dsaEncoding: "der" }, signature);
}

const sign = async (spec: SigningSpec, SigningAlgorithm: SigningAlgorithmSpec, Message: Uint8Array, MessageType?: MessageType) => {
  const answer = await kms.send(new SignCommand({ KeyId: key(spec).keyId, SigningAlgorithm, Message, MessageType }));
  return { ...answer, Signature: Buffer.from(answer.Signature ?? []) };
};
const verify = (spec: SigningSpec, SigningAlgorithm: SigningAlgorithmSpec, Message: Uint8Array, Signature: Uint8Array, MessageType?: MessageType) =>
  kms.send(new VerifyCommand({ KeyId: key(spec).keyId, SigningAlgorithm, Message, Signature, MessageType }));

const INVALID_SIGNATURE = { name: "KMSInvalidSignatureException" };
const DRY_RUN = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };

const CASES = (Object.entries(SIGNING) as Array<[SigningSpec, readonly SigningAlgorithmSpec[]]>).flatMap(([spec, algorithms]) =>
  algorithms.map((algorithm) => ({ spec, algorithm })),
);

describe("behaviour", () => {
  describe.each(CASES)("$spec with $algorithm", ({ spec, algorithm }) => {
    it("signs; the signature verifies outside KMS and through Verify, with either message type where the algorithm takes both", async () => {
      const message = Buffer.from(`a message for ${spec} ${algorithm}`);
      if (algorithm === "ED25519_PH_SHA_512") {
        // DIGEST only: the caller's SHA-512, which KMS hashes again (Ed25519ph of the message).
        const prehash = digest("sha512", message);
        const signed = await sign(spec, algorithm, prehash, "DIGEST");
        expect(signed).toMatchObject({ KeyId: key(spec).arn, SigningAlgorithm: algorithm });
        expect(verifiesOutside(spec, algorithm, message, signed.Signature)).toBe(true);
        expect(nodeVerify(null, message, spkiKey(key(spec).spki), signed.Signature)).toBe(false);
        const verified = await verify(spec, algorithm, prehash, signed.Signature, "DIGEST");
        expect(verified).toMatchObject({ KeyId: key(spec).arn, SignatureValid: true, SigningAlgorithm: algorithm });
        return;
      }
      // RAW is the default MessageType.
      const signed = await sign(spec, algorithm, message);
      expect(signed).toMatchObject({ KeyId: key(spec).arn, SigningAlgorithm: algorithm });
      expect(verifiesOutside(spec, algorithm, message, signed.Signature)).toBe(true);
      expect(verifiesOutside(spec, algorithm, flipLastBit(message), signed.Signature)).toBe(false);
      expect(await verify(spec, algorithm, message, signed.Signature)).toMatchObject({
        KeyId: key(spec).arn,
        SignatureValid: true,
        SigningAlgorithm: algorithm,
      });
      expect(await verify(spec, algorithm, message, signed.Signature, "RAW")).toMatchObject({ SignatureValid: true });
      if (algorithm === "ML_DSA_SHAKE_256") {
        // μ stands for the message: a RAW signature verifies as EXTERNAL_MU and an EXTERNAL_MU signature as RAW.
        const mu = externalMu(mlDsaPublicKey(key(spec).spki), message);
        expect(await verify(spec, algorithm, mu, signed.Signature, "EXTERNAL_MU")).toMatchObject({ SignatureValid: true });
        const overMu = await sign(spec, algorithm, mu, "EXTERNAL_MU");
        expect(verifiesOutside(spec, algorithm, message, overMu.Signature)).toBe(true);
        expect(await verify(spec, algorithm, message, overMu.Signature, "RAW")).toMatchObject({ SignatureValid: true });
        return;
      }
      if (algorithm === "ED25519_SHA_512") return;
      // Signed RAW, verified as DIGEST; signed as DIGEST, verified RAW and outside over the message.
      const messageDigest = digest(hashOf(algorithm), message);
      expect(await verify(spec, algorithm, messageDigest, signed.Signature, "DIGEST")).toMatchObject({ SignatureValid: true });
      const overDigest = await sign(spec, algorithm, messageDigest, "DIGEST");
      expect(verifiesOutside(spec, algorithm, message, overDigest.Signature)).toBe(true);
      expect(await verify(spec, algorithm, message, overDigest.Signature, "RAW")).toMatchObject({ SignatureValid: true });
    });
  });

  it("signs RAW messages of 4,096 bytes and refuses 4,097 (the model's bound)", async () => {
    const longest = Buffer.alloc(4096, 7);
    const signed = await sign("ECC_NIST_P256", "ECDSA_SHA_256", longest);
    expect(verifiesOutside("ECC_NIST_P256", "ECDSA_SHA_256", longest, signed.Signature)).toBe(true);
    await expect(sign("ECC_NIST_P256", "ECDSA_SHA_256", Buffer.alloc(4097, 7))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096"),
    });
  });

  it("produces signatures openssl pkeyutl verifies: RSA PSS and PKCS #1 v1.5, ECDSA P-256 (DER), Ed25519", async () => {
    const dir = tempDir();
    const message = Buffer.from("verified by openssl");
    const run = (args: readonly string[]) => {
      const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };
    const checks: Array<[SigningSpec, SigningAlgorithmSpec, readonly string[]]> = [
      ["RSA_2048", "RSASSA_PSS_SHA_256", ["-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]],
      ["RSA_3072", "RSASSA_PSS_SHA_384", ["-pkeyopt", "digest:sha384", "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]],
      ["RSA_4096", "RSASSA_PKCS1_V1_5_SHA_512", ["-pkeyopt", "digest:sha512", "-pkeyopt", "rsa_padding_mode:pkcs1"]],
      ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", ["-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pkcs1"]],
      ["ECC_NIST_P256", "ECDSA_SHA_256", ["-pkeyopt", "digest:sha256"]],
    ];
    for (const [spec, algorithm, options] of checks) {
      const { Signature } = await sign(spec, algorithm, message);
      writeFileSync(path.join(dir, "public.pem"), pem(key(spec).spki));
      writeFileSync(path.join(dir, "digest.bin"), digest(hashOf(algorithm), message));
      writeFileSync(path.join(dir, "signature.bin"), Signature);
      const args = ["pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-in", "digest.bin", "-sigfile", "signature.bin", ...options];
      expect({ algorithm, ...run(args) }).toEqual({ algorithm, status: 0, output: expect.stringContaining("Signature Verified Successfully") });
      writeFileSync(path.join(dir, "digest.bin"), digest(hashOf(algorithm), Buffer.from("another message")));
      expect({ algorithm, status: run(args).status }).not.toEqual({ algorithm, status: 0 });
    }
    const { Signature } = await sign("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", message);
    writeFileSync(path.join(dir, "public.pem"), pem(key("ECC_NIST_EDWARDS25519").spki));
    writeFileSync(path.join(dir, "message.bin"), message);
    writeFileSync(path.join(dir, "signature.bin"), Signature);
    const ed25519Args = ["pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin", "-in", "message.bin", "-sigfile", "signature.bin"];
    expect(run(ed25519Args)).toEqual({ status: 0, output: expect.stringContaining("Signature Verified Successfully") });
    writeFileSync(path.join(dir, "message.bin"), flipLastBit(message));
    expect(run(ed25519Args).status).not.toBe(0);
  });

  it.each([
    ["ES256", "ECC_NIST_P256", "ECDSA_SHA_256"],
    ["RS256", "RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256"],
    ["PS256", "RSA_2048", "RSASSA_PSS_SHA_256"],
    ["EdDSA", "ECC_NIST_EDWARDS25519", "ED25519_SHA_512"],
  ] as const)("signs a %s JWT that jose verifies", async (alg, spec, algorithm) => {
    const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = { sub: "secretslite", iat: 1_700_000_000, aud: "jose" };
    const signingInput = `${base64url({ alg, typ: "JWT" })}.${base64url(claims)}`;
    const { Signature } = await sign(spec, algorithm, Buffer.from(signingInput));
    // KMS answers ECDSA as DER; JWS wants r ‖ s. The conversion belongs to the caller, as it does with AWS.
    const jwsSignature = alg === "ES256" ? derToRawEcdsa(Signature, 32) : Signature;
    const token = `${signingInput}.${jwsSignature.toString("base64url")}`;
    const publicKey = await importSPKI(pem(key(spec).spki), alg);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: [alg], audience: "jose" });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload).toEqual(claims);
    await expect(jwtVerify(`${signingInput}x.${jwsSignature.toString("base64url")}`, publicKey, { algorithms: [alg] })).rejects.toThrow();
  });

  it("takes an alias for the key and answers its ARN; GrantTokens of live grants are accepted", async () => {
    await kms.send(new CreateAliasCommand({ AliasName: "alias/sign-verify", TargetKeyId: key("ECC_NIST_P384").keyId }));
    const token = await grantToken(kms, key("ECC_NIST_P384").keyId);
    const Message = Buffer.from("by alias");
    const signed = await kms.send(
      new SignCommand({ KeyId: "alias/sign-verify", Message, SigningAlgorithm: "ECDSA_SHA_384", GrantTokens: [token] }),
    );
    expect(signed.KeyId).toBe(key("ECC_NIST_P384").arn);
    const verified = await kms.send(
      new VerifyCommand({ KeyId: "alias/sign-verify", Message, Signature: signed.Signature, SigningAlgorithm: "ECDSA_SHA_384", GrantTokens: [token] }),
    );
    expect(verified).toMatchObject({ KeyId: key("ECC_NIST_P384").arn, SignatureValid: true });
  });

  it("records Sign and Verify as the key's last usage; dry runs and failed verifications leave it", async () => {
    const { keyId } = await createKey("ECC_NIST_P256", "SIGN_VERIFY");
    const lastUsage = async () => (await kms.send(new GetKeyLastUsageCommand({ KeyId: keyId }))).KeyLastUsage?.Operation;
    const Message = Buffer.from("usage");
    await expect(kms.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm: "ECDSA_SHA_256", DryRun: true }))).rejects.toMatchObject(DRY_RUN);
    expect(await lastUsage()).toBeUndefined();
    const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm: "ECDSA_SHA_256" }));
    expect(await lastUsage()).toBe("Sign");
    await expect(kms.send(new VerifyCommand({ KeyId: keyId, Message: flipLastBit(Message), Signature, SigningAlgorithm: "ECDSA_SHA_256" }))).rejects.toMatchObject(
      INVALID_SIGNATURE,
    );
    expect(await lastUsage()).toBe("Sign");
    await kms.send(new VerifyCommand({ KeyId: keyId, Message, Signature, SigningAlgorithm: "ECDSA_SHA_256" }));
    expect(await lastUsage()).toBe("Verify");
  });
});

describe("invalid signatures", () => {
  it("answers KMSInvalidSignatureException without a message, never SignatureValid false", async () => {
    const message = Buffer.from("signed once");
    const { Signature } = await sign("ECC_NIST_P256", "ECDSA_SHA_256", message);
    const response = await rawRequest(server, {
      target: "TrentService.Verify",
      body: JSON.stringify({
        KeyId: key("ECC_NIST_P256").keyId,
        Message: Buffer.from("signed twice").toString("base64"),
        Signature: Signature.toString("base64"),
        SigningAlgorithm: "ECDSA_SHA_256",
      }),
    });
    expect(response.status).toBe(400);
    // No message member at all: how the serializer sends every message-less AWS error (protocol/json11.ts).
    expect(JSON.parse(response.text)).toEqual({ __type: "KMSInvalidSignatureException" });
  });

  it("refuses ECDSA signatures over another message, tampered, as raw r ‖ s, as malformed DER, or from another key", async () => {
    const message = Buffer.from("an ECDSA message");
    const { Signature } = await sign("ECC_NIST_P256", "ECDSA_SHA_256", message);
    const raw = derToRawEcdsa(Signature, 32);
    // The raw form is the same signature: node verifies it as IEEE P1363, so only its encoding is refused.
    expect(nodeVerify("sha256", message, { key: spkiKey(key("ECC_NIST_P256").spki), dsaEncoding: "ieee-p1363" }, raw)).toBe(true);
    const { Signature: otherKeys } = await sign("ECC_SECG_P256K1", "ECDSA_SHA_256", message);
    const bad = [
      ["another message", flipLastBit(message), Signature],
      ["a tampered signature", message, flipLastBit(Signature)],
      ["raw r ‖ s", message, raw],
      ["truncated DER", message, Signature.subarray(0, Signature.length - 1)],
      ["DER with trailing bytes", message, Buffer.concat([Signature, Buffer.of(0)])],
      ["not DER at all", message, Buffer.from("not a signature")],
      ["another key's signature", message, otherKeys],
    ] as const;
    for (const [what, Message, signature] of bad) {
      await expect(verify("ECC_NIST_P256", "ECDSA_SHA_256", Message, signature).then(() => what)).rejects.toMatchObject(INVALID_SIGNATURE);
    }
  });

  it("refuses a signature checked with another algorithm or digest, or tampered, for RSA, Ed25519 and ML-DSA", async () => {
    const message = Buffer.from("a message");
    const pss = (await sign("RSA_2048", "RSASSA_PSS_SHA_256", message)).Signature;
    await expect(verify("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", message, pss)).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("RSA_2048", "RSASSA_PSS_SHA_384", message, pss)).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("RSA_2048", "RSASSA_PSS_SHA_256", digest("sha256", flipLastBit(message)), pss, "DIGEST")).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("RSA_2048", "RSASSA_PSS_SHA_256", message, flipLastBit(pss))).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("RSA_2048", "RSASSA_PSS_SHA_256", message, pss.subarray(1))).rejects.toMatchObject(INVALID_SIGNATURE);
    // A 3072-bit key's signature under a 2048-bit key: the wrong length is a bad signature, not an error of ours.
    const longer = (await sign("RSA_3072", "RSASSA_PSS_SHA_256", message)).Signature;
    await expect(verify("RSA_2048", "RSASSA_PSS_SHA_256", message, longer)).rejects.toMatchObject(INVALID_SIGNATURE);

    const pure = (await sign("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", message)).Signature;
    await expect(verify("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", message, flipLastBit(pure))).rejects.toMatchObject(INVALID_SIGNATURE);
    // A pure Ed25519 signature is not an Ed25519ph one over the same message.
    await expect(verify("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", digest("sha512", message), pure, "DIGEST")).rejects.toMatchObject(INVALID_SIGNATURE);
    const prehashed = (await sign("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", digest("sha512", message), "DIGEST")).Signature;
    await expect(verify("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", message, prehashed)).rejects.toMatchObject(INVALID_SIGNATURE);

    const mlDsa = (await sign("ML_DSA_44", "ML_DSA_SHAKE_256", message)).Signature;
    await expect(verify("ML_DSA_44", "ML_DSA_SHAKE_256", message, flipLastBit(mlDsa))).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("ML_DSA_44", "ML_DSA_SHAKE_256", message, mlDsa.subarray(1))).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(verify("ML_DSA_65", "ML_DSA_SHAKE_256", message, mlDsa)).rejects.toMatchObject(INVALID_SIGNATURE);
  });
});

describe("refusals", () => {
  const both = async (
    spec: SigningSpec,
    algorithm: SigningAlgorithmSpec,
    message: Uint8Array,
    messageType: MessageType | undefined,
    expected: { readonly name: string; readonly message: string },
  ) => {
    await expect(sign(spec, algorithm, message, messageType)).rejects.toMatchObject(expected);
    await expect(verify(spec, algorithm, message, Buffer.alloc(64, 1), messageType)).rejects.toMatchObject(expected);
  };

  it("checks a DIGEST's length against the algorithm's hash", async () => {
    for (const [spec, algorithm, length] of [
      ["ECC_NIST_P256", "ECDSA_SHA_256", 48],
      ["ECC_NIST_P384", "ECDSA_SHA_384", 32],
      ["RSA_2048", "RSASSA_PSS_SHA_512", 63],
      ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", 33],
      ["ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", 32],
    ] as const) {
      await both(spec, algorithm, Buffer.alloc(length, 1), "DIGEST", {
        name: "ValidationException",
        message: `Digest is invalid length for algorithm ${algorithm}.`,
      });
    }
  });

  it("refuses a MessageType the algorithm does not take (texts of ours: AWS's are undocumented)", async () => {
    const cases = [
      ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", Buffer.alloc(64, 1), "DIGEST", "RAW"],
      ["ECC_NIST_EDWARDS25519", "ED25519_SHA_512", Buffer.alloc(64, 1), "EXTERNAL_MU", "RAW"],
      ["ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", Buffer.alloc(64, 1), "RAW", "DIGEST"],
      ["ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", Buffer.alloc(64, 1), undefined, "DIGEST"],
      ["ML_DSA_65", "ML_DSA_SHAKE_256", Buffer.alloc(64, 1), "DIGEST", "RAW or EXTERNAL_MU"],
      ["ECC_NIST_P256", "ECDSA_SHA_256", Buffer.alloc(64, 1), "EXTERNAL_MU", "RAW or DIGEST"],
      ["RSA_2048", "RSASSA_PSS_SHA_256", Buffer.alloc(64, 1), "EXTERNAL_MU", "RAW or DIGEST"],
    ] as const;
    for (const [spec, algorithm, message, messageType, allowed] of cases) {
      await both(spec, algorithm, message, messageType, {
        name: "ValidationException",
        message: `MessageType ${messageType ?? "RAW"} is not valid for algorithm ${algorithm}. It requires MessageType ${allowed}.`,
      });
    }
  });

  it("takes an EXTERNAL_MU of exactly 64 bytes", async () => {
    for (const length of [32, 65]) {
      await both("ML_DSA_44", "ML_DSA_SHAKE_256", Buffer.alloc(length, 1), "EXTERNAL_MU", {
        name: "ValidationException",
        message: "External mu is invalid length for algorithm ML_DSA_SHAKE_256.",
      });
    }
  });

  it.each([
    ["SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"],
    ["ECC_NIST_P256", "KEY_AGREEMENT"],
  ] as const)("refuses a %s key of usage %s with AWS's text, dry run or not", async (spec, usage) => {
    const { arn, keyId } = await createKey(spec, usage);
    const request = { KeyId: keyId, Message: Buffer.from("m"), SigningAlgorithm: "ECDSA_SHA_256" } as const;
    const refusal = (operation: string) => ({ name: "InvalidKeyUsageException", message: `${arn} key usage is ${usage} which is not valid for ${operation}.` });
    await expect(kms.send(new SignCommand(request))).rejects.toMatchObject(refusal("Sign"));
    await expect(kms.send(new VerifyCommand({ ...request, Signature: Buffer.alloc(64, 1), DryRun: true }))).rejects.toMatchObject(refusal("Verify"));
  });

  it("refuses an algorithm the key spec does not have, before looking at the message", async () => {
    for (const [spec, algorithm] of [
      ["ECC_NIST_P256", "ECDSA_SHA_384"],
      ["ECC_SECG_P256K1", "ECDSA_SHA_512"],
      ["RSA_2048", "ECDSA_SHA_256"],
      ["ECC_NIST_EDWARDS25519", "RSASSA_PSS_SHA_512"],
      ["ML_DSA_87", "ED25519_SHA_512"],
      ["RSA_4096", "ML_DSA_SHAKE_256"],
      ["ECC_NIST_P256", "SM2DSA"],
    ] as const) {
      // A DIGEST of no algorithm's length: the algorithm is refused first.
      await both(spec, algorithm, Buffer.alloc(7, 1), "DIGEST", {
        name: "InvalidKeyUsageException",
        message: `Algorithm ${algorithm} is incompatible with key spec ${spec}.`,
      });
    }
  });

  it("requires SigningAlgorithm, Message and (Verify) Signature", async () => {
    const KeyId = key("ECC_NIST_P256").keyId;
    const nullAt = (member: string) => `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`;
    await expect(kms.send(new SignCommand({ KeyId, Message: Buffer.from("m") } as never))).rejects.toMatchObject({
      name: "ValidationException",
      message: nullAt("signingAlgorithm"),
    });
    await expect(kms.send(new SignCommand({ KeyId, SigningAlgorithm: "ECDSA_SHA_256" } as never))).rejects.toMatchObject({
      name: "ValidationException",
      message: nullAt("message"),
    });
    await expect(kms.send(new VerifyCommand({ KeyId, Message: Buffer.from("m"), SigningAlgorithm: "ECDSA_SHA_256" } as never))).rejects.toMatchObject({
      name: "ValidationException",
      message: nullAt("signature"),
    });
  });

  it("needs an Enabled key that exists", async () => {
    const { arn, keyId } = await createKey("ECC_NIST_P256", "SIGN_VERIFY");
    const Message = Buffer.from("m");
    const { Signature } = await kms.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm: "ECDSA_SHA_256" }));
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    await expect(kms.send(new SignCommand({ KeyId: keyId, Message, SigningAlgorithm: "ECDSA_SHA_256" }))).rejects.toMatchObject({
      name: "DisabledException",
      message: `${arn} is disabled.`,
    });
    await expect(kms.send(new VerifyCommand({ KeyId: keyId, Message, Signature, SigningAlgorithm: "ECDSA_SHA_256" }))).rejects.toMatchObject({
      name: "DisabledException",
    });
    await expect(
      kms.send(new SignCommand({ KeyId: "11111111-2222-3333-4444-555555555555", Message, SigningAlgorithm: "ECDSA_SHA_256" })),
    ).rejects.toMatchObject({ name: "NotFoundException" });
  });
});

describe("DryRun", () => {
  it("Sign checks key, usage, algorithm and message, then answers DryRunOperationException without signing", async () => {
    const KeyId = key("RSA_2048").keyId;
    await expect(
      kms.send(new SignCommand({ KeyId, Message: Buffer.alloc(32, 1), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256", DryRun: true })),
    ).rejects.toMatchObject(DRY_RUN);
    await expect(
      kms.send(new SignCommand({ KeyId, Message: Buffer.alloc(31, 1), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256", DryRun: true })),
    ).rejects.toMatchObject({ name: "ValidationException", message: "Digest is invalid length for algorithm RSASSA_PSS_SHA_256." });
    await expect(
      kms.send(new SignCommand({ KeyId, Message: Buffer.from("m"), SigningAlgorithm: "ECDSA_SHA_256", DryRun: true })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException", message: "Algorithm ECDSA_SHA_256 is incompatible with key spec RSA_2048." });
  });

  it("Verify checks the signature too: a dry run fails as the real call would", async () => {
    const message = Buffer.from("dry");
    const { Signature } = await sign("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", message);
    const KeyId = key("ECC_NIST_EDWARDS25519").keyId;
    await expect(kms.send(new VerifyCommand({ KeyId, Message: message, Signature, SigningAlgorithm: "ED25519_SHA_512", DryRun: true }))).rejects.toMatchObject(
      DRY_RUN,
    );
    await expect(
      kms.send(new VerifyCommand({ KeyId, Message: flipLastBit(message), Signature, SigningAlgorithm: "ED25519_SHA_512", DryRun: true })),
    ).rejects.toMatchObject(INVALID_SIGNATURE);
    await expect(
      kms.send(new VerifyCommand({ KeyId, Message: message, Signature, SigningAlgorithm: "ED25519_SHA_512", MessageType: "DIGEST", DryRun: true })),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });
});
