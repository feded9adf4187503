// Resource policies: Put (syntax, BlockPublicPolicy), Get, Delete and ValidateResourcePolicy.
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { Scope } from "../../src/services/scope";
import { createSecret } from "../../src/services/secretsmanager/create-secret";
import { deleteResourcePolicy } from "../../src/services/secretsmanager/delete-resource-policy";
import { putResourcePolicy } from "../../src/services/secretsmanager/put-resource-policy";
import { secretsContext } from "../support/secrets-context";
import { rawRequest, startTestServer, type TestServer } from "../support/server";

const clock = {
  time: Date.parse("2026-04-01T08:00:00Z"),
  now(): Date {
    clock.time += 1000;
    return new Date(clock.time);
  },
};

let server: TestServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  server = await startTestServer({ clock });
  sm = server.secretsManager();
});
afterAll(() => server.close());

let counter = 0;
async function newSecret(): Promise<{ name: string; arn: string }> {
  const name = `policy/${++counter}`;
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
  return { name, arn: created.ARN! };
}

const statement = (fields: Record<string, unknown>) => ({
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:role/reader" },
  Action: "secretsmanager:GetSecretValue",
  Resource: "*",
  ...fields,
});
const policy = (...statements: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const PRIVATE = policy(statement({}));

const malformed = { name: "MalformedPolicyDocumentException", message: "This policy has invalid syntax." };
const publicRefusal = {
  name: "PublicPolicyException",
  message: "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
};

describe("validation", () => {
  it("holds a policy to 1–20,480 characters and requires it, as the model does", async () => {
    const { name } = await newSecret();
    const raw = async (body: unknown) => {
      const res = await rawRequest(server, { target: "secretsmanager.PutResourcePolicy", body: JSON.stringify(body) });
      return JSON.parse(res.text) as { __type: string; message: string };
    };
    const tooLong = await raw({ SecretId: name, ResourcePolicy: `${PRIVATE.slice(0, -1)}${" ".repeat(20481 - PRIVATE.length)}}` });
    expect(tooLong.__type).toBe("ValidationException");
    expect(tooLong.message).toContain("at 'resourcePolicy' failed to satisfy constraint: Member must have length less than or equal to 20480");
    expect((await raw({ SecretId: name })).message).toBe(
      "1 validation error detected: Value null at 'resourcePolicy' failed to satisfy constraint: Member must not be null",
    );
    // 20,480 characters exactly is taken.
    const longest = `${PRIVATE.slice(0, -1)}${" ".repeat(20480 - PRIVATE.length)}}`;
    expect(longest).toHaveLength(20480);
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: longest }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBe(longest);
  });
});

