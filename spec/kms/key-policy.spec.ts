// KMS GetKeyPolicy, PutKeyPolicy and ListKeyPolicies: the default policy's exact text, policy checks, AWS managed keys.
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListKeyPoliciesCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { ACCOUNT, rawRequest, REGION, startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
});
afterAll(() => server.close());

const newKey = async (policy?: string) => (await kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!;
const policyOf = async (keyId: string) => (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy;

/** As the API Reference's GetKeyPolicy example prints it, account and partition substituted. */
const defaultPolicy = (partition: string, account: string): string =>
  "{\n" +
  '  "Version" : "2012-10-17",\n' +
  '  "Id" : "key-default-1",\n' +
  '  "Statement" : [ {\n' +
  '    "Sid" : "Enable IAM User Permissions",\n' +
  '    "Effect" : "Allow",\n' +
  '    "Principal" : {\n' +
  `      "AWS" : "arn:${partition}:iam::${account}:root"\n` +
  "    },\n" +
  '    "Action" : "kms:*",\n' +
  '    "Resource" : "*"\n' +
  "  } ]\n" +
  "}";

const compactPolicy = (action: string): string =>
  JSON.stringify({
    Version: "2012-10-17",
    Id: "key-custom-1",
    Statement: [{ Sid: "root", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: action, Resource: "*" }],
  });

const raw = async (operation: string, body: unknown): Promise<{ status: number; type: unknown; message: unknown }> => {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  const parsed = JSON.parse(response.text) as Record<string, unknown>;
  return { status: response.status, type: parsed["__type"], message: parsed["message"] };
};

describe("validation", () => {
  it("refuses characters outside the model's policy alphabet and a missing Policy", async () => {
    const key = await newKey();
    expect(await raw("PutKeyPolicy", { KeyId: key.KeyId, Policy: '{"a":"\u0100"}' })).toEqual({
      status: 400,
      type: "ValidationException",
      message:
        "1 validation error detected: Value '{\"a\":\"\u0100\"}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    });
    expect(await raw("PutKeyPolicy", { KeyId: key.KeyId })).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null",
    });
    expect(await raw("GetKeyPolicy", { KeyId: key.KeyId, PolicyName: "not-a-word" })).toMatchObject({
      type: "ValidationException",
      message: expect.stringContaining("at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"),
    });
  });
});

describe("behaviour", () => {
  it("gives a new key AWS's default policy, character for character, named default", async () => {
    const key = await newKey();
    expect(await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: "default" }))).toMatchObject({
      Policy: defaultPolicy("aws", ACCOUNT),
      PolicyName: "default",
    });
    // PolicyName may be left out: it defaults to "default".
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: key.Arn }))).Policy).toBe(defaultPolicy("aws", ACCOUNT));
  });

  it("names the caller's account and partition in the default policy", async () => {
    const china = server.kms({ region: "cn-north-1", accessKeyId: "123456789012" });
    const key = (await china.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect((await china.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(defaultPolicy("aws-cn", "123456789012"));
  });

  it("stores a policy from CreateKey and PutKeyPolicy exactly as sent", async () => {
    const spaced = `{\n\t"Version": "2012-10-17",  "Statement": [ {"Effect": "Allow", "Principal": {"AWS": "${ACCOUNT}"}, "Action": "kms:*", "Resource": "*"} ]\r\n}`;
    const key = await newKey(spaced);
    expect(await policyOf(key.KeyId!)).toBe(spaced);
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.Arn, PolicyName: "default", Policy: compactPolicy("kms:PutKeyPolicy") }));
    expect(await policyOf(key.KeyId!)).toBe(compactPolicy("kms:PutKeyPolicy"));
    // PolicyName may be left out, and BypassPolicyLockoutSafetyCheck is accepted.
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: compactPolicy("kms:*"), BypassPolicyLockoutSafetyCheck: true }));
    expect(await policyOf(key.KeyId!)).toBe(compactPolicy("kms:*"));
  });

  it("refuses a policy that is not a JSON object with an empty MalformedPolicyDocumentException", async () => {
    const key = await newKey();
    for (const policy of ["not a policy", '{"Version": "2012-10-17",', "[]", "42"]) {
      expect(await raw("PutKeyPolicy", { KeyId: key.KeyId, Policy: policy })).toEqual({
        status: 400,
        type: "MalformedPolicyDocumentException",
        message: undefined,
      });
      expect(await raw("CreateKey", { Policy: policy })).toMatchObject({ type: "MalformedPolicyDocumentException" });
    }
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: "nope" }))).rejects.toMatchObject({
      name: "MalformedPolicyDocumentException",
    });
    expect(await policyOf(key.KeyId!)).toBe(defaultPolicy("aws", ACCOUNT));
  });

  it("holds a policy to 32,768 bytes with LimitExceededException", async () => {
    const sized = (bytes: number): string => {
      const shell = '{"Sid":""}';
      return `{"Sid":"${"x".repeat(bytes - shell.length)}"}`;
    };
    const key = await newKey();
    // A padded document grants nothing, so it passes only without the lockout check; the quota comes first.
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: sized(32_768), BypassPolicyLockoutSafetyCheck: true }));
    expect(await policyOf(key.KeyId!)).toHaveLength(32_768);
    const tooLarge = {
      name: "LimitExceededException",
      message: "The key policy size limit is 32 kilobytes (32768 bytes).",
      $metadata: { httpStatusCode: 400 },
    };
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: sized(32_769) }))).rejects.toMatchObject(tooLarge);
    await expect(kms.send(new CreateKeyCommand({ Policy: sized(32_769) }))).rejects.toMatchObject(tooLarge);
    // Bytes, not characters: 16,385 two-byte Latin-1 characters are 32,770 bytes.
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: `{"Sid":"${"é".repeat(16_385)}"}` }))).rejects.toMatchObject(
      tooLarge,
    );
  });

  it("knows only the policy named default", async () => {
    const key = await newKey();
    const noSuchPolicy = { name: "NotFoundException", message: "No such policy exists" };
    await expect(kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: "custom" }))).rejects.toMatchObject(noSuchPolicy);
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: "custom", Policy: "{}" }))).rejects.toMatchObject(noSuchPolicy);
    expect(await kms.send(new ListKeyPoliciesCommand({ KeyId: key.KeyId }))).toMatchObject({ PolicyNames: ["default"], Truncated: false });
    const listed = await kms.send(new ListKeyPoliciesCommand({ KeyId: key.Arn, Limit: 1 }));
    expect(listed.PolicyNames).toEqual(["default"]);
    expect(listed.NextMarker).toBeUndefined();
    await expect(kms.send(new ListKeyPoliciesCommand({ KeyId: key.KeyId, Marker: "bogus" }))).rejects.toMatchObject({
      name: "InvalidMarkerException",
    });
  });

  it("reads and writes policies in every key state", async () => {
    const key = await newKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: compactPolicy("kms:Put*") }));
    expect(await policyOf(key.KeyId!)).toBe(compactPolicy("kms:Put*"));
    expect((await kms.send(new ListKeyPoliciesCommand({ KeyId: key.KeyId }))).PolicyNames).toEqual(["default"]);
  });

  it("lets the policy of an AWS managed key be read but not replaced", async () => {
    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    const before = await policyOf(managed.KeyId!);
    expect(JSON.parse(before!)).toBeInstanceOf(Object);
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: managed.Arn, Policy: compactPolicy("kms:*") }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: kms:PutKeyPolicy on resource: ${managed.Arn} because no resource-based policy allows the kms:PutKeyPolicy action`,
    });
    expect(await policyOf(managed.KeyId!)).toBe(before);
    expect((await kms.send(new ListKeyPoliciesCommand({ KeyId: managed.KeyId }))).PolicyNames).toEqual(["default"]);
  });

  it("takes key id or key ARN only, and says which key does not exist", async () => {
    await expect(kms.send(new GetKeyPolicyCommand({ KeyId: "alias/aws/secretsmanager" }))).rejects.toMatchObject({
      name: "InvalidArnException",
      message: "Key Aliases are not supported for this operation.",
    });
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(kms.send(new PutKeyPolicyCommand({ KeyId: missing, Policy: "{}" }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`,
    });
  });
});
