// KMS GenerateMac and VerifyMac end to end: MAC lengths and properties, VerifyMac's refusals, key checks, dry runs, usage.
import { randomBytes } from "node:crypto";
import {
  CreateKeyCommand,
  DisableKeyCommand,
  GenerateMacCommand,
  type KeyMetadata,
  type MacAlgorithmSpec,
  VerifyMacCommand,
} from "@aws-sdk/client-kms";
import { DRY_RUN, grantToken, lastUsage, rawKms, useKmsServer } from "../support/kms";

const env = useKmsServer();

const HMAC_SPECS = [
  { spec: "HMAC_224", algorithm: "HMAC_SHA_224", macBytes: 28 },
  { spec: "HMAC_256", algorithm: "HMAC_SHA_256", macBytes: 32 },
  { spec: "HMAC_384", algorithm: "HMAC_SHA_384", macBytes: 48 },
  { spec: "HMAC_512", algorithm: "HMAC_SHA_512", macBytes: 64 },
] as const;

const createHmacKey = async (spec: (typeof HMAC_SPECS)[number]["spec"] = "HMAC_256"): Promise<KeyMetadata> =>
  (await env.kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: "GENERATE_VERIFY_MAC" }))).KeyMetadata!;

const generateMac = async (keyId: string, message: Uint8Array, algorithm: MacAlgorithmSpec = "HMAC_SHA_256"): Promise<Buffer> =>
  Buffer.from((await env.kms.send(new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm }))).Mac!);

const verifyMac = (keyId: string, message: Uint8Array, mac: Uint8Array, algorithm: MacAlgorithmSpec = "HMAC_SHA_256", dryRun?: boolean) =>
  env.kms.send(new VerifyMacCommand({ KeyId: keyId, Message: message, Mac: mac, MacAlgorithm: algorithm, DryRun: dryRun }));

/** AWS sends it without a message; an empty message goes out as no message member at all. */
const INVALID_MAC = { status: 400, body: { __type: "KMSInvalidMacException" } };

describe("validation", () => {
  it("takes a Message of 1 to 4,096 bytes and requires MacAlgorithm and, for VerifyMac, Mac", async () => {
    const key = await createHmacKey();
    const base = { KeyId: key.KeyId, MacAlgorithm: "HMAC_SHA_256" };
    expect((await rawKms(env.server, "GenerateMac", { ...base, Message: randomBytes(4096).toString("base64") })).status).toBe(200);
    const tooLong = await rawKms(env.server, "GenerateMac", { ...base, Message: randomBytes(4097).toString("base64") });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.__type).toBe("ValidationException");
    expect(tooLong.body.message).toContain("at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096");
    const noAlgorithm = await rawKms(env.server, "GenerateMac", { KeyId: key.KeyId, Message: "eA==" });
    expect(noAlgorithm.body).toEqual({
      __type: "ValidationException",
      message: "1 validation error detected: Value null at 'macAlgorithm' failed to satisfy constraint: Member must not be null",
    });
    const noMac = await rawKms(env.server, "VerifyMac", { ...base, Message: "eA==" });
    expect(noMac.body.message).toBe("1 validation error detected: Value null at 'mac' failed to satisfy constraint: Member must not be null");
    expect((await rawKms(env.server, "GenerateMac", { ...base, Message: "eA==", MacAlgorithm: "HMAC_SHA_1" })).body.__type).toBe("ValidationException");
  });
});

