// --enforce-auth for Secrets Manager: identity and resource policies, cross-account secrets, batches, condition keys and
// Secrets Manager's own KMS calls, through the SDK with a principal per client on one started server.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  ValidateResourcePolicyCommand,
} from "@aws-sdk/client-secrets-manager";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";
import { errorOf } from "../support/errors";

const newDir = temporaryDirs("secretslite-secrets-access-spec-");

const A = "111122223333";
const B = "444455556666";

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}
const keys = (name: string): Keys => ({
  accessKeyId: `AKIA${name.toUpperCase().padEnd(16, "0")}`,
  secretAccessKey: `${name}-secret-access-key`.padEnd(40, "0"),
});
const ADMIN = keys("admin");
const READER = keys("reader");
const NOBODY = keys("nobody");
const DENIED = keys("denied");
const TAGGED = keys("tagged");
const STAGER = keys("stager");
const BATCHER = keys("batcher");
const KMSLESS = keys("kmsless");
const VALIDATOR = keys("validator");
const GENERATOR = keys("generator");
const CREATOR = keys("creator");
const CMKONLY = keys("cmkonly");
const PLAIN = keys("plain");
const BOB = keys("bob");
const CAROL = keys("carol");
const DAVE = keys("dave");

const user = (account: string, name: string): string => `arn:aws:iam::${account}:user/${name}`;
const secretArnPrefix = `arn:aws:secretsmanager:${REGION}:${A}:secret:`;

