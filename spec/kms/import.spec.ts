// Bring your own key: CreateKey Origin EXTERNAL, GetParametersForImport, ImportKeyMaterial, expiry, DeleteImportedKeyMaterial, new material pending rotation.
// Material expiring at ValidTo, and its wrapped form leaving LevelDB's files: spec/kms/at-rest-deletion.spec.ts.
import { execFileSync } from "node:child_process";
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type CreateKeyRequest,
  type ImportKeyMaterialRequest,
  type KMSClient,
} from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { recordKey } from "../../src/storage/keys";
import { TestClock } from "../support/clock";
import { readStore, wrapMaterial, type WrappingAlgorithm } from "../support/kms";
import { ACCOUNT, REGION, startTestServer, type TestServer } from "../support/server";

const DAY = 86_400_000;
const START = Date.UTC(2031, 0, 1, 12);

describe("behaviour", () => {
  let clock: TestClock;
  let server: TestServer;
  let kms: KMSClient;

  beforeAll(async () => {
    clock = new TestClock(START);
    server = await startTestServer({ clock });
    kms = server.kms();
  });
  afterAll(() => server.close());

  const createKey = async (input: CreateKeyRequest = {}) => (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL", ...input }))).KeyMetadata!;
  const describe_ = async (keyId: string) => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  const parameters = (keyId: string, algorithm: WrappingAlgorithm = "RSAES_OAEP_SHA_256", spec: "RSA_2048" | "RSA_3072" | "RSA_4096" = "RSA_2048") =>
    kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
  /** GetParametersForImport, wrapping, ImportKeyMaterial (does not expire unless the request says otherwise). */
  const importInto = async (keyId: string, material: Buffer, algorithm: WrappingAlgorithm = "RSAES_OAEP_SHA_256", request: Partial<ImportKeyMaterialRequest> = {}) => {
    const { ImportToken, PublicKey } = await parameters(keyId, algorithm);
    return kms.send(
      new ImportKeyMaterialCommand({
        KeyId: keyId,
        ImportToken,
        EncryptedKeyMaterial: wrapMaterial(PublicKey!, algorithm, material),
        ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
        ...request,
      }),
    );
  };

  describe("CreateKey and GetParametersForImport", () => {
    it("creates EXTERNAL keys of every importable spec PendingImport", async () => {
      for (const input of [
        { KeySpec: "HMAC_384", KeyUsage: "GENERATE_VERIFY_MAC" },
        { KeySpec: "RSA_3072", KeyUsage: "SIGN_VERIFY" },
        { KeySpec: "ECC_SECG_P256K1", KeyUsage: "SIGN_VERIFY" },
        { KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" },
      ] as const) {
        expect(await createKey(input)).toMatchObject({ ...input, Origin: "EXTERNAL", KeyState: "PendingImport", Enabled: false });
      }
    });

    it("returns the key ARN, an RSA public key of the spec, a token and 24 hours, reusing the wrapping key", async () => {
      const key = await createKey();
      const first = await parameters(key.KeyId!, "RSAES_OAEP_SHA_1", "RSA_3072");
      expect(first).toMatchObject({ KeyId: key.Arn, ParametersValidTo: new Date(clock.ms + DAY) });
      const publicKey = createPublicKey({ key: Buffer.from(first.PublicKey!), format: "der", type: "spki" });
      expect(publicKey.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072 });
      const second = await parameters(key.Arn!, "RSAES_OAEP_SHA_256", "RSA_3072");
      expect(Buffer.from(second.PublicKey!)).toEqual(Buffer.from(first.PublicKey!));
      expect(Buffer.from(second.ImportToken!)).not.toEqual(Buffer.from(first.ImportToken!));
    });

    it("makes RSA-4096 wrapping keys off the event loop: requests sent after it answer first (ordered, not timed)", async () => {
      const key = await createKey();
      const order = { next: 0 };
      const generation = parameters(key.KeyId!, "RSAES_OAEP_SHA_256", "RSA_4096").then(() => order.next++);
      const reads: number[] = [];
      for (let i = 0; i < 3; i++) {
        await describe_(key.KeyId!);
        reads.push(order.next++);
      }
      expect(Math.max(...reads)).toBeLessThan(await generation);
    }, 60_000);

    it("refuses a key pending deletion with its state", async () => {
      const key = await createKey();
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      await expect(parameters(key.KeyId!)).rejects.toMatchObject({ name: "KMSInvalidStateException", message: `${key.Arn} is pending deletion.` });
    });

    it("refuses keys that are not EXTERNAL, RSAES_PKCS1_V1_5, and wrapping the material type does not allow", async () => {
      const generated = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await expect(parameters(generated.KeyId!)).rejects.toMatchObject({
        name: "UnsupportedOperationException",
        message: `${generated.Arn} origin is AWS_KMS which is not valid for this operation.`,
      });
      const symmetric = await createKey();
      await expect(
        kms.send(new GetParametersForImportCommand({ KeyId: symmetric.KeyId, WrappingAlgorithm: "RSAES_PKCS1_V1_5", WrappingKeySpec: "RSA_2048" })),
      ).rejects.toMatchObject({ name: "ValidationException", message: "As of October 10, 2023, KMS does not support the RSAES_PKCS1_V1_5 wrapping algorithm." });
      await expect(parameters(symmetric.KeyId!, "RSA_AES_KEY_WRAP_SHA_256")).rejects.toMatchObject({
        name: "ValidationException",
        message: "RSA_AES_KEY_WRAP_SHA_256 is supported for wrapping RSA and ECC key material only.",
      });
      const rsa = await createKey({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" });
      await expect(parameters(rsa.KeyId!, "RSAES_OAEP_SHA_256")).rejects.toMatchObject({
        name: "ValidationException",
        message: "To import an RSA private key, you must use an RSA_AES wrapping algorithm.",
      });
      const p521 = await createKey({ KeySpec: "ECC_NIST_P521", KeyUsage: "SIGN_VERIFY" });
      await expect(parameters(p521.KeyId!, "RSAES_OAEP_SHA_1", "RSA_2048")).rejects.toMatchObject({
        name: "ValidationException",
        message: "You cannot use an RSA_2048 public key to directly wrap an ECC_NIST_P521 private key.",
      });
      await expect(parameters(p521.KeyId!, "RSA_AES_KEY_WRAP_SHA_1", "RSA_2048")).resolves.toMatchObject({ KeyId: p521.Arn });
    });
  });

  describe("ImportKeyMaterial, symmetric", () => {
    it("imports with OAEP SHA-1 and SHA-256: the key is Enabled and encrypts; the same material reimports, other material is refused", async () => {
      for (const algorithm of ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const) {
        const key = await createKey({ Description: algorithm });
        const material = randomBytes(32);
        const validTo = new Date(clock.ms + 30 * DAY);
        const imported = await importInto(key.KeyId!, material, algorithm, { ExpirationModel: undefined, ValidTo: validTo });
        expect(imported.KeyId).toBe(key.Arn);
        expect(imported.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
        expect(await describe_(key.KeyId!)).toMatchObject({
          KeyState: "Enabled",
          ExpirationModel: "KEY_MATERIAL_EXPIRES",
          ValidTo: validTo,
          CurrentKeyMaterialId: imported.KeyMaterialId,
        });
        const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("byok") }));
        expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("byok");

        // The same material again (EXISTING by default now) keeps its id and changes the expiry.
        const again = await importInto(key.KeyId!, material, algorithm);
        expect(again.KeyMaterialId).toBe(imported.KeyMaterialId);
        const reimported = await describe_(key.KeyId!);
        expect(reimported).toMatchObject({ ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" });
        expect(reimported.ValidTo).toBeUndefined();
        await expect(importInto(key.KeyId!, randomBytes(32), algorithm)).rejects.toMatchObject({ name: "IncorrectKeyMaterialException" });
        await expect(importInto(key.KeyId!, material, algorithm, { KeyMaterialId: "0".repeat(64) })).rejects.toMatchObject({
          name: "IncorrectKeyMaterialException",
        });
      }
    });

    // The KMS guide (importing-keys.html): imported asymmetric and HMAC keys are "compatible and interoperable" outside
    // AWS (the signature and MAC tests below), but symmetric ciphertexts are KMS's own format, naming their KMS key;
    // a second KMS key with the same imported material does not open another key's ciphertext.
    it("keeps ciphertexts to their key: a second key with the same material has another KeyMaterialId and refuses the first key's ciphertext", async () => {
      const material = randomBytes(32);
      const first = await createKey();
      const second = await createKey();
      const one = await importInto(first.KeyId!, material);
      const two = await importInto(second.KeyId!, material);
      expect(two.KeyMaterialId).not.toBe(one.KeyMaterialId);
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: first.KeyId, Plaintext: Buffer.from("mine") }));
      await expect(kms.send(new DecryptCommand({ CiphertextBlob, KeyId: second.KeyId }))).rejects.toMatchObject({ name: "IncorrectKeyException" });
      expect((await kms.send(new DecryptCommand({ CiphertextBlob }))).KeyId).toBe(first.Arn);
    });

    it("checks the import token and the wrapping", async () => {
      const key = await createKey();
      const other = await createKey();
      const { ImportToken, PublicKey } = await parameters(key.KeyId!);
      const material = randomBytes(32);
      const send = (keyId: string, token: Uint8Array, encrypted = wrapMaterial(PublicKey!, "RSAES_OAEP_SHA_256", material)) =>
        kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: encrypted, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }));
      await expect(send(other.KeyId!, ImportToken!)).rejects.toMatchObject({ name: "InvalidImportTokenException" });
      const tampered = Buffer.from(ImportToken!);
      tampered[20] = (tampered[20] ?? 0) ^ 1;
      await expect(send(key.KeyId!, tampered)).rejects.toMatchObject({ name: "InvalidImportTokenException" });
      await expect(send(key.KeyId!, Buffer.from("not a token"))).rejects.toMatchObject({ name: "InvalidImportTokenException" });
      await expect(send(key.KeyId!, ImportToken!, randomBytes(256))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
      await expect(send(key.KeyId!, ImportToken!, wrapMaterial(PublicKey!, "RSAES_OAEP_SHA_1", material))).rejects.toMatchObject({ name: "InvalidCiphertextException" });
      await expect(send(key.KeyId!, ImportToken!, wrapMaterial(PublicKey!, "RSAES_OAEP_SHA_256", randomBytes(16)))).rejects.toMatchObject({
        name: "IncorrectKeyMaterialException",
      });
      clock.ms += DAY;
      await expect(send(key.KeyId!, ImportToken!)).rejects.toMatchObject({ name: "ExpiredImportTokenException" });
      clock.ms -= DAY - 1;
      await expect(send(key.KeyId!, ImportToken!)).resolves.toMatchObject({ KeyId: key.Arn });
    });

    it("checks ExpirationModel and ValidTo", async () => {
      const key = await createKey();
      const material = randomBytes(32);
      const refused = (request: Partial<ImportKeyMaterialRequest>, message: string) =>
        expect(importInto(key.KeyId!, material, "RSAES_OAEP_SHA_256", { ExpirationModel: undefined, ...request })).rejects.toMatchObject({
          name: "ValidationException",
          message,
        });
      await refused({}, "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES");
      await refused(
        { ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE", ValidTo: new Date(clock.ms + DAY) },
        "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE",
      );
      await refused({ ValidTo: new Date(clock.ms - 1000) }, "The validTo date must be in the future");
      await refused({ ValidTo: new Date(clock.ms + 366 * DAY) }, "The validTo date must be at most 365 days from now");
      await expect(importInto(key.KeyId!, material, "RSAES_OAEP_SHA_256", { ExpirationModel: undefined, ValidTo: new Date(clock.ms + 365 * DAY) })).resolves.toBeDefined();
    });
  });

  describe("ImportKeyMaterial, asymmetric and HMAC", () => {
    it("imports an RSA private key with RSA_AES_KEY_WRAP_SHA_256 and signs with it", async () => {
      const key = await createKey({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" });
      const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pkcs8 = pair.privateKey.export({ format: "der", type: "pkcs8" });
      await importInto(key.KeyId!, pkcs8, "RSA_AES_KEY_WRAP_SHA_256");
      expect(await describe_(key.KeyId!)).toMatchObject({ KeyState: "Enabled" });
      const message = Buffer.from("signed by my own key");
      const { Signature } = await kms.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" }));
      expect(verify("sha256", message, pair.publicKey, Buffer.from(Signature!))).toBe(true);
      const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "der", type: "pkcs8" });
      await expect(importInto(key.KeyId!, other, "RSA_AES_KEY_WRAP_SHA_256")).rejects.toMatchObject({ name: "IncorrectKeyMaterialException" });
      const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ format: "der", type: "pkcs8" });
      const wrongSpec = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
      await expect(importInto(wrongSpec.KeyId!, p384, "RSA_AES_KEY_WRAP_SHA_1")).rejects.toMatchObject({ name: "IncorrectKeyMaterialException" });
    });

    it("imports ECC material with OAEP SHA-1, Ed25519 with RSA_AES_KEY_WRAP_SHA_1 and HMAC material with OAEP SHA-256", async () => {
      const ecc = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      await importInto(ecc.KeyId!, pair.privateKey.export({ format: "der", type: "pkcs8" }), "RSAES_OAEP_SHA_1");
      const message = Buffer.from("ecdsa");
      const { Signature } = await kms.send(new SignCommand({ KeyId: ecc.KeyId, Message: message, SigningAlgorithm: "ECDSA_SHA_256" }));
      expect(verify("sha256", message, pair.publicKey, Buffer.from(Signature!))).toBe(true);

      // Ed25519 is importable too: the model's GetParametersForImport takes "All KMS key types"; only ML-DSA is excluded.
      const ed = await createKey({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" });
      const edPair = generateKeyPairSync("ed25519");
      await importInto(ed.KeyId!, edPair.privateKey.export({ format: "der", type: "pkcs8" }), "RSA_AES_KEY_WRAP_SHA_1");
      const edSigned = await kms.send(new SignCommand({ KeyId: ed.KeyId, Message: message, SigningAlgorithm: "ED25519_SHA_512" }));
      expect(verify(null, message, edPair.publicKey, Buffer.from(edSigned.Signature!))).toBe(true);

      const hmac = await createKey({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" });
      const secret = randomBytes(32);
      await importInto(hmac.KeyId!, secret);
      const { Mac } = await kms.send(new GenerateMacCommand({ KeyId: hmac.KeyId, Message: message, MacAlgorithm: "HMAC_SHA_256" }));
      expect(Buffer.from(Mac!)).toEqual(createHmac("sha256", secret).update(message).digest());
      // Asymmetric and HMAC keys never take other material, NEW or not.
      await expect(importInto(hmac.KeyId!, randomBytes(32), "RSAES_OAEP_SHA_256", { ImportType: "NEW_KEY_MATERIAL" })).rejects.toMatchObject({
        name: "IncorrectKeyMaterialException",
      });
    });
  });

  describe("new material pending rotation", () => {
    it("keeps NEW material PENDING_ROTATION until RotateKeyOnDemand, one at a time", async () => {
      const key = await createKey();
      const first = await importInto(key.KeyId!, randomBytes(32));
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: `No available key material pending rotation for the key: ${key.Arn}.`,
      });
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("before") }));
      const second = await importInto(key.KeyId!, randomBytes(32), "RSAES_OAEP_SHA_256", { ImportType: "NEW_KEY_MATERIAL", KeyMaterialDescription: "next" });
      await expect(importInto(key.KeyId!, randomBytes(32), "RSAES_OAEP_SHA_256", { ImportType: "NEW_KEY_MATERIAL", KeyMaterialId: first.KeyMaterialId })).rejects.toMatchObject({
        name: "ValidationException",
      });
      const third = randomBytes(32);
      await expect(importInto(key.KeyId!, third, "RSAES_OAEP_SHA_256", { ImportType: "NEW_KEY_MATERIAL" })).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: expect.stringMatching(
          new RegExp(`^New key material \\(id: [0-9a-f]{64}\\) cannot be imported into KMS key ${key.Arn}, because another key material \\(id: ${second.KeyMaterialId}\\) is pending rotation\\.$`),
        ),
      });
      const listed = async () => (await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, IncludeKeyMaterial: "ALL_KEY_MATERIAL" }))).Rotations!;
      expect(await listed()).toEqual([
        expect.objectContaining({ KeyMaterialId: first.KeyMaterialId, KeyMaterialState: "CURRENT", ImportState: "IMPORTED", ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }),
        expect.objectContaining({ KeyMaterialId: second.KeyMaterialId, KeyMaterialState: "PENDING_ROTATION", KeyMaterialDescription: "next" }),
      ]);
      expect((await describe_(key.KeyId!)).CurrentKeyMaterialId).toBe(first.KeyMaterialId);
      await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
      expect((await describe_(key.KeyId!)).CurrentKeyMaterialId).toBe(second.KeyMaterialId);
      expect((await listed()).map((entry) => [entry.KeyMaterialState, entry.RotationType])).toEqual([
        ["NON_CURRENT", undefined],
        ["CURRENT", "ON_DEMAND"],
      ]);
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("before");
      await expect(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "UnsupportedOperationException" });
    });
  });

  describe("DeleteImportedKeyMaterial", () => {
    it("deletes the current material: PendingImport until the same material comes back; a PendingDeletion key stays so", async () => {
      const key = await createKey();
      const material = randomBytes(32);
      const imported = await importInto(key.KeyId!, material);
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("kept") }));
      expect(await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId }))).toMatchObject({ KeyId: key.Arn, KeyMaterialId: imported.KeyMaterialId });
      expect(await describe_(key.KeyId!)).toMatchObject({ KeyState: "PendingImport" });
      await expect(kms.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: "KMSInvalidStateException", message: `${key.Arn} is pending import.` });
      expect((await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, IncludeKeyMaterial: "ALL_KEY_MATERIAL" }))).Rotations).toEqual([
        expect.objectContaining({ KeyMaterialId: imported.KeyMaterialId, ImportState: "PENDING_IMPORT" }),
      ]);
      await expect(importInto(key.KeyId!, randomBytes(32))).rejects.toMatchObject({ name: "IncorrectKeyMaterialException" });
      await importInto(key.KeyId!, material);
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("kept");

      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId, KeyMaterialId: imported.KeyMaterialId }));
      expect(await describe_(key.KeyId!)).toMatchObject({ KeyState: "PendingDeletion" });

      const generated = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await expect(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: generated.KeyId }))).rejects.toMatchObject({
        name: "UnsupportedOperationException",
        message: `${generated.Arn} origin is AWS_KMS which is not valid for this operation.`,
      });
    });
  });

  describe("the README walk-through, with openssl", () => {
    const openssl = (dir: string, args: string[]) => execFileSync("openssl", args, { cwd: dir });

    it("wraps 32 bytes with pkeyutl OAEP SHA-256, and a P-256 key with the two-step RSA_AES_KEY_WRAP_SHA_256", async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-byok-"));
      const key = await createKey();
      const params = await parameters(key.KeyId!, "RSAES_OAEP_SHA_256", "RSA_3072");
      writeFileSync(path.join(dir, "wrap.der"), params.PublicKey!);
      openssl(dir, ["pkey", "-pubin", "-inform", "DER", "-in", "wrap.der", "-out", "wrap.pem"]);
      openssl(dir, ["rand", "-out", "material.bin", "32"]);
      openssl(dir, [
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "wrap.pem", "-in", "material.bin", "-out", "material.enc",
        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256",
      ]);
      const encrypted = openssl(dir, ["base64", "-A", "-in", "material.enc"]).toString();
      await kms.send(
        new ImportKeyMaterialCommand({
          KeyId: key.KeyId,
          ImportToken: params.ImportToken,
          EncryptedKeyMaterial: Buffer.from(encrypted, "base64"),
          ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
        }),
      );
      const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("openssl") }));
      expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe("openssl");

      const ecc = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
      const eccParams = await parameters(ecc.KeyId!, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048");
      writeFileSync(path.join(dir, "wrap2.der"), eccParams.PublicKey!);
      openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem"]);
      openssl(dir, ["pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-outform", "DER", "-out", "ec.der"]);
      openssl(dir, ["rand", "-out", "aes.key", "32"]);
      const hex = readFileSync(path.join(dir, "aes.key")).toString("hex");
      openssl(dir, ["enc", "-id-aes256-wrap-pad", "-K", hex, "-iv", "A65959A6", "-in", "ec.der", "-out", "ec.wrapped"]);
      openssl(dir, [
        "pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", "wrap2.der", "-in", "aes.key", "-out", "aes.enc",
        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256",
      ]);
      const encryptedKey = Buffer.concat([readFileSync(path.join(dir, "aes.enc")), readFileSync(path.join(dir, "ec.wrapped"))]);
      await kms.send(
        new ImportKeyMaterialCommand({ KeyId: ecc.KeyId, ImportToken: eccParams.ImportToken, EncryptedKeyMaterial: encryptedKey, ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }),
      );
      const message = Buffer.from("signed here, verified there");
      const { Signature } = await kms.send(new SignCommand({ KeyId: ecc.KeyId, Message: message, SigningAlgorithm: "ECDSA_SHA_256" }));
      const privateKey = createPrivateKey({ key: readFileSync(path.join(dir, "ec.der")), format: "der", type: "pkcs8" });
      expect(verify("sha256", message, createPublicKey(privateKey), Buffer.from(Signature!))).toBe(true);
    });
  });
});