describe("behaviour", () => {
  it("has no ResourcePolicy member before a policy is put", async () => {
    const { name, arn } = await newSecret();
    const res = await rawRequest(server, { target: "secretsmanager.GetResourcePolicy", body: JSON.stringify({ SecretId: name }) });
    expect(JSON.parse(res.text)).toEqual({ ARN: arn, Name: name });
  });

  it("stores the policy exactly as given, returns it by name or ARN, and moves LastChangedDate", async () => {
    const { name, arn } = await newSecret();
    const before = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).LastChangedDate!;
    const text = `{\n  "Version" : "2012-10-17",\n  "Statement" : ${JSON.stringify([statement({ Sid: "Reader" })], null, 4)}\n}`;
    expect(await sm.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: text }))).toMatchObject({ ARN: arn, Name: name });
    for (const id of [name, arn]) {
      expect(await sm.send(new GetResourcePolicyCommand({ SecretId: id }))).toMatchObject({ ARN: arn, Name: name, ResourcePolicy: text });
    }
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).LastChangedDate!.getTime()).toBeGreaterThan(before.getTime());
    const replacement = policy(statement({ Action: ["secretsmanager:DescribeSecret"] }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: replacement }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBe(replacement);
  });

  it("refuses a policy that is not JSON or breaks the policy grammar, keeping the one it had", async () => {
    const { name } = await newSecret();
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PRIVATE }));
    const broken = [
      "{not json",
      "[]",
      '"policy"',
      JSON.stringify({ Version: "2012-10-17" }),
      JSON.stringify({ Version: "2012-10-17", Statement: [] }),
      JSON.stringify({ Version: "2019-10-19", Statement: [statement({})] }),
      JSON.stringify({ Version: "2012-10-17", Statement: [statement({})], Extra: 1 }),
      policy(statement({ Effect: "Maybe" })),
      policy(statement({ Action: undefined })),
      policy(statement({ Action: [] })),
      policy(statement({ Action: "a", NotAction: "b" })),
      policy(statement({ Principal: undefined })),
      policy(statement({ Principal: { Robots: "*" } })),
      policy(statement({ Principal: "someone" })),
      policy(statement({ Resource: 7 })),
      policy(statement({ Condition: "aws:SourceIp" })),
      policy(statement({ Unknown: true })),
    ];
    for (const text of broken) {
      await expect(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: text }))).rejects.toMatchObject(malformed);
    }
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBe(PRIVATE);
  });

  it("blocks a policy granting access to '*' without a restricting condition only when BlockPublicPolicy is true", async () => {
    const { name } = await newSecret();
    const open = [
      policy(statement({ Principal: "*" })),
      policy(statement({ Principal: { AWS: "*" } })),
      policy(statement({}), statement({ Principal: { AWS: ["arn:aws:iam::111122223333:root", "*"] } })),
      policy(statement({ Principal: undefined, NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" } })),
      policy(statement({ Principal: "*", Condition: { StringNotEquals: { "aws:PrincipalAccount": "111122223333" } } })),
      policy(statement({ Principal: "*", Condition: { StringEquals: { "aws:PrincipalAccount": "*" } } })),
      policy(statement({ Principal: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } })),
    ];
    for (const text of open) {
      await expect(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: text, BlockPublicPolicy: true }))).rejects.toMatchObject(
        publicRefusal,
      );
      expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBeUndefined();
    }
    const closed = [
      PRIVATE,
      policy(statement({ Principal: "*", Condition: { StringEquals: { "aws:PrincipalAccount": "111122223333" } } })),
      policy(statement({ Principal: { AWS: "*" }, Condition: { StringEquals: { "aws:PrincipalOrgID": ["o-abc123"] } } })),
      policy(statement({ Effect: "Deny", Principal: "*" })),
    ];
    for (const text of closed) {
      await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: text, BlockPublicPolicy: true }));
      expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBe(text);
    }
    // "By default, public policies aren't blocked."
    for (const BlockPublicPolicy of [undefined, false]) {
      await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: open[0], BlockPublicPolicy }));
      expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBe(open[0]);
    }
  });

  it("deletes the policy, and answers the same for a secret without one", async () => {
    const { name, arn } = await newSecret();
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PRIVATE }));
    expect(await sm.send(new DeleteResourcePolicyCommand({ SecretId: arn }))).toMatchObject({ ARN: arn, Name: name });
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBeUndefined();
    expect(await sm.send(new DeleteResourcePolicyCommand({ SecretId: name }))).toMatchObject({ ARN: arn, Name: name });
  });

  it("refuses a secret scheduled for deletion and one that does not exist", async () => {
    const { name } = await newSecret();
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PRIVATE }));
    await sm.send(new DeleteSecretCommand({ SecretId: name }));
    const scheduled = { name: "InvalidRequestException", message: "You can't perform this operation on the secret because it was marked for deletion." };
    await expect(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PRIVATE }))).rejects.toMatchObject(scheduled);
    await expect(sm.send(new GetResourcePolicyCommand({ SecretId: name }))).rejects.toMatchObject(scheduled);
    await expect(sm.send(new DeleteResourcePolicyCommand({ SecretId: name }))).rejects.toMatchObject(scheduled);
    const missing = { name: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." };
    await expect(sm.send(new PutResourcePolicyCommand({ SecretId: "no/such", ResourcePolicy: PRIVATE }))).rejects.toMatchObject(missing);
    await expect(sm.send(new GetResourcePolicyCommand({ SecretId: "no/such" }))).rejects.toMatchObject(missing);
    await expect(sm.send(new DeleteResourcePolicyCommand({ SecretId: "no/such" }))).rejects.toMatchObject(missing);
  });

  it("validates a policy without storing it: passes, fails broad access, refuses bad syntax", async () => {
    const { name } = await newSecret();
    expect(await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: PRIVATE }))).toMatchObject({
      PolicyValidationPassed: true,
      ValidationErrors: [],
    });
    const broad = await sm.send(new ValidateResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy(statement({ Principal: "*" })) }));
    expect(broad.PolicyValidationPassed).toBe(false);
    expect(broad.ValidationErrors).toEqual([{ CheckName: "BROAD_ACCESS", ErrorMessage: expect.stringContaining('all principals ("*")') }]);
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy).toBeUndefined();
    await expect(sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: "{" }))).rejects.toMatchObject(malformed);
    await expect(sm.send(new ValidateResourcePolicyCommand({ SecretId: "no/such", ResourcePolicy: PRIVATE }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("refuses to change a replica's policy outside its primary's region", async () => {
    const scope: Scope = { account: "000000000000", region: "eu-west-1", partition: "aws" };
    const { store, domain, context } = await secretsContext(scope);
    const ctx = context();
    await createSecret({ Name: "copy" }, ctx);
    await domain.secrets.update(scope, "copy", (current) => ({ secret: { ...current, primaryRegion: "us-east-1" } }));
    const refusal = {
      name: "InvalidParameterException",
      message: "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
    };
    await expect(putResourcePolicy({ SecretId: "copy", ResourcePolicy: PRIVATE }, ctx)).rejects.toMatchObject(refusal);
    await expect(deleteResourcePolicy({ SecretId: "copy" }, ctx)).rejects.toMatchObject(refusal);
    await store.close();
  });
});