function principalsFile(): string {
  const policy = (statements: object[]): object => ({ Version: "2012-10-17", Statement: statements });
  const document = {
    policies: {
      admin: policy([{ Effect: "Allow", Action: ["secretsmanager:*", "kms:*"], Resource: "*" }]),
      reader: policy([
        // The random suffix as AWS advises matching it: six characters after the name.
        { Sid: "ReadAppDb", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: `${secretArnPrefix}app/db-??????` },
        { Sid: "DescribeTeam", Effect: "Allow", Action: "secretsmanager:DescribeSecret", Resource: `${secretArnPrefix}team/*` },
      ]),
      denied: policy([
        { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" },
        { Sid: "NoBlocked", Effect: "Deny", Action: "secretsmanager:GetSecretValue", Resource: `${secretArnPrefix}blocked/*` },
      ]),
      tagged: policy([
        {
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { StringEquals: { "secretsmanager:ResourceTag/team": "blue" } },
        },
        { Effect: "Allow", Action: "secretsmanager:DescribeSecret", Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/team": "blue" } } },
      ]),
      stager: policy([
        {
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": "AWSPREVIOUS" } },
        },
      ]),
      batcher: policy([
        { Effect: "Allow", Action: "secretsmanager:BatchGetSecretValue", Resource: "*" },
        { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: `${secretArnPrefix}batch/ok-*` },
      ]),
      "secrets-only": policy([{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }]),
      validator: policy([
        { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" },
        { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "*" },
        {
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: { "kms:EncryptionContext:SecretVersionId": "RequestToValidateKeyAccess", "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
        },
      ]),
      "generate-only": policy([
        { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" },
        { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "*" },
      ]),
      creator: policy([
        {
          Effect: "Allow",
          Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
          Resource: `${secretArnPrefix}creator/*`,
          Condition: { StringEquals: { "aws:RequestTag/team": "blue" }, "ForAllValues:StringEquals": { "aws:TagKeys": ["team"] } },
        },
        {
          Effect: "Allow",
          Action: "secretsmanager:DeleteSecret",
          Resource: "*",
          Condition: { NumericGreaterThanEquals: { "secretsmanager:RecoveryWindowInDays": 7 } },
        },
      ]),
      // The user guide's "deny secrets under the AWS managed key" pattern: no KmsKeyArn in the request means the default key.
      "customer-keys-only": policy([
        { Sid: "CustomerKeysOnly", Effect: "Deny", Action: "secretsmanager:CreateSecret", Resource: "*", Condition: { Null: { "secretsmanager:KmsKeyArn": "true" } } },
      ]),
      plain: policy([{ Effect: "Allow", Action: ["secretsmanager:CreateSecret", "secretsmanager:ValidateResourcePolicy"], Resource: "*" }]),
      bob: policy([{ Effect: "Allow", Action: ["secretsmanager:*", "kms:*"], Resource: "*" }]),
    },
    principals: [
      { ...ADMIN, arn: user(A, "admin"), policies: ["admin"] },
      { ...READER, arn: user(A, "reader"), policies: ["reader"] },
      { ...NOBODY, arn: user(A, "nobody") },
      { ...DENIED, arn: user(A, "denied"), policies: ["denied"] },
      { ...TAGGED, arn: user(A, "tagged"), policies: ["tagged"] },
      { ...STAGER, arn: user(A, "stager"), policies: ["stager"] },
      { ...BATCHER, arn: user(A, "batcher"), policies: ["batcher"] },
      { ...KMSLESS, arn: user(A, "kmsless"), policies: ["secrets-only"] },
      { ...VALIDATOR, arn: user(A, "validator"), policies: ["validator"] },
      { ...GENERATOR, arn: user(A, "generator"), policies: ["generate-only"] },
      { ...CREATOR, arn: user(A, "creator"), policies: ["creator"] },
      { ...CMKONLY, arn: user(A, "cmkonly"), policies: ["admin", "customer-keys-only"] },
      { ...PLAIN, arn: user(A, "plain"), policies: ["plain"] },
      { ...BOB, arn: user(B, "bob"), policies: ["bob"] },
      { ...CAROL, arn: user(B, "carol") },
      { ...DAVE, arn: user(B, "dave"), policies: ["secrets-only"] },
    ],
  };
  const file = path.join(newDir(), "principals.json");
  writeFileSync(file, JSON.stringify(document));
  return file;
}

const denied = (who: string, action: string, resource: string, why: "identity" | "resource" | "explicit-identity" | "explicit-resource") => {
  const head = `User: ${who} is not authorized to perform: ${action} on resource: ${resource}`;
  switch (why) {
    case "identity":
      return { name: "AccessDeniedException", message: `${head} because no identity-based policy allows the ${action} action` };
    case "resource":
      return { name: "AccessDeniedException", message: `${head} because no resource-based policy allows the ${action} action` };
    case "explicit-identity":
      return { name: "AccessDeniedException", message: `${head} with an explicit deny in an identity-based policy` };
    case "explicit-resource":
      return { name: "AccessDeniedException", message: `${head} with an explicit deny in a resource-based policy` };
  }
};

const KMS_DENIED = { name: "AccessDeniedException", message: "Access to KMS is not allowed" };
const DEFAULT_KEY_CROSS_ACCOUNT = {
  name: "InvalidRequestException",
  message: "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.",
};

/** A resource policy letting account B (its root: B's IAM then decides) use the secret. */
const sharedWithB = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "ShareWithB", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: "secretsmanager:*", Resource: "*" }],
});

describe("--enforce-auth: Secrets Manager access", () => {
  let server: TestServer;
  const sm = (as: Keys) => new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const kms = (as: Keys) => new KMSClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const create = async (name: string, extra: Partial<ConstructorParameters<typeof CreateSecretCommand>[0]> = {}): Promise<string> =>
    (await sm(ADMIN).send(new CreateSecretCommand({ Name: name, SecretString: `${name}-value`, ...extra }))).ARN ?? "";

  /** A customer key of account A whose policy delegates to A's IAM and lets account B use it for Secrets Manager. */
  let sharedKeyArn = "";
  const arns: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", principalsFile()] });
    const key = await kms(ADMIN).send(
      new CreateKeyCommand({
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: "kms:*", Resource: "*" },
            {
              Sid: "AccountBThroughSecretsManager",
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${B}:root` },
              Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
              Resource: "*",
            },
          ],
        }),
      }),
    );
    sharedKeyArn = key.KeyMetadata?.Arn ?? "";
    for (const name of ["app/db", "app/dbx", "team/one", "blocked/one", "batch/ok-1", "batch/no-1"]) arns[name] = await create(name);
    arns["tagged/blue"] = await create("tagged/blue", { Tags: [{ Key: "team", Value: "blue" }] });
    arns["tagged/red"] = await create("tagged/red", { Tags: [{ Key: "team", Value: "red" }] });
    arns["shared/default"] = await create("shared/default");
    arns["shared/cmk"] = await create("shared/cmk", { KmsKeyId: sharedKeyArn });
    arns["private/db"] = await create("private/db");
    arns["cmk/db"] = await create("cmk/db", { KmsKeyId: sharedKeyArn });
    for (const name of ["shared/default", "shared/cmk"]) {
      await sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: sharedWithB }));
    }
  });
  afterAll(() => server.close());

  describe("identity policies by secret ARN", () => {
    it("allows `name-??????` whatever form the SecretId takes: name, partial ARN, full ARN", async () => {
      for (const id of ["app/db", `${secretArnPrefix}app/db`, arns["app/db"] ?? ""]) {
        expect((await sm(READER).send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe("app/db-value");
      }
    });

    it("`name-??????` does not cover a longer name; the denial echoes the SecretId as sent (name)", async () => {
      expect(await errorOf(sm(READER).send(new GetSecretValueCommand({ SecretId: "app/dbx" })))).toEqual(
        denied(user(A, "reader"), "secretsmanager:GetSecretValue", "app/dbx", "identity"),
      );
    });

    it("echoes a partial ARN as sent", async () => {
      const partial = `${secretArnPrefix}app/dbx`;
      expect(await errorOf(sm(READER).send(new GetSecretValueCommand({ SecretId: partial })))).toEqual(
        denied(user(A, "reader"), "secretsmanager:GetSecretValue", partial, "identity"),
      );
    });

    it("echoes a full ARN as sent", async () => {
      const full = arns["app/dbx"] ?? "";
      expect(await errorOf(sm(READER).send(new GetSecretValueCommand({ SecretId: full })))).toEqual(
        denied(user(A, "reader"), "secretsmanager:GetSecretValue", full, "identity"),
      );
    });

    it("a name prefix (`team/*`) allows its action on the secrets under it", async () => {
      expect((await sm(READER).send(new DescribeSecretCommand({ SecretId: "team/one" }))).ARN).toBe(arns["team/one"]);
    });

    it("a policy allows only the actions it names", async () => {
      expect(await errorOf(sm(READER).send(new DescribeSecretCommand({ SecretId: "app/db" })))).toEqual(
        denied(user(A, "reader"), "secretsmanager:DescribeSecret", "app/db", "identity"),
      );
    });

    it("a principal without policies is denied", async () => {
      expect(await errorOf(sm(NOBODY).send(new GetSecretValueCommand({ SecretId: "app/db" })))).toEqual(
        denied(user(A, "nobody"), "secretsmanager:GetSecretValue", "app/db", "identity"),
      );
    });
  });

  describe("authorization before existence", () => {
    it("a caller not allowed on a missing secret gets AccessDenied, not ResourceNotFound", async () => {
      expect(await errorOf(sm(READER).send(new DescribeSecretCommand({ SecretId: "ops/missing" })))).toEqual(
        denied(user(A, "reader"), "secretsmanager:DescribeSecret", "ops/missing", "identity"),
      );
    });

    it("a caller allowed on it learns that it does not exist", async () => {
      expect((await errorOf(sm(READER).send(new DescribeSecretCommand({ SecretId: "team/missing" })))).name).toBe("ResourceNotFoundException");
    });
  });

  describe("explicit deny", () => {
    it("an identity policy's Deny wins over its Allow", async () => {
      expect(await errorOf(sm(DENIED).send(new GetSecretValueCommand({ SecretId: "blocked/one" })))).toEqual(
        denied(user(A, "denied"), "secretsmanager:GetSecretValue", "blocked/one", "explicit-identity"),
      );
    });

    it("the Deny covers only its action: the rest of the Allow stands", async () => {
      expect((await sm(DENIED).send(new DescribeSecretCommand({ SecretId: "blocked/one" }))).Name).toBe("blocked/one");
    });

    it("a resource policy's Deny wins over the caller's identity policy", async () => {
      const arn = await create("guarded/db");
      await sm(ADMIN).send(
        new PutResourcePolicyCommand({
          SecretId: arn,
          ResourcePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Deny", Principal: { AWS: user(A, "denied") }, Action: "secretsmanager:DescribeSecret", Resource: "*" }],
          }),
        }),
      );
      expect(await errorOf(sm(DENIED).send(new DescribeSecretCommand({ SecretId: "guarded/db" })))).toEqual(
        denied(user(A, "denied"), "secretsmanager:DescribeSecret", "guarded/db", "explicit-resource"),
      );
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "guarded/db" }))).ARN).toBe(arn);
    });
  });

  describe("same-account resource policy", () => {
    it("grants a user that has no IAM policy at all, for the actions it names only", async () => {
      await create("granted/db");
      await sm(ADMIN).send(
        new PutResourcePolicyCommand({
          SecretId: "granted/db",
          ResourcePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: user(A, "nobody") }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
          }),
        }),
      );
      expect((await sm(NOBODY).send(new GetSecretValueCommand({ SecretId: "granted/db" }))).SecretString).toBe("granted/db-value");
      expect(await errorOf(sm(NOBODY).send(new DescribeSecretCommand({ SecretId: "granted/db" })))).toEqual(
        denied(user(A, "nobody"), "secretsmanager:DescribeSecret", "granted/db", "identity"),
      );
    });
  });

  describe("condition keys", () => {
    it("secretsmanager:ResourceTag/team allows the secret tagged blue", async () => {
      expect((await sm(TAGGED).send(new GetSecretValueCommand({ SecretId: "tagged/blue" }))).SecretString).toBe("tagged/blue-value");
    });

    it("secretsmanager:ResourceTag/team denies the secret tagged red", async () => {
      expect(await errorOf(sm(TAGGED).send(new GetSecretValueCommand({ SecretId: "tagged/red" })))).toEqual(
        denied(user(A, "tagged"), "secretsmanager:GetSecretValue", "tagged/red", "identity"),
      );
    });

    it("aws:ResourceTag/team works the same way", async () => {
      expect((await sm(TAGGED).send(new DescribeSecretCommand({ SecretId: "tagged/blue" }))).Name).toBe("tagged/blue");
      expect((await errorOf(sm(TAGGED).send(new DescribeSecretCommand({ SecretId: "tagged/red" })))).name).toBe("AccessDeniedException");
    });

    describe("secretsmanager:VersionStage with ForAnyValue", () => {
      let previous = "";
      let current = "";
      beforeAll(async () => {
        previous = (await sm(ADMIN).send(new CreateSecretCommand({ Name: "staged/db", SecretString: "first" }))).VersionId ?? "";
        current = (await sm(ADMIN).send(new PutSecretValueCommand({ SecretId: "staged/db", SecretString: "second" }))).VersionId ?? "";
      });

      it("allows the stage the policy names", async () => {
        expect((await sm(STAGER).send(new GetSecretValueCommand({ SecretId: "staged/db", VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first");
      });

      it("denies a request without VersionStage or VersionId (AWSCURRENT)", async () => {
        expect(await errorOf(sm(STAGER).send(new GetSecretValueCommand({ SecretId: "staged/db" })))).toEqual(
          denied(user(A, "stager"), "secretsmanager:GetSecretValue", "staged/db", "identity"),
        );
      });

      it("a VersionId alone is judged by the labels that version carries", async () => {
        expect((await sm(STAGER).send(new GetSecretValueCommand({ SecretId: "staged/db", VersionId: previous }))).SecretString).toBe("first");
        expect((await errorOf(sm(STAGER).send(new GetSecretValueCommand({ SecretId: "staged/db", VersionId: current })))).name).toBe(
          "AccessDeniedException",
        );
      });
    });
  });

  describe("request condition keys", () => {
    it("CreateSecret with the tag aws:RequestTag asks for is allowed", async () => {
      const created = await sm(CREATOR).send(new CreateSecretCommand({ Name: "creator/a", SecretString: "a", Tags: [{ Key: "team", Value: "blue" }] }));
      expect(created.Name).toBe("creator/a");
    });

    it("CreateSecret without it is denied on the new secret's ARN, suffix drawn (as AWS prints it)", async () => {
      const error = await errorOf(sm(CREATOR).send(new CreateSecretCommand({ Name: "creator/b", SecretString: "b" })));
      expect(error.name).toBe("AccessDeniedException");
      expect(error.message).toMatch(
        new RegExp(
          `^User: arn:aws:iam::${A}:user/creator is not authorized to perform: secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:${REGION}:${A}:secret:creator/b-[A-Za-z0-9]{6} because no identity-based policy allows the secretsmanager:CreateSecret action$`,
        ),
      );
    });

    it("aws:TagKeys with ForAllValues refuses a tag key the policy does not list", async () => {
      const tags = [
        { Key: "team", Value: "blue" },
        { Key: "extra", Value: "x" },
      ];
      expect((await errorOf(sm(CREATOR).send(new CreateSecretCommand({ Name: "creator/c", SecretString: "c", Tags: tags })))).name).toBe(
        "AccessDeniedException",
      );
    });

    it("secretsmanager:RecoveryWindowInDays: a deletion with a window is allowed, one without recovery has no window and is denied", async () => {
      await sm(CREATOR).send(new CreateSecretCommand({ Name: "creator/d", SecretString: "d", Tags: [{ Key: "team", Value: "blue" }] }));
      expect(await errorOf(sm(CREATOR).send(new DeleteSecretCommand({ SecretId: "creator/d", ForceDeleteWithoutRecovery: true })))).toEqual(
        denied(user(A, "creator"), "secretsmanager:DeleteSecret", "creator/d", "identity"),
      );
      expect((await sm(CREATOR).send(new DeleteSecretCommand({ SecretId: "creator/d" }))).DeletionDate).toBeInstanceOf(Date);
    });
  });

  describe("operations that need more than their own action", () => {
    it("CreateSecret with Tags also needs secretsmanager:TagResource on the new secret", async () => {
      const error = await errorOf(sm(PLAIN).send(new CreateSecretCommand({ Name: "plain/tagged", SecretString: "t", Tags: [{ Key: "k", Value: "v" }] })));
      expect(error.name).toBe("AccessDeniedException");
      expect(error.message).toMatch(
        /^User: arn:aws:iam::111122223333:user\/plain is not authorized to perform: secretsmanager:TagResource on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:plain\/tagged-\w{6} because no identity-based policy allows the secretsmanager:TagResource action$/,
      );
      expect((await sm(PLAIN).send(new CreateSecretCommand({ Name: "plain/untagged", SecretString: "u" }))).Name).toBe("plain/untagged");
    });

    it("ValidateResourcePolicy also needs secretsmanager:PutResourcePolicy", async () => {
      const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: A }, Action: "secretsmanager:GetSecretValue", Resource: "*" }] });
      expect(await errorOf(sm(PLAIN).send(new ValidateResourcePolicyCommand({ ResourcePolicy: policy })))).toEqual({
        name: "AccessDeniedException",
        message: `User: ${user(A, "plain")} is not authorized to perform: secretsmanager:PutResourcePolicy because no identity-based policy allows the secretsmanager:PutResourcePolicy action`,
      });
      expect((await sm(ADMIN).send(new ValidateResourcePolicyCommand({ ResourcePolicy: policy }))).PolicyValidationPassed).toBe(true);
    });
  });

  describe("secretsmanager:KmsKeyArn", () => {
    it("is the ARN of the key the request names by id, so a key id passes a policy written on ARNs", async () => {
      const keyId = sharedKeyArn.split("/").pop() ?? "";
      expect((await sm(CMKONLY).send(new CreateSecretCommand({ Name: "cmkonly/a", KmsKeyId: keyId, SecretString: "a" }))).Name).toBe("cmkonly/a");
    });

    it("is absent when the request names no key: the Null condition denies the default key explicitly", async () => {
      const error = await errorOf(sm(CMKONLY).send(new CreateSecretCommand({ Name: "cmkonly/b", SecretString: "b" })));
      expect(error.name).toBe("AccessDeniedException");
      expect(error.message).toMatch(/secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:cmkonly\/b-\w{6} with an explicit deny in an identity-based policy$/);
    });
  });

  describe("BatchGetSecretValue", () => {
    it("authorizes GetSecretValue per secret into Errors, before existence", async () => {
      const answer = await sm(BATCHER).send(new BatchGetSecretValueCommand({ SecretIdList: ["batch/ok-1", "batch/no-1", "batch/ok-missing", "nothing/here"] }));
      expect(answer.SecretValues?.map((value) => [value.Name, value.SecretString])).toEqual([["batch/ok-1", "batch/ok-1-value"]]);
      const errors = Object.fromEntries((answer.Errors ?? []).map((error) => [error.SecretId, [error.ErrorCode, error.Message]]));
      expect(errors).toEqual({
        "batch/no-1": ["AccessDeniedException", denied(user(A, "batcher"), "secretsmanager:GetSecretValue", "batch/no-1", "identity").message],
        "batch/ok-missing": ["ResourceNotFoundException", "Secrets Manager can't find the specified secret."],
        "nothing/here": ["AccessDeniedException", denied(user(A, "batcher"), "secretsmanager:GetSecretValue", "nothing/here", "identity").message],
      });
    });

    it("the batch itself needs secretsmanager:BatchGetSecretValue", async () => {
      expect(await errorOf(sm(READER).send(new BatchGetSecretValueCommand({ SecretIdList: ["app/db"] })))).toEqual({
        name: "AccessDeniedException",
        message: `User: ${user(A, "reader")} is not authorized to perform: secretsmanager:BatchGetSecretValue because no identity-based policy allows the secretsmanager:BatchGetSecretValue action`,
      });
    });

    it("with Filters it also needs secretsmanager:ListSecrets", async () => {
      expect(await errorOf(sm(BATCHER).send(new BatchGetSecretValueCommand({ Filters: [{ Key: "name", Values: ["batch/"] }] })))).toEqual({
        name: "AccessDeniedException",
        message: `User: ${user(A, "batcher")} is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action`,
      });
    });

    it("with Filters and ListSecrets, each selected secret is authorized by its ARN", async () => {
      const answer = await sm(DENIED).send(new BatchGetSecretValueCommand({ Filters: [{ Key: "name", Values: ["blocked/", "team/"] }] }));
      expect(answer.SecretValues?.map((value) => value.Name)).toEqual(["team/one"]);
      expect(answer.Errors).toEqual([
        {
          SecretId: arns["blocked/one"],
          ErrorCode: "AccessDeniedException",
          Message: denied(user(A, "denied"), "secretsmanager:GetSecretValue", arns["blocked/one"] ?? "", "explicit-identity").message,
        },
      ]);
    });
  });

  describe("cross-account through a resource policy", () => {
    it("the other account reaches the secret by its full ARN (DescribeSecret)", async () => {
      expect((await sm(BOB).send(new DescribeSecretCommand({ SecretId: arns["shared/default"] }))).Name).toBe("shared/default");
    });

    it("by name it looks in its own account, where there is no such secret", async () => {
      expect((await errorOf(sm(BOB).send(new DescribeSecretCommand({ SecretId: "shared/default" })))).name).toBe("ResourceNotFoundException");
    });

    it("policy, versions and tags work by ARN", async () => {
      const arn = arns["shared/default"] ?? "";
      expect((await sm(BOB).send(new GetResourcePolicyCommand({ SecretId: arn }))).ResourcePolicy).toBe(sharedWithB);
      expect((await sm(BOB).send(new ListSecretVersionIdsCommand({ SecretId: arn }))).Versions).toHaveLength(1);
      await sm(BOB).send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: "seen-by", Value: "bob" }] }));
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "shared/default" }))).Tags).toEqual([{ Key: "seen-by", Value: "bob" }]);
      await sm(BOB).send(new UntagResourceCommand({ SecretId: arn, TagKeys: ["seen-by"] }));
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "shared/default" }))).Tags ?? []).toEqual([]);
      await sm(BOB).send(new UpdateSecretCommand({ SecretId: arn, Description: "described by bob" }));
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "shared/default" }))).Description).toBe("described by bob");
    });

    it("GetSecretValue of a secret under the default key: InvalidRequestException", async () => {
      expect(await errorOf(sm(BOB).send(new GetSecretValueCommand({ SecretId: arns["shared/default"] })))).toEqual(DEFAULT_KEY_CROSS_ACCOUNT);
    });

    it("PutSecretValue and UpdateSecret with a value, under the default key: InvalidRequestException", async () => {
      const arn = arns["shared/default"] ?? "";
      expect(await errorOf(sm(BOB).send(new PutSecretValueCommand({ SecretId: arn, SecretString: "x" })))).toEqual(DEFAULT_KEY_CROSS_ACCOUNT);
      expect(await errorOf(sm(BOB).send(new UpdateSecretCommand({ SecretId: arn, SecretString: "x" })))).toEqual(DEFAULT_KEY_CROSS_ACCOUNT);
    });

    it("the secret never shows in the other account's ListSecrets", async () => {
      const listed = await sm(BOB).send(new ListSecretsCommand({}));
      expect(listed.SecretList?.map((secret) => secret.Name) ?? []).not.toContain("shared/default");
      expect(listed.SecretList?.map((secret) => secret.Name) ?? []).not.toContain("shared/cmk");
    });

    it("without a resource policy the other account is denied, naming the resource-based policy", async () => {
      const arn = arns["private/db"] ?? "";
      expect(await errorOf(sm(BOB).send(new DescribeSecretCommand({ SecretId: arn })))).toEqual(
        denied(user(B, "bob"), "secretsmanager:DescribeSecret", arn, "resource"),
      );
    });

    it("another account's ARN that names no secret is refused as cross-account access, not reported missing", async () => {
      const arn = `${secretArnPrefix}no/such-AbCdEf`;
      expect(await errorOf(sm(BOB).send(new GetSecretValueCommand({ SecretId: arn })))).toEqual(
        denied(user(B, "bob"), "secretsmanager:GetSecretValue", arn, "resource"),
      );
    });

    it("with the resource policy but no identity policy in its own account, the other account's user is denied", async () => {
      const arn = arns["shared/default"] ?? "";
      expect(await errorOf(sm(CAROL).send(new DescribeSecretCommand({ SecretId: arn })))).toEqual(
        denied(user(B, "carol"), "secretsmanager:DescribeSecret", arn, "identity"),
      );
    });

    it("under a customer key whose policy allows that account, GetSecretValue and PutSecretValue work", async () => {
      const arn = arns["shared/cmk"] ?? "";
      expect((await sm(BOB).send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("shared/cmk-value");
      await sm(BOB).send(new PutSecretValueCommand({ SecretId: arn, SecretString: "from bob" }));
      expect((await sm(ADMIN).send(new GetSecretValueCommand({ SecretId: "shared/cmk" }))).SecretString).toBe("from bob");
    });

    it("under that customer key, the other account's caller still needs kms:Decrypt in its own IAM policies", async () => {
      expect(await errorOf(sm(DAVE).send(new GetSecretValueCommand({ SecretId: arns["shared/cmk"] })))).toEqual(KMS_DENIED);
      expect((await sm(DAVE).send(new DescribeSecretCommand({ SecretId: arns["shared/cmk"] }))).Name).toBe("shared/cmk");
    });

    it("RotateSecret of a secret under the default key: InvalidRequestException, before any rotation is set up", async () => {
      const arn = arns["shared/default"] ?? "";
      const lambda = `arn:aws:lambda:${REGION}:${A}:function:rotate`;
      expect(await errorOf(sm(BOB).send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambda })))).toEqual(DEFAULT_KEY_CROSS_ACCOUNT);
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "shared/default" }))).RotationEnabled ?? false).toBe(false);
    });

    it("Put/Delete resource policy and DeleteSecret by ARN", async () => {
      const arn = await create("shared/doomed");
      await sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: sharedWithB }));
      await sm(BOB).send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: sharedWithB }));
      await sm(BOB).send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
      expect((await errorOf(sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "shared/doomed" })))).name).toBe("ResourceNotFoundException");
      const other = await create("shared/unshared");
      await sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: other, ResourcePolicy: sharedWithB }));
      await sm(BOB).send(new DeleteResourcePolicyCommand({ SecretId: other }));
      // Deleting the policy took B's access away with it.
      expect(await errorOf(sm(BOB).send(new DescribeSecretCommand({ SecretId: other })))).toEqual(
        denied(user(B, "bob"), "secretsmanager:DescribeSecret", other, "resource"),
      );
    });

    it("BatchGetSecretValue by full ARN answers per secret as GetSecretValue would", async () => {
      const answer = await sm(BOB).send(new BatchGetSecretValueCommand({ SecretIdList: [arns["shared/default"] ?? "", arns["private/db"] ?? ""] }));
      expect(answer.SecretValues).toEqual([]);
      expect(answer.Errors?.map((error) => [error.SecretId, error.ErrorCode, error.Message])).toEqual([
        [arns["shared/default"], DEFAULT_KEY_CROSS_ACCOUNT.name, DEFAULT_KEY_CROSS_ACCOUNT.message],
        [arns["private/db"], "AccessDeniedException", denied(user(B, "bob"), "secretsmanager:GetSecretValue", arns["private/db"] ?? "", "resource").message],
      ]);
    });
  });

  describe("Secrets Manager's KMS calls", () => {
    it("GetSecretValue without kms:Decrypt on the customer key: Access to KMS is not allowed", async () => {
      expect(await errorOf(sm(KMSLESS).send(new GetSecretValueCommand({ SecretId: "cmk/db" })))).toEqual(KMS_DENIED);
    });

    it("under the default key no KMS permission is needed (aws/secretsmanager's policy admits the account via Secrets Manager)", async () => {
      expect((await sm(KMSLESS).send(new GetSecretValueCommand({ SecretId: "private/db" }))).SecretString).toBe("private/db-value");
    });

    it("PutSecretValue and CreateSecret with a value, without kms:GenerateDataKey: Access to KMS is not allowed", async () => {
      expect(await errorOf(sm(KMSLESS).send(new PutSecretValueCommand({ SecretId: "cmk/db", SecretString: "x" })))).toEqual(KMS_DENIED);
      expect(await errorOf(sm(KMSLESS).send(new CreateSecretCommand({ Name: "kmsless/valued", KmsKeyId: sharedKeyArn, SecretString: "x" })))).toEqual(
        KMS_DENIED,
      );
    });

    it("CreateSecret without a value still validates key access (RequestToValidateKeyAccess)", async () => {
      expect(await errorOf(sm(KMSLESS).send(new CreateSecretCommand({ Name: "kmsless/empty", KmsKeyId: sharedKeyArn })))).toEqual(KMS_DENIED);
      expect((await errorOf(sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "kmsless/empty" })))).name).toBe("ResourceNotFoundException");
    });

    it("UpdateSecret changing KmsKeyId of a secret without versions validates key access too", async () => {
      await sm(ADMIN).send(new CreateSecretCommand({ Name: "kmsless/rekeyed" }));
      expect(await errorOf(sm(KMSLESS).send(new UpdateSecretCommand({ SecretId: "kmsless/rekeyed", KmsKeyId: sharedKeyArn })))).toEqual(KMS_DENIED);
    });

    it("the validation Decrypt carries SecretVersionId RequestToValidateKeyAccess and kms:ViaService; a real version's does not", async () => {
      await sm(VALIDATOR).send(new CreateSecretCommand({ Name: "validated/db", KmsKeyId: sharedKeyArn }));
      expect((await sm(ADMIN).send(new DescribeSecretCommand({ SecretId: "validated/db" }))).KmsKeyId).toBe(sharedKeyArn);
      // Sealing needs kms:GenerateDataKey only; reading the value needs a Decrypt whose context names the real version.
      await sm(VALIDATOR).send(new PutSecretValueCommand({ SecretId: "validated/db", SecretString: "x" }));
      expect((await sm(ADMIN).send(new GetSecretValueCommand({ SecretId: "validated/db" }))).SecretString).toBe("x");
      expect(await errorOf(sm(VALIDATOR).send(new GetSecretValueCommand({ SecretId: "validated/db" })))).toEqual(KMS_DENIED);
    });

    it("the validation needs kms:Decrypt as well as kms:GenerateDataKey", async () => {
      expect(await errorOf(sm(GENERATOR).send(new CreateSecretCommand({ Name: "generated/empty", KmsKeyId: sharedKeyArn })))).toEqual(KMS_DENIED);
      // With a value only GenerateDataKey is called, and it is allowed.
      expect((await sm(GENERATOR).send(new CreateSecretCommand({ Name: "generated/valued", KmsKeyId: sharedKeyArn, SecretString: "v" }))).Name).toBe(
        "generated/valued",
      );
    });
  });

  describe("PutResourcePolicy principals", () => {
    it("accepts account roots and bare account ids", async () => {
      await create("principals/ok");
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: [`arn:aws:iam::${B}:root`, A, user(A, "reader")] }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
      });
      expect((await sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: "principals/ok", ResourcePolicy: policy }))).Name).toBe("principals/ok");
    });

    it("refuses an IAM user the principals file does not know", async () => {
      await create("principals/ghost");
      const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: user(A, "ghost") }, Action: "secretsmanager:GetSecretValue", Resource: "*" }] });
      expect(await errorOf(sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: "principals/ghost", ResourcePolicy: policy })))).toEqual({
        name: "MalformedPolicyDocumentException",
        message: "This resource policy contains an unsupported principal.",
      });
    });

    it("refuses a principal that is no IAM principal at all", async () => {
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: "AIDAJQABLZS4A3QDU576Q" }, Action: "secretsmanager:GetSecretValue", Resource: "*" }],
      });
      expect(await errorOf(sm(ADMIN).send(new PutResourcePolicyCommand({ SecretId: "principals/ok", ResourcePolicy: policy })))).toEqual({
        name: "MalformedPolicyDocumentException",
        message: "This resource policy contains an unsupported principal.",
      });
    });
  });
});
