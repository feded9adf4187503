// The `aws kms` CLI against secretslite: every CLI on the machine (Debian's v2 always; a developer's v1 when present).
import { constants, createPrivateKey, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { CLI_TEST_TIMEOUT_MS, CLIS, clisThatKnow, REQUIRED_CLI, useCliServer } from "../support/aws-cli";
import { ACCOUNT, REGION } from "../support/server";

const spec = useCliServer();

const awsKms = (cli: string, args: readonly string[]) => spec.aws.run(cli, "kms", args);
const awsKmsJson = <T>(cli: string, args: readonly string[]) => spec.aws.json<T>(cli, "kms", args);
const file = (bytes: Buffer): string => spec.aws.file(bytes);

it("finds Debian's aws CLI", () => {
  expect(existsSync(REQUIRED_CLI)).toBe(true);
});

describe.each(CLIS)("%s", (cli) => {
  it("creates a key, encrypts and decrypts a file, and generates a data key that decrypts", async () => {
    const { KeyMetadata } = await awsKmsJson<{ KeyMetadata: { KeyId: string; Arn: string; KeyState: string } }>(cli, [
      "create-key",
      "--description",
      "from the aws CLI",
    ]);
    expect(KeyMetadata.KeyState).toBe("Enabled");
    expect(KeyMetadata.Arn).toBe(`arn:aws:kms:${REGION}:000000000000:key/${KeyMetadata.KeyId}`);

    const plaintext = Buffer.from([0, 1, 2, 250, 255, ...Buffer.from(" binary-safe plaintext")]);
    const encrypted = await awsKmsJson<{ CiphertextBlob: string; KeyId: string; EncryptionAlgorithm: string }>(cli, [
      "encrypt",
      "--key-id",
      KeyMetadata.KeyId,
      "--plaintext",
      file(plaintext),
      "--encryption-context",
      "purpose=cli,tenant=a",
    ]);
    expect(encrypted.KeyId).toBe(KeyMetadata.Arn);
    expect(encrypted.EncryptionAlgorithm).toBe("SYMMETRIC_DEFAULT");
    const blob = file(Buffer.from(encrypted.CiphertextBlob, "base64"));

    const decrypted = await awsKmsJson<{ Plaintext: string; KeyId: string }>(cli, [
      "decrypt",
      "--ciphertext-blob",
      blob,
      "--encryption-context",
      "tenant=a,purpose=cli",
    ]);
    expect(Buffer.from(decrypted.Plaintext, "base64").equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(KeyMetadata.Arn);

    const wrongContext = await awsKms(cli, ["decrypt", "--ciphertext-blob", blob, "--encryption-context", "purpose=other"]);
    expect(wrongContext.code).not.toBe(0);
    expect(wrongContext.stderr).toContain("(InvalidCiphertextException) when calling the Decrypt operation");

    const dataKey = await awsKmsJson<{ Plaintext: string; CiphertextBlob: string; KeyId: string }>(cli, [
      "generate-data-key",
      "--key-id",
      KeyMetadata.Arn,
      "--key-spec",
      "AES_256",
    ]);
    expect(Buffer.from(dataKey.Plaintext, "base64")).toHaveLength(32);
    expect(dataKey.KeyId).toBe(KeyMetadata.Arn);
    const opened = await awsKmsJson<{ Plaintext: string }>(cli, [
      "decrypt",
      "--ciphertext-blob",
      file(Buffer.from(dataKey.CiphertextBlob, "base64")),
      "--key-id",
      KeyMetadata.KeyId,
    ]);
    expect(opened.Plaintext).toBe(dataKey.Plaintext);
  }, CLI_TEST_TIMEOUT_MS);

  it("lists an alias it created and schedules a key's deletion", async () => {
    const { KeyMetadata } = await awsKmsJson<{ KeyMetadata: { KeyId: string; Arn: string } }>(cli, ["create-key"]);
    const aliasName = `alias/cli-${path.basename(cli)}-${Date.now()}`;
    const created = await awsKms(cli, ["create-alias", "--alias-name", aliasName, "--target-key-id", KeyMetadata.KeyId]);
    expect(created).toMatchObject({ code: 0, stdout: "" });
    const { Aliases } = await awsKmsJson<{ Aliases: Array<{ AliasName: string; AliasArn: string; TargetKeyId?: string }> }>(cli, ["list-aliases"]);
    expect(Aliases).toContainEqual(
      expect.objectContaining({ AliasName: aliasName, AliasArn: `arn:aws:kms:${REGION}:000000000000:${aliasName}`, TargetKeyId: KeyMetadata.KeyId }),
    );

    const scheduled = await awsKmsJson<{ KeyId: string; KeyState: string; PendingWindowInDays: number; DeletionDate: unknown }>(cli, [
      "schedule-key-deletion",
      "--key-id",
      KeyMetadata.KeyId,
      "--pending-window-in-days",
      "7",
    ]);
    expect(scheduled).toMatchObject({ KeyId: KeyMetadata.Arn, KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate).toBeDefined();
    const refused = await awsKms(cli, ["encrypt", "--key-id", aliasName, "--plaintext", file(Buffer.from("x"))]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`(KMSInvalidStateException) when calling the Encrypt operation: ${KeyMetadata.Arn} is pending deletion.`);
  }, CLI_TEST_TIMEOUT_MS);
  it("imports key material: create-key --origin EXTERNAL, get-parameters-for-import, import-key-material, delete-imported-key-material", async () => {
    const { KeyMetadata } = await awsKmsJson<{ KeyMetadata: { KeyId: string; Arn: string; KeyState: string } }>(cli, ["create-key", "--origin", "EXTERNAL"]);
    expect(KeyMetadata.KeyState).toBe("PendingImport");
    const params = await awsKmsJson<{ KeyId: string; ImportToken: string; PublicKey: string; ParametersValidTo: unknown }>(cli, [
      "get-parameters-for-import",
      "--key-id",
      KeyMetadata.KeyId,
      "--wrapping-algorithm",
      "RSAES_OAEP_SHA_256",
      "--wrapping-key-spec",
      "RSA_2048",
    ]);
    expect(params.KeyId).toBe(KeyMetadata.Arn);
    const material = randomBytes(32);
    const wrappingKey = createPublicKey({ key: Buffer.from(params.PublicKey, "base64"), format: "der", type: "spki" });
    const encrypted = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, material);
    const validTo = new Date(Date.now() + 7 * 86_400_000);
    const imported = await awsKms(cli, [
      "import-key-material",
      "--key-id",
      KeyMetadata.KeyId,
      "--import-token",
      file(Buffer.from(params.ImportToken, "base64")),
      "--encrypted-key-material",
      file(encrypted),
      "--valid-to",
      validTo.toISOString(),
    ]);
    expect(imported).toMatchObject({ code: 0, stderr: "" });
    const described = await awsKmsJson<{ KeyMetadata: { KeyState: string; ExpirationModel: string } }>(cli, ["describe-key", "--key-id", KeyMetadata.KeyId]);
    expect(described.KeyMetadata).toMatchObject({ KeyState: "Enabled", ExpirationModel: "KEY_MATERIAL_EXPIRES" });
    expect((await awsKms(cli, ["delete-imported-key-material", "--key-id", KeyMetadata.KeyId])).code).toBe(0);
    const after = await awsKmsJson<{ KeyMetadata: { KeyState: string } }>(cli, ["describe-key", "--key-id", KeyMetadata.KeyId]);
    expect(after.KeyMetadata.KeyState).toBe("PendingImport");
  }, CLI_TEST_TIMEOUT_MS);
});

/** What `aws kms` prints for an operation that returns nothing: exit 0, empty stdout. */
const SILENT = { code: 0, stdout: "" };

/** A timestamp as the CLI prints it: v1 passes the wire's epoch seconds through, v2 prints ISO 8601. */
type CliTime = number | string;
const instant = (time: CliTime): number => (typeof time === "number" ? Math.round(time * 1000) : Date.parse(time));

/** The SDK's rejection of a promise, as name and message. */
const rejection = (promise: Promise<unknown>): Promise<{ name: string; message: string }> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: Error) => ({ name: error.name, message: error.message }),
  );

