// The `aws kms` CLI against secretslite: every CLI on the machine (Debian's v2 always; a developer's v1 when present).
import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { CLI_TEST_TIMEOUT_MS, CLIS, REQUIRED_CLI, useCliServer } from "../support/aws-cli";
import { REGION } from "../support/server";

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
