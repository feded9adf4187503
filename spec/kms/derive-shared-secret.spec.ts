// KMS DeriveSharedSecret end to end: ECDH secrets checked against node:crypto, peer-key refusals, key checks, dry runs, usage.
import { createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import {
  CreateKeyCommand,
  DeriveSharedSecretCommand,
  type DeriveSharedSecretRequest,
  DisableKeyCommand,
  GetPublicKeyCommand,
  type KeyMetadata,
} from "@aws-sdk/client-kms";
import { DRY_RUN, grantToken, lastUsage, rawKms, useKmsServer } from "../support/kms";

const env = useKmsServer();

const CURVES = [
  { spec: "ECC_NIST_P256", curve: "prime256v1", secretBytes: 32 },
  { spec: "ECC_NIST_P384", curve: "secp384r1", secretBytes: 48 },
  { spec: "ECC_NIST_P521", curve: "secp521r1", secretBytes: 66 },
] as const;

const createAgreementKey = async (spec: (typeof CURVES)[number]["spec"] = "ECC_NIST_P256"): Promise<KeyMetadata> =>
  (await env.kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: "KEY_AGREEMENT" }))).KeyMetadata!;

const publicKeyOf = async (keyId: string): Promise<Buffer> => Buffer.from((await env.kms.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!);

const spki = (key: KeyObject): Buffer => key.export({ type: "spki", format: "der" });

const peerOn = (curve: string) => generateKeyPairSync("ec", { namedCurve: curve });

const derive = (keyId: string, publicKey: Uint8Array, extra: Partial<DeriveSharedSecretRequest> = {}) =>
  env.kms.send(new DeriveSharedSecretCommand({ KeyId: keyId, KeyAgreementAlgorithm: "ECDH", PublicKey: publicKey, ...extra }));

/** AWS's answer to a bad peer key: ValidationException without a message (no message member on the wire). */
const BAD_PEER = { status: 400, body: { __type: "ValidationException" } };

describe("validation", () => {
  it("requires KeyAgreementAlgorithm, takes only ECDH, and requires PublicKey", async () => {
    const key = await createAgreementKey();
    const peer = spki(peerOn("prime256v1").publicKey).toString("base64");
    expect((await rawKms(env.server, "DeriveSharedSecret", { KeyId: key.KeyId, PublicKey: peer })).body).toEqual({
      __type: "ValidationException",
      message: "1 validation error detected: Value null at 'keyAgreementAlgorithm' failed to satisfy constraint: Member must not be null",
    });
    const wrongAlgorithm = await rawKms(env.server, "DeriveSharedSecret", { KeyId: key.KeyId, PublicKey: peer, KeyAgreementAlgorithm: "ECDHE" });
    expect(wrongAlgorithm.body.__type).toBe("ValidationException");
    expect(wrongAlgorithm.body.message).toContain("Member must satisfy enum value set: [ECDH]");
    expect((await rawKms(env.server, "DeriveSharedSecret", { KeyId: key.KeyId, KeyAgreementAlgorithm: "ECDH" })).body.message).toBe(
      "1 validation error detected: Value null at 'publicKey' failed to satisfy constraint: Member must not be null",
    );
  });
});

describe("behaviour", () => {
  it("derives the raw ECDH x-coordinate node:crypto computes from the other side, on P-256, P-384 and P-521", async () => {
    for (const { spec, curve, secretBytes } of CURVES) {
      const key = await createAgreementKey(spec);
      const peer = peerOn(curve);
      const derived = await derive(key.KeyId!, spki(peer.publicKey));
      expect(derived).toMatchObject({ KeyId: key.Arn, KeyAgreementAlgorithm: "ECDH", KeyOrigin: "AWS_KMS" });
      expect(derived.CiphertextForRecipient).toBeUndefined();
      const secret = Buffer.from(derived.SharedSecret!);
      expect(secret.length).toBe(secretBytes);
      // The peer's side: its private key and the KMS key's public key from GetPublicKey.
      const kmsPublicKey = createPublicKey({ key: await publicKeyOf(key.KeyId!), format: "der", type: "spki" });
      expect(secret.equals(diffieHellman({ privateKey: peer.privateKey, publicKey: kmsPublicKey }))).toBe(true);
    }
  });

  it("lets two KMS keys agree: each derives the same secret with the other's GetPublicKey", async () => {
    const [alice, bob] = [await createAgreementKey("ECC_NIST_P384"), await createAgreementKey("ECC_NIST_P384")];
    const fromAlice = await derive(alice!.KeyId!, await publicKeyOf(bob!.KeyId!));
    const fromBob = await derive(bob!.KeyId!, await publicKeyOf(alice!.KeyId!));
    expect(Buffer.from(fromAlice.SharedSecret!).equals(Buffer.from(fromBob.SharedSecret!))).toBe(true);
  });

  it("answers a peer key that is not SPKI DER on the key's curve with ValidationException and no message", async () => {
    const key = await createAgreementKey();
    const onP256 = peerOn("prime256v1").publicKey;
    const jwk = onP256.export({ format: "jwk" });
    const rawPoint = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
    const offCurve = spki(onP256);
    offCurve[offCurve.length - 1]! ^= 1;
    const bad: Array<[string, Buffer]> = [
      ["garbage", randomBytes(91)],
      ["a raw uncompressed point, not SPKI", rawPoint],
      ["PEM, not DER", Buffer.from(onP256.export({ type: "spki", format: "pem" }))],
      ["a point off the curve", offCurve],
      ["P-384", spki(peerOn("secp384r1").publicKey)],
      ["secp256k1", spki(peerOn("secp256k1").publicKey)],
      ["RSA", spki(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey)],
      ["X25519", spki(generateKeyPairSync("x25519").publicKey)],
    ];
    for (const [name, publicKey] of bad) {
      const request = { KeyId: key.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: publicKey.toString("base64") };
      const answer = await rawKms(env.server, "DeriveSharedSecret", request);
      expect({ name, ...answer }).toEqual({ name, ...BAD_PEER });
    }
    await expect(derive(key.KeyId!, rawPoint)).rejects.toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
  });

  it("refuses keys that are not KEY_AGREEMENT keys with InvalidKeyUsageException", async () => {
    const peer = spki(peerOn("prime256v1").publicKey);
    for (const input of [{ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }, { KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }, {}] as const) {
      const key = (await env.kms.send(new CreateKeyCommand(input))).KeyMetadata!;
      await expect(derive(key.KeyId!, peer)).rejects.toMatchObject({
        name: "InvalidKeyUsageException",
        message: `${key.Arn} key usage is ${key.KeyUsage} which is not valid for DeriveSharedSecret.`,
      });
    }
  });

  it("refuses a disabled key with DisabledException, and a Recipient as secretslite refuses every one", async () => {
    const key = await createAgreementKey();
    const peer = spki(peerOn("prime256v1").publicKey);
    const recipient = { KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as const, AttestationDocument: randomBytes(64) };
    await expect(derive(key.KeyId!, peer, { Recipient: recipient })).rejects.toMatchObject({
      name: "ValidationException",
      message: "The attestation document in Recipient could not be verified: secretslite cannot verify AWS Nitro attestation signatures.",
    });
    await env.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(derive(key.KeyId!, peer)).rejects.toMatchObject({ name: "DisabledException", message: `${key.Arn} is disabled.` });
    await expect(derive(key.KeyId!, peer, { DryRun: true })).rejects.toMatchObject({ name: "DisabledException" });
  });

  it("answers DryRun with DryRunOperationException only after the peer key passed, and records only real derivations", async () => {
    const key = await createAgreementKey();
    const peer = spki(peerOn("prime256v1").publicKey);
    const token = await grantToken(env.kms, key.KeyId!);
    await expect(derive(key.KeyId!, peer, { DryRun: true, GrantTokens: [token] })).rejects.toMatchObject(DRY_RUN);
    await expect(derive(key.KeyId!, randomBytes(91), { DryRun: true })).rejects.toMatchObject({ name: "ValidationException" });
    expect(await lastUsage(env.kms, key.KeyId!)).toBeUndefined();
    await derive(key.KeyId!, peer, { GrantTokens: [token] });
    expect(await lastUsage(env.kms, key.KeyId!)).toBe("DeriveSharedSecret");
  });
});