// Each CLI call starts an interpreter (1-2 s), so the keys these tests need are made through the SDK, and the SDK
// checks what each CLI call did: every operation named in a test's title goes through the CLI.
describe.each(CLIS)("%s, the key lifecycle, tag, rotation, policy and alias operations", (cli) => {
  const json = <T>(args: readonly string[]) => awsKmsJson<T>(cli, args);

  it("disable-key, enable-key, update-key-description, cancel-key-deletion", async () => {
    const kms = spec.server.kms();
    const key = (await kms.send(new CreateKeyCommand({ Description: "before" }))).KeyMetadata!;
    const state = async () => (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;

    expect(await awsKms(cli, ["disable-key", "--key-id", key.KeyId!])).toMatchObject(SILENT);
    expect((await state()).KeyState).toBe("Disabled");
    expect(await rejection(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x") })))).toEqual({
      name: "DisabledException",
      message: `${key.Arn} is disabled.`,
    });
    expect(await awsKms(cli, ["enable-key", "--key-id", key.Arn!])).toMatchObject(SILENT);
    expect((await state()).KeyState).toBe("Enabled");

    expect(await awsKms(cli, ["update-key-description", "--key-id", key.KeyId!, "--description", "after, from the CLI"])).toMatchObject(SILENT);
    expect((await state()).Description).toBe("after, from the CLI");

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 30 }));
    expect(await json(["cancel-key-deletion", "--key-id", key.KeyId!])).toEqual({ KeyId: key.Arn });
    // "When this operation succeeds, the key state of the KMS key is Disabled."
    const kept = await state();
    expect(kept.KeyState).toBe("Disabled");
    expect(kept.DeletionDate).toBeUndefined();
  }, CLI_TEST_TIMEOUT_MS);

  it("tag-resource, list-resource-tags, untag-resource; enable-key-rotation, get-key-rotation-status, disable-key-rotation", async () => {
    const kms = spec.server.kms();
    const key = (await kms.send(new CreateKeyCommand({ Tags: [{ TagKey: "team", TagValue: "payments" }] }))).KeyMetadata!;
    const keyId = key.KeyId!;

    expect(await awsKms(cli, ["tag-resource", "--key-id", keyId, "--tags", "TagKey=env,TagValue=test", "TagKey=owner,TagValue=cli"])).toMatchObject(SILENT);
    // The CLI pages through ListResourceTags itself, so it prints the merged Tags without Truncated.
    const listed = await json<{ Tags: Array<{ TagKey: string; TagValue: string }> }>(["list-resource-tags", "--key-id", key.Arn!]);
    expect(listed.Tags).toEqual([
      { TagKey: "team", TagValue: "payments" },
      { TagKey: "env", TagValue: "test" },
      { TagKey: "owner", TagValue: "cli" },
    ]);
    expect(await awsKms(cli, ["untag-resource", "--key-id", keyId, "--tag-keys", "owner", "team"])).toMatchObject(SILENT);
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: "env", TagValue: "test" }]);

    expect(await awsKms(cli, ["enable-key-rotation", "--key-id", keyId])).toMatchObject(SILENT);
    // Debian's CLI 2.9 predates RotationPeriodInDays and leaves it out; the SDK reads the default period.
    expect(await json(["get-key-rotation-status", "--key-id", keyId])).toMatchObject({ KeyRotationEnabled: true });
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    expect(await awsKms(cli, ["disable-key-rotation", "--key-id", keyId])).toMatchObject(SILENT);
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(false);
  }, CLI_TEST_TIMEOUT_MS);

  it("list-key-policies, get-key-policy, put-key-policy; update-alias, delete-alias", async () => {
    const kms = spec.server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const keyId = key.KeyId!;

    expect(await json(["list-key-policies", "--key-id", keyId])).toMatchObject({ PolicyNames: ["default"] });
    const initial = await json<{ Policy: string }>(["get-key-policy", "--key-id", key.Arn!, "--policy-name", "default"]);
    // The default key policy: the account's root may do everything.
    expect(JSON.parse(initial.Policy)).toMatchObject({
      Statement: [expect.objectContaining({ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" })],
    });
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Id: `from-${cli}`,
      Statement: [
        { Sid: "Root", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
        { Sid: "NoDecryptElsewhere", Effect: "Deny", Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "kms:Decrypt", Resource: "*" },
      ],
    });
    expect(await awsKms(cli, ["put-key-policy", "--key-id", keyId, "--policy-name", "default", "--policy", policy])).toMatchObject(SILENT);
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy).toBe(policy);

    const second = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const aliasName = `alias/cli-update-${path.basename(path.dirname(cli))}-${Date.now()}`;
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
    expect(await awsKms(cli, ["update-alias", "--alias-name", aliasName, "--target-key-id", second.Arn!])).toMatchObject(SILENT);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: aliasName }))).KeyMetadata?.KeyId).toBe(second.KeyId);
    expect((await kms.send(new ListAliasesCommand({ KeyId: keyId }))).Aliases).toEqual([]);
    expect(await awsKms(cli, ["delete-alias", "--alias-name", aliasName])).toMatchObject(SILENT);
    expect(await rejection(kms.send(new DescribeKeyCommand({ KeyId: aliasName })))).toEqual({
      name: "NotFoundException",
      message: `Alias arn:aws:kms:${REGION}:${ACCOUNT}:${aliasName} is not found.`,
    });
    // The key it last named is untouched.
    expect((await kms.send(new DescribeKeyCommand({ KeyId: second.KeyId }))).KeyMetadata?.KeyState).toBe("Enabled");
  }, CLI_TEST_TIMEOUT_MS);

  it("re-encrypt, generate-data-key-without-plaintext, generate-data-key-pair-without-plaintext, generate-random", async () => {
    const kms = spec.server.kms();
    const source = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const destination = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const plaintext = Buffer.from("moved between keys by the CLI");
    const encrypted = await kms.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: plaintext, EncryptionContext: { stage: "one" } }));
    const reEncrypted = await json<{ CiphertextBlob: string }>([
      "re-encrypt",
      "--ciphertext-blob", file(Buffer.from(encrypted.CiphertextBlob!)),
      "--source-encryption-context", "stage=one",
      "--destination-key-id", destination.KeyId!,
      "--destination-encryption-context", "stage=two",
    ]);
    expect(reEncrypted).toMatchObject({
      SourceKeyId: source.Arn,
      KeyId: destination.Arn,
      SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
    });
    const moved = Buffer.from(reEncrypted.CiphertextBlob, "base64");
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: moved, EncryptionContext: { stage: "two" } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(destination.Arn);

    const dataKey = await json<{ CiphertextBlob: string }>(["generate-data-key-without-plaintext", "--key-id", source.Arn!, "--key-spec", "AES_128"]);
    // No plaintext key (newer CLIs also print the KeyMaterialId that KMS added in 2025).
    expect(dataKey).toMatchObject({ CiphertextBlob: expect.any(String), KeyId: source.Arn });
    expect(dataKey).not.toHaveProperty("Plaintext");
    const dataKeyPlaintext = await kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(dataKey.CiphertextBlob, "base64") }));
    expect(dataKeyPlaintext.Plaintext).toHaveLength(16);

    const pair = await json<{ PrivateKeyCiphertextBlob: string; PublicKey: string }>([
      "generate-data-key-pair-without-plaintext", "--key-id", source.KeyId!, "--key-pair-spec", "ECC_NIST_P256", "--encryption-context", "use=pair",
    ]);
    expect(pair).toMatchObject({
      PrivateKeyCiphertextBlob: expect.any(String),
      PublicKey: expect.any(String),
      KeyPairSpec: "ECC_NIST_P256",
      KeyId: source.Arn,
    });
    expect(pair).not.toHaveProperty("PrivateKeyPlaintext");
    const privateKey = await kms.send(
      new DecryptCommand({ CiphertextBlob: Buffer.from(pair.PrivateKeyCiphertextBlob, "base64"), EncryptionContext: { use: "pair" } }),
    );
    // The private key KMS encrypted is the one whose public half it returned.
    const derivedPublic = createPublicKey(createPrivateKey({ key: Buffer.from(privateKey.Plaintext!), format: "der", type: "pkcs8" }));
    expect(derivedPublic.export({ format: "der", type: "spki" }).equals(Buffer.from(pair.PublicKey, "base64"))).toBe(true);

    const [random, again] = await Promise.all([
      json<{ Plaintext: string }>(["generate-random", "--number-of-bytes", "48"]),
      json<{ Plaintext: string }>(["generate-random", "--number-of-bytes", "48"]),
    ]);
    expect(Buffer.from(random.Plaintext, "base64")).toHaveLength(48);
    expect(Buffer.from(again.Plaintext, "base64")).toHaveLength(48);
    expect(again.Plaintext).not.toBe(random.Plaintext);
  }, CLI_TEST_TIMEOUT_MS);
});