describe("behaviour", () => {
  it("GenerateMac gives a MAC of the algorithm's length for every HMAC spec, stable per message and key, and VerifyMac accepts it", async () => {
    const message = Buffer.from("the message to authenticate");
    for (const { spec, algorithm, macBytes } of HMAC_SPECS) {
      const key = await createHmacKey(spec);
      const generated = await env.kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: algorithm }));
      expect(generated.KeyId).toBe(key.Arn);
      expect(generated.MacAlgorithm).toBe(algorithm);
      const mac = Buffer.from(generated.Mac!);
      expect(mac.length).toBe(macBytes);
      // Deterministic (an HMAC, not a randomised tag), and another message gives another MAC.
      expect((await generateMac(key.KeyId!, message, algorithm)).equals(mac)).toBe(true);
      expect((await generateMac(key.KeyId!, Buffer.from("the message to authenticatf"), algorithm)).equals(mac)).toBe(false);
      const verified = await verifyMac(key.KeyId!, message, mac, algorithm);
      expect(verified).toMatchObject({ KeyId: key.Arn, MacValid: true, MacAlgorithm: algorithm });
    }
  });

  it("gives each key its own MACs: two keys of one spec never agree", async () => {
    const [first, second] = [await createHmacKey("HMAC_384"), await createHmacKey("HMAC_384")];
    const message = randomBytes(64);
    const [a, b] = [await generateMac(first!.KeyId!, message, "HMAC_SHA_384"), await generateMac(second!.KeyId!, message, "HMAC_SHA_384")];
    expect(a.equals(b)).toBe(false);
    await expect(verifyMac(second!.KeyId!, message, a, "HMAC_SHA_384")).rejects.toMatchObject({ name: "KMSInvalidMacException" });
  });

  it("answers every MAC that does not match with KMSInvalidMacException and no message, never MacValid false or a 500", async () => {
    const key = await createHmacKey();
    const other = await createHmacKey();
    const message = randomBytes(100);
    const mac = await generateMac(key.KeyId!, message);
    const tampered = Buffer.from(mac);
    tampered[tampered.length - 1]! ^= 1;
    const wrong: Array<[string, Buffer, Buffer]> = [
      ["tampered", message, tampered],
      ["truncated", message, mac.subarray(0, 16)],
      ["one byte", message, mac.subarray(0, 1)],
      ["extended", message, Buffer.concat([mac, Buffer.alloc(1)])],
      ["the longest the model allows", message, Buffer.concat([mac, Buffer.alloc(6144 - mac.length)])],
      ["another key's", message, await generateMac(other.KeyId!, message)],
      ["another message's", message, await generateMac(key.KeyId!, Buffer.concat([message, Buffer.from("!")]))],
    ];
    for (const [name, body, candidate] of wrong) {
      const request = { KeyId: key.KeyId, MacAlgorithm: "HMAC_SHA_256", Message: body.toString("base64"), Mac: candidate.toString("base64") };
      const answer = await rawKms(env.server, "VerifyMac", request);
      expect({ name, ...answer }).toEqual({ name, ...INVALID_MAC });
    }
    // The same refusal through the SDK: an exception, not a response.
    await expect(verifyMac(key.KeyId!, message, tampered)).rejects.toMatchObject({ name: "KMSInvalidMacException", $metadata: { httpStatusCode: 400 } });
    expect((await verifyMac(key.KeyId!, message, mac)).MacValid).toBe(true);
  });

  it("refuses an algorithm the key's spec does not have, and a key that is not an HMAC key, with InvalidKeyUsageException", async () => {
    const key = await createHmacKey("HMAC_224");
    const message = Buffer.from("m");
    const wrongAlgorithm = { name: "InvalidKeyUsageException", message: "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224." };
    await expect(generateMac(key.KeyId!, message, "HMAC_SHA_256")).rejects.toMatchObject(wrongAlgorithm);
    await expect(verifyMac(key.KeyId!, message, randomBytes(32), "HMAC_SHA_256")).rejects.toMatchObject(wrongAlgorithm);
    const symmetric = (await env.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await expect(generateMac(symmetric.KeyId!, message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`,
    });
    await expect(verifyMac(symmetric.KeyId!, message, randomBytes(32))).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for VerifyMac.`,
    });
    const signing = (await env.kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!;
    await expect(generateMac(signing.KeyId!, message)).rejects.toMatchObject({
      name: "InvalidKeyUsageException",
      message: `${signing.Arn} key usage is SIGN_VERIFY which is not valid for GenerateMac.`,
    });
  });

  it("refuses a disabled key with DisabledException, a dry run included", async () => {
    const key = await createHmacKey();
    const message = Buffer.from("m");
    const mac = await generateMac(key.KeyId!, message);
    await env.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const disabled = { name: "DisabledException", message: `${key.Arn} is disabled.` };
    await expect(generateMac(key.KeyId!, message)).rejects.toMatchObject(disabled);
    await expect(verifyMac(key.KeyId!, message, mac)).rejects.toMatchObject(disabled);
    await expect(verifyMac(key.KeyId!, message, mac, "HMAC_SHA_256", true)).rejects.toMatchObject(disabled);
  });

  it("answers DryRun with DryRunOperationException once every check passed; VerifyMac checks the MAC first", async () => {
    const key = await createHmacKey();
    const message = Buffer.from("m");
    const mac = await generateMac(key.KeyId!, message);
    await expect(
      env.kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: "HMAC_SHA_256", DryRun: true })),
    ).rejects.toMatchObject(DRY_RUN);
    await expect(
      env.kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: "HMAC_SHA_512", DryRun: true })),
    ).rejects.toMatchObject({ name: "InvalidKeyUsageException" });
    await expect(verifyMac(key.KeyId!, message, mac, "HMAC_SHA_256", true)).rejects.toMatchObject(DRY_RUN);
    await expect(verifyMac(key.KeyId!, message, randomBytes(32), "HMAC_SHA_256", true)).rejects.toMatchObject({ name: "KMSInvalidMacException" });
  });

  it("records GenerateMac and VerifyMac as the key's last usage, but not a dry run or a refused MAC; GrantTokens of live grants are accepted", async () => {
    const key = await createHmacKey();
    const message = Buffer.from("m");
    const token = await grantToken(env.kms, key.KeyId!);
    const generated = await env.kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message: message, MacAlgorithm: "HMAC_SHA_256", GrantTokens: [token] }));
    expect(await lastUsage(env.kms, key.KeyId!)).toBe("GenerateMac");
    await expect(verifyMac(key.KeyId!, message, randomBytes(32))).rejects.toMatchObject({ name: "KMSInvalidMacException" });
    await expect(verifyMac(key.KeyId!, message, generated.Mac!, "HMAC_SHA_256", true)).rejects.toMatchObject(DRY_RUN);
    expect(await lastUsage(env.kms, key.KeyId!)).toBe("GenerateMac");
    await env.kms.send(new VerifyMacCommand({ KeyId: key.KeyId, Message: message, Mac: generated.Mac, MacAlgorithm: "HMAC_SHA_256", GrantTokens: [token] }));
    expect(await lastUsage(env.kms, key.KeyId!)).toBe("VerifyMac");
  });
});