describe("expiry", () => {
  it("drops a wrapping key once every token it issued has expired; its tokens are then expired, not invalid", async () => {
    const clock = new TestClock(START);
    let server = await startTestServer({ clock });
    try {
      const kms = server.kms();
      const key = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
      const issued = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_1", WrappingKeySpec: "RSA_2048" }));
      // Reused for an hour, so the last token it gives out expires 25 hours after it was made.
      clock.ms += 3_600_000 - 1;
      const last = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_1", WrappingKeySpec: "RSA_2048" }));
      expect(Buffer.from(last.PublicKey!)).toEqual(Buffer.from(issued.PublicKey!));
      clock.ms += DAY + 1;
      const material = randomBytes(32);
      await expect(
        kms.send(
          new ImportKeyMaterialCommand({
            KeyId: key.KeyId,
            ImportToken: last.ImportToken,
            EncryptedKeyMaterial: wrapMaterial(last.PublicKey!, "RSAES_OAEP_SHA_1", material),
            ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE",
          }),
        ),
      ).rejects.toMatchObject({ name: "ExpiredImportTokenException" });
      await server.stop();
      const stored = await readStore(server.dataDir, (store) => store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: REGION }, "kms", "kms-key", key.KeyId!)));
      expect(stored?.wrappingKeys).toEqual([]);
      server = await startTestServer({ clock, dataDir: server.dataDir });
      const fresh = await server.kms().send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_1", WrappingKeySpec: "RSA_2048" }));
      expect(Buffer.from(fresh.PublicKey!)).not.toEqual(Buffer.from(issued.PublicKey!));
    } finally {
      await server.close();
    }
  });
});
