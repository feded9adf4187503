// --enforce-auth: each request authorized as AWS would, through the SDK with different principals on a started server.
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { parseConfig } from "../../src/config";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";
import { errorOf } from "../support/errors";
import { writePrincipalsFile } from "../support/principals";

const newDir = temporaryDirs("secretslite-enforce-spec-");

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}
const ADMIN: Keys = { accessKeyId: "AKIAADMIN00000000001", secretAccessKey: "admin-secret-access-key-000000000000000" };
const READER: Keys = { accessKeyId: "AKIAREADER0000000001", secretAccessKey: "reader-secret-access-key-00000000000000" };
const NOBODY: Keys = { accessKeyId: "AKIANOBODY0000000001", secretAccessKey: "nobody-secret-access-key-00000000000000" };

function principalsFile(): string {
  return writePrincipalsFile(
    newDir(),
    [
      { ...ADMIN, arn: "arn:aws:iam::111122223333:user/admin", policies: ["admin"] },
      { ...READER, arn: "arn:aws:iam::111122223333:user/reader", policies: ["read-app"] },
      { ...NOBODY, arn: "arn:aws:iam::111122223333:user/nobody" },
    ],
    {
      "read-app": {
        Version: "2012-10-17",
        Statement: [{ Sid: "ReadApp", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:*:111122223333:secret:app/*" }],
      },
    },
  );
}

describe("--enforce-auth", () => {
  let server: TestServer;
  const sm = (as: Keys) => new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const kms = (as: Keys) => new KMSClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", principalsFile()] });
  });
  afterAll(() => server.close());

  it("needs --principals and turns on signature checks", () => {
    expect(() => parseConfig(["--enforce-auth"], {})).toThrow("--enforce-auth needs --principals");
    expect(parseConfig(["--enforce-auth", "--principals", "p.yaml"], {})?.verifySignatures).toBe(true);
    expect(parseConfig([], { SECRETSLITE_ENFORCE_AUTH: "1", SECRETSLITE_PRINCIPALS: "p.yaml" })?.enforceAuth).toBe(true);
  });

  it("allows what an identity policy allows, on the resource it names, and denies the rest in AWS's words", async () => {
    await sm(ADMIN).send(new CreateSecretCommand({ Name: "app/db", SecretString: "s3cret" }));
    await sm(ADMIN).send(new CreateSecretCommand({ Name: "ops/db", SecretString: "other" }));
    expect((await sm(READER).send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString).toBe("s3cret");
    expect(await errorOf(sm(READER).send(new GetSecretValueCommand({ SecretId: "ops/db" })))).toEqual({
      name: "AccessDeniedException",
      message: "User: arn:aws:iam::111122223333:user/reader is not authorized to perform: secretsmanager:GetSecretValue on resource: ops/db because no identity-based policy allows the secretsmanager:GetSecretValue action",
    });
    expect(await errorOf(sm(NOBODY).send(new ListSecretsCommand({})))).toEqual({
      name: "AccessDeniedException",
      message: "User: arn:aws:iam::111122223333:user/nobody is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action",
    });
  });

  it("decides before existence: a denied caller is not told a secret does not exist", async () => {
    expect((await errorOf(sm(NOBODY).send(new GetSecretValueCommand({ SecretId: "missing" })))).name).toBe("AccessDeniedException");
    expect((await errorOf(sm(ADMIN).send(new GetSecretValueCommand({ SecretId: "missing" })))).name).toBe("ResourceNotFoundException");
  });

  it("KMS: the default key policy delegates to IAM", async () => {
    const key = await kms(ADMIN).send(new CreateKeyCommand({}));
    const keyId = key.KeyMetadata?.KeyId ?? "";
    const sealed = await kms(ADMIN).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }));
    expect((await kms(ADMIN).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }))).KeyId).toBe(key.KeyMetadata?.Arn);
    expect(await errorOf(kms(NOBODY).send(new DescribeKeyCommand({ KeyId: keyId })))).toEqual({
      name: "AccessDeniedException",
      message: `User: arn:aws:iam::111122223333:user/nobody is not authorized to perform: kms:DescribeKey on resource: ${key.KeyMetadata?.Arn} because no identity-based policy allows the kms:DescribeKey action`,
    });
  });
});
