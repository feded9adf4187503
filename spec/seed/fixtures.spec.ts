// Seed fixtures through the wire: the example set in YAML and JSON, the known ciphertext, idempotent restarts, bad seeds.
import { createDecipheriv, createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  DecryptCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from "@aws-sdk/client-kms";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { parseConfig } from "../../src/config";
import { startSecretslite } from "../../src/main";
import { seedVersionId } from "../../src/seed/document";
import { additionalData, parseCiphertext } from "../../src/services/kms/ciphertext";
import { startTestServer, type TestServer } from "../support/server";
import { testSoftHsm } from "../support/softhsm";
import { temporaryDirs } from "../support/files";

const FIXTURES = path.join(__dirname, "..", "..", "fixtures");
const YAML_SEED = path.join(FIXTURES, "seed.yaml");
const JSON_SEED = path.join(FIXTURES, "seed.json");
const known = JSON.parse(readFileSync(path.join(FIXTURES, "known-ciphertext.json"), "utf8")) as {
  keyId: string;
  keyMaterialId: string;
  encryptionContext: Record<string, string>;
  plaintext: string;
  ciphertextBlob: string;
};
const EXTERNAL_MATERIAL = Buffer.from("Ka5YRATPMOSGEwvNhna3AnW1t3tj3Ly82OfHWVDxweU=", "base64");

const APP_KEY = "bcd20e05-10b9-453d-899d-1a2f589ac7d7";
const EXTERNAL_KEY = "ff7053a4-f01c-465e-b622-7a7deeffd894";
const RETIRED_KEY = "31a45bbe-fa68-43da-8e64-25d4a17b19e7";
const PARTNER_KEY = "mrk-188b546390d75a5085fc26f020bcd2af";
const PARTNER = { accessKeyId: "111122223333", region: "eu-west-1" };

const tempDir = temporaryDirs("secretslite-seed-");

async function expectFixtures(server: TestServer): Promise<void> {
  const kms = server.kms();
  const sm = server.secretsManager();

  const app = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/app-data" }))).KeyMetadata!;
  expect(app).toMatchObject({ KeyId: APP_KEY, Description: "Application data key", KeyState: "Enabled", Origin: "AWS_KMS", KeySpec: "SYMMETRIC_DEFAULT" });
  expect((await kms.send(new ListResourceTagsCommand({ KeyId: APP_KEY }))).Tags).toEqual([
    { TagKey: "team", TagValue: "payments" },
    { TagKey: "env", TagValue: "dev" },
  ]);
  expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: APP_KEY }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });

  const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases!.filter((alias) => alias.TargetKeyId !== undefined);
  expect(aliases.map((alias) => [alias.AliasName, alias.TargetKeyId]).filter(([name]) => !name!.startsWith("alias/aws/"))).toEqual([
    ["alias/app-data", APP_KEY],
    ["alias/app-data-v1", APP_KEY],
    ["alias/fixtures-external", EXTERNAL_KEY],
  ]);

  const external = (await kms.send(new DescribeKeyCommand({ KeyId: EXTERNAL_KEY }))).KeyMetadata!;
  expect(external).toMatchObject({ Origin: "EXTERNAL", KeyState: "Enabled", ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE", CurrentKeyMaterialId: known.keyMaterialId });

  const retired = (await kms.send(new DescribeKeyCommand({ KeyId: RETIRED_KEY }))).KeyMetadata!;
  expect(retired).toMatchObject({ KeyState: "Disabled", Enabled: false });
  expect(JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: RETIRED_KEY }))).Policy!).Id).toBe("retired-key-policy");

  const partnerKms = server.kms(PARTNER);
  const partnerKey = (await partnerKms.send(new DescribeKeyCommand({ KeyId: "alias/partner" }))).KeyMetadata!;
  expect(partnerKey).toMatchObject({ KeyId: PARTNER_KEY, MultiRegion: true, AWSAccountId: "111122223333" });
  expect(partnerKey.Arn).toBe(`arn:aws:kms:eu-west-1:111122223333:key/${PARTNER_KEY}`);

  expect((await sm.send(new GetSecretValueCommand({ SecretId: "app/api-token" }))).SecretString).toBe("s3cr3t-t0ken");
  expect((await sm.send(new DescribeSecretCommand({ SecretId: "app/api-token" }))).Tags).toEqual([{ Key: "team", Value: "payments" }]);
  expect(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString!)).toEqual({
    engine: "postgres",
    host: "db.internal",
    port: 5432,
    username: "app",
    password: "correct-horse-battery-staple",
  });
  expect((await sm.send(new DescribeSecretCommand({ SecretId: "app/db" }))).KmsKeyId).toBe("alias/app-data");
  const binary = await sm.send(new GetSecretValueCommand({ SecretId: "app/tls-session-key" }));
  expect(Buffer.from(binary.SecretBinary!).toString("base64")).toBe("vvYf7hgEhWoH9p4MbwBvOSUpqy5/+hnz");

  const byStage = async (stage: string): Promise<string | undefined> =>
    (await sm.send(new GetSecretValueCommand({ SecretId: "app/rotating", VersionStage: stage }))).SecretString;
  expect(await byStage("AWSCURRENT")).toBe("password-two");
  expect(await byStage("AWSPREVIOUS")).toBe("password-one");
  expect(await byStage("blue")).toBe("password-two");
  expect(await byStage("green")).toBe("password-three");
  const rotating = await sm.send(new DescribeSecretCommand({ SecretId: "app/rotating" }));
  expect(rotating.VersionIdsToStages).toEqual({
    "00000000-0000-4000-8000-000000000001": ["AWSPREVIOUS"],
    "00000000-0000-4000-8000-000000000002": ["AWSCURRENT", "blue"],
    "00000000-0000-4000-8000-000000000003": ["green"],
  });
  expect(rotating).toMatchObject({
    KmsKeyId: APP_KEY,
    RotationEnabled: true,
    RotationLambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:rotate-app",
    RotationRules: { AutomaticallyAfterDays: 30 },
  });
  expect(rotating.NextRotationDate).toBeInstanceOf(Date);
  const versionIds = (await sm.send(new ListSecretVersionIdsCommand({ SecretId: "app/rotating" }))).Versions!.map((v) => v.VersionId).sort();
  expect(versionIds).toEqual(["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"]);

  const partnerSm = server.secretsManager(PARTNER);
  const partnerCurrent = await partnerSm.send(new GetSecretValueCommand({ SecretId: "partner/credentials" }));
  expect(partnerCurrent.SecretString).toBe("second");
  expect((await partnerSm.send(new GetSecretValueCommand({ SecretId: "partner/credentials", VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first");
  expect((await partnerSm.send(new DescribeSecretCommand({ SecretId: "partner/credentials" }))).KmsKeyId).toBe("alias/partner");
  // The default account and region hold only their own entries.
  expect((await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name).sort()).toEqual([
    "app/api-token",
    "app/db",
    "app/rotating",
    "app/tls-session-key",
  ]);
}

describe("the example fixtures", () => {
  it("YAML: every kind of entry shows through the SDK", async () => {
    const server = await startTestServer({ flags: ["--seed", YAML_SEED] });
    try {
      await expectFixtures(server);
    } finally {
      await server.close();
    }
  });

  it("JSON: the same set, and the known ciphertext from the docs decrypts", async () => {
    const server = await startTestServer({ flags: ["--seed", JSON_SEED] });
    try {
      await expectFixtures(server);
      const decrypted = await server.kms().send(
        new DecryptCommand({ CiphertextBlob: Buffer.from(known.ciphertextBlob, "base64"), EncryptionContext: known.encryptionContext }),
      );
      expect(Buffer.from(decrypted.Plaintext!).toString()).toBe(known.plaintext);
      expect(decrypted).toMatchObject({ KeyId: `arn:aws:kms:us-east-1:000000000000:key/${known.keyId}`, KeyMaterialId: known.keyMaterialId });
    } finally {
      await server.close();
    }
  });

  it("the known ciphertext depends on the key id and material alone: plain AES-256-GCM opens it without any token", () => {
    const parsed = parseCiphertext(Buffer.from(known.ciphertextBlob, "base64"));
    expect(parsed.keyId).toBe(known.keyId);
    // secretslite's KeyMaterialId for imported material: HMAC-SHA256 keyed by the material over the key id.
    expect(createHmac("sha256", EXTERNAL_MATERIAL).update(`secretslite imported key material\0${known.keyId}`).digest("hex")).toBe(known.keyMaterialId);
    const decipher = createDecipheriv("aes-256-gcm", EXTERNAL_MATERIAL, parsed.iv);
    decipher.setAAD(additionalData(parsed.header, known.encryptionContext));
    decipher.setAuthTag(parsed.sealed.subarray(parsed.sealed.length - 16));
    const plaintext = Buffer.concat([decipher.update(parsed.sealed.subarray(0, parsed.sealed.length - 16)), decipher.final()]);
    expect(plaintext.toString()).toBe(known.plaintext);
  });

  it("a restart on the same data dir with the seed again duplicates nothing and changes nothing, not even what callers changed", async () => {
    const dataDir = tempDir();
    const first = await startTestServer({ dataDir, flags: ["--seed", YAML_SEED] });
    const snapshot = async (server: TestServer) => {
      const sm = server.secretsManager();
      const rotating = await sm.send(new DescribeSecretCommand({ SecretId: "app/rotating" }));
      const token = await sm.send(new DescribeSecretCommand({ SecretId: "app/api-token" }));
      const partner = await server.secretsManager(PARTNER).send(new DescribeSecretCommand({ SecretId: "partner/credentials" }));
      return {
        keys: (await server.kms().send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId).sort(),
        aliases: (await server.kms().send(new ListAliasesCommand({}))).Aliases!.map((a) => [a.AliasName, a.TargetKeyId]),
        secrets: (await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => [s.Name, s.ARN]),
        rotating: [rotating.ARN, rotating.CreatedDate, rotating.VersionIdsToStages],
        token: [token.ARN, token.VersionIdsToStages],
        partner: [partner.ARN, partner.VersionIdsToStages],
      };
    };
    let before;
    try {
      await first.secretsManager().send(new PutSecretValueCommand({ SecretId: "app/api-token", SecretString: "changed-by-a-test" }));
      before = await snapshot(first);
    } finally {
      await first.stop();
    }
    const second = await startTestServer({ flags: ["--seed", YAML_SEED], dataDir });
    try {
      expect(await snapshot(second)).toEqual(before);
      expect((await second.secretsManager().send(new GetSecretValueCommand({ SecretId: "app/api-token" }))).SecretString).toBe("changed-by-a-test");
      // Versions the seed gives no id get one derived from partition, name and position: the same on every machine.
      const partnerScope = { account: "111122223333", region: "eu-west-1", partition: "aws" };
      expect(before.partner[1]).toEqual({
        [seedVersionId(partnerScope, "partner/credentials", 0)]: ["AWSPREVIOUS"],
        [seedVersionId(partnerScope, "partner/credentials", 1)]: ["AWSCURRENT"],
      });
    } finally {
      await second.stop();
    }
  });
});

describe("bad seeds stop the start with file, entry and field", () => {
  const cases: Array<[string, string, string, RegExp]> = [
    [
      "a key usage the key spec does not have (CreateKey's text)",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      keySpec: RSA_2048\n      keyUsage: KEY_AGREEMENT\n",
      /bad\.yaml: kms\.keys\[0\]\.keyUsage: key 11111111-2222-4333-8444-555555555555: KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048 \(ValidationException\)/,
    ],
    [
      "a key spec the model does not have",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      keySpec: RSA_1024\n",
      /bad\.yaml: kms\.keys\[0\]\.keySpec: 1 validation error detected: Value 'RSA_1024' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set/,
    ],
    [
      "key material of the wrong length",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n    - keyId: 11111111-2222-4333-8444-555555555556\n      keyMaterial: { base64: AAAA }\n",
      /bad\.yaml: kms\.keys\[1\]\.keyMaterial\.base64: must decode to 32 bytes of AES-256 key material, not 3/,
    ],
    [
      "a key id in no AWS form",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: my-key\n",
      /bad\.yaml: kms\.keys\[0\]\.keyId: 'my-key' is not a key id/,
    ],
    [
      "an account id YAML read as a number",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      account: 000000000000\n",
      /bad\.yaml: kms\.keys\[0\]\.account: must be a 12-digit account id in quotes/,
    ],
    [
      "a description over the model's limit",
      "bad.yaml",
      `kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      description: ${"x".repeat(8193)}\n`,
      /bad\.yaml: kms\.keys\[0\]\.description: 1 validation error detected: .*Member must have length less than or equal to 8192 \(ValidationException\)/,
    ],
    [
      "a rotation period out of range",
      "bad.yaml",
      "kms:\n  keys:\n    - keyId: 11111111-2222-4333-8444-555555555555\n      rotation: { enabled: true, rotationPeriodInDays: 10 }\n",
      /bad\.yaml: kms\.keys\[0\]\.rotation\.rotationPeriodInDays: 1 validation error detected/,
    ],
    [
      "a misspelt field",
      "bad.json",
      JSON.stringify({ secretsmanager: { secrets: [{ name: "a", secretstring: "x" }] } }),
      /bad\.json: secretsmanager\.secrets\[0\]\.secretstring: unknown field; this entry takes name, account, region/,
    ],
    [
      "AWSCURRENT on two versions",
      "bad.yaml",
      "secretsmanager:\n  secrets:\n    - name: a\n      versions:\n        - { secretString: one, stages: [AWSCURRENT] }\n        - { secretString: two, stages: [AWSCURRENT] }\n",
      /bad\.yaml: secretsmanager\.secrets\[0\]\.versions\[1\]\.stages: AWSCURRENT is already on versions\[0\]/,
    ],
    [
      "the same secret twice in one partition",
      "bad.yaml",
      "secretsmanager:\n  secrets:\n    - { name: a, secretString: one }\n    - { name: a, secretString: two }\n",
      /bad\.yaml: secretsmanager\.secrets\[1\]\.name: secret name a is already seeded by secretsmanager\.secrets\[0\]/,
    ],
    [
      "a secret value of the wrong type, named by type only (the value never reaches the message)",
      "bad.yaml",
      "secretsmanager:\n  secrets:\n    - name: a\n      secretString: 918273645\n",
      /\/bad\.yaml: secretsmanager\.secrets\[0\]\.secretString: must be a string, not a number$/,
    ],
    ["broken YAML", "bad.yaml", "kms: [\n", /bad\.yaml: not valid YAML: /],
    ["broken JSON", "bad.json", "{ \"kms\": ", /bad\.json: not valid JSON/],
    [
      "broken JSON next to a secret: located, never quoted",
      "bad.json",
      '{ "secretsmanager": { "secrets": [ { "name": "a", "secretString": "hunter2" } { "name": "b" } ] } }\n',
      /bad\.json: not valid JSON at line 1, column 79$/,
    ],
    [
      "an alias whose key exists nowhere (found when applying)",
      "bad.yaml",
      "kms:\n  aliases:\n    - name: alias/nothing\n      targetKeyId: 11111111-2222-4333-8444-555555555555\n",
      /bad\.yaml: kms\.aliases\[0\]: Key 'arn:aws:kms:us-east-1:000000000000:key\/11111111-2222-4333-8444-555555555555' does not exist \(NotFoundException\)/,
    ],
  ];

  it.each(cases)("%s", async (_name, fileName, text, message) => {
    const dir = tempDir();
    const file = path.join(dir, fileName);
    writeFileSync(file, text);
    await expect(startTestServer({ flags: ["--seed", file] })).rejects.toThrow(message);
  });

  it("reports every bad entry of a file at once", async () => {
    const dir = tempDir();
    const file = path.join(dir, "many.yaml");
    writeFileSync(file, "kms:\n  keys:\n    - keyId: nope\n    - keyId: 11111111-2222-4333-8444-555555555555\n      keyUsage: SIGN_VERIFY\n");
    const error = await startTestServer({ flags: ["--seed", file] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message.split("\n")).toEqual([
      expect.stringMatching(/many\.yaml: kms\.keys\[0\]\.keyId: /),
      expect.stringMatching(/many\.yaml: kms\.keys\[1\]\.keyUsage: key 11111111-2222-4333-8444-555555555555: KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT/),
    ]);
  });
});

describe("an in-process seed document (StartOptions.seed)", () => {
  const configFor = async (dataDir: string) => {
    const token = await testSoftHsm();
    const config = parseConfig(["--port", "0", "--data-dir", dataDir, "--token-label", token.tokenLabel, `--pin=${token.pin}`, "--log-level", "error"], {});
    if (config === undefined) throw new Error("unreachable");
    return config;
  };

  it("applies an object passed in, and names options.seed when it is bad", async () => {
    const config = await configFor(tempDir());
    const running = await startSecretslite(config, {
      seed: { secretsmanager: { secrets: [{ name: "inproc", secretString: { a: 1 } }] } },
    });
    try {
      const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
      const client = new SecretsManagerClient({
        endpoint: running.url,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      expect((await client.send(new GetSecretValueCommand({ SecretId: "inproc" }))).SecretString).toBe('{"a":1}');
      client.destroy();
    } finally {
      await running.close();
    }
    await expect(startSecretslite(await configFor(tempDir()), { seed: { kms: { keys: [{ keyId: 7 }] } } })).rejects.toThrow(
      /^options\.seed: kms\.keys\[0\]\.keyId: must be a string, not the number 7$/,
    );
  });
});