/** Operations AWS added in 2024 and 2025: Debian's CLI 2.9 (2023) does not know them; v1 1.45 does. */
const NEWER = clisThatKnow("kms", ["rotate-key-on-demand", "list-key-rotations", "get-key-last-usage"]);

it("finds an aws CLI that knows RotateKeyOnDemand, ListKeyRotations and GetKeyLastUsage", () => {
  // What each CLI did not know, so a failure says what the machine has.
  expect({ asked: NEWER.asked, found: NEWER.clis.length > 0 }).toMatchObject({ found: true });
});

// A loop, not describe.each: with no such CLI the test above fails and the rest of this file still runs.
for (const cli of NEWER.clis) describe(`${cli}, the operations newer than Debian's CLI`, () => {
  const json = <T>(args: readonly string[]) => awsKmsJson<T>(cli, args);

  it("get-key-last-usage before and after a use, rotate-key-on-demand, list-key-rotations", async () => {
    const kms = spec.server.kms();
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const created = key.CreationDate!.getTime();

    const unused = await json<{ KeyCreationDate: CliTime; TrackingStartDate: CliTime; KeyLastUsage?: unknown }>(["get-key-last-usage", "--key-id", key.KeyId!]);
    expect(unused).toMatchObject({ KeyId: key.Arn });
    expect([instant(unused.KeyCreationDate), instant(unused.TrackingStartDate)]).toEqual([created, created]);
    expect(unused.KeyLastUsage).toBeUndefined();
    const plaintext = Buffer.from("encrypted before the rotation");
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    const used = await json<{ KeyLastUsage: { Operation: string; Timestamp: CliTime } }>(["get-key-last-usage", "--key-id", key.Arn!]);
    expect(used.KeyLastUsage.Operation).toBe("Encrypt");
    expect(instant(used.KeyLastUsage.Timestamp)).toBeGreaterThanOrEqual(created);

    expect(await json(["rotate-key-on-demand", "--key-id", key.KeyId!])).toEqual({ KeyId: key.Arn });
    const rotations = await json<{ Rotations: unknown[] }>(["list-key-rotations", "--key-id", key.KeyId!]);
    expect(rotations.Rotations).toEqual([expect.objectContaining({ KeyId: key.KeyId, RotationType: "ON_DEMAND", KeyMaterialState: "CURRENT" })]);
    // Ciphertext from before the rotation still decrypts, and the new material encrypts.
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).equals(plaintext)).toBe(true);
    const after = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext }));
    expect(Buffer.from(after.CiphertextBlob!).equals(Buffer.from(CiphertextBlob!))).toBe(false);
  }, CLI_TEST_TIMEOUT_MS);
});
