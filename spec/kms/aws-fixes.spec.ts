// KMS answers found to differ from AWS and fixed (issue 10): RotateKeyOnDemand's KeyId and its pending-import
// answer, and the key policy lockout safety check of CreateKey and PutKeyPolicy.
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListKeyRotationsCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { useKmsServer } from "../support/kms";
import { ACCOUNT, REGION } from "../support/server";

const kmsServer = useKmsServer();

describe("behaviour", () => {
  describe("RotateKeyOnDemand", () => {
    it("names the key by its ARN, whether it was given the key id or the key ARN", async () => {
      const key = (await kmsServer.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      expect((await kmsServer.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).KeyId).toBe(key.Arn);
      expect((await kmsServer.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.Arn }))).KeyId).toBe(key.Arn);
    });

    it("answers a key still waiting for its imported material with its state, and leaves it waiting", async () => {
      const key = (await kmsServer.kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
      await expect(kmsServer.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: `${key.Arn} is pending import.`,
        $metadata: { httpStatusCode: 400 },
      });
      expect((await kmsServer.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: "PendingImport" });
      // Automatic rotation keeps the key-state table's answer for this state.
      await expect(kmsServer.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "UnsupportedOperationException",
        message: `${key.Arn} origin is EXTERNAL which is not valid for this operation.`,
      });
      // ListKeyRotations lists imported material since imported keys rotate (spec/kms/import.spec.ts): none yet.
      expect((await kmsServer.kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations).toEqual([]);
    });
  });

  describe("key policy lockout safety check", () => {
    const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
    const policyOf = (...statements: object[]): string => JSON.stringify({ Version: "2012-10-17", Statement: statements });
    const allow = (statement: object): object => ({ Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*", Resource: "*", ...statement });
    const lockout = {
      name: "MalformedPolicyDocumentException",
      message: "The new key policy will not allow you to update the key policy in the future.",
      $metadata: { httpStatusCode: 400 },
    };
    const keyCount = async (client: KMSClient) => (await client.send(new ListKeysCommand({}))).Keys!.length;

    /** Policies that leave the caller (the account's root) no PutKeyPolicy, each with why. */
    const lockingOut: Array<[string, string]> = [
      // terraform-provider-aws's TestAccKMSKey_Policy_bypass: the caller may read and tag the key, not change its policy.
      [
        "actions without PutKeyPolicy",
        policyOf(allow({ Action: ["kms:CreateKey", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:Describe*", "kms:Get*", "kms:List*", "kms:TagResource", "kms:UntagResource"] })),
      ],
      ["no statements", policyOf()],
      ["no Statement at all", JSON.stringify({ Version: "2012-10-17" })],
      ["an IAM role instead of the root", policyOf(allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` } }))],
      ["another account", policyOf(allow({ Principal: { AWS: "111122223333" } }))],
      ["another partition", policyOf(allow({ Principal: { AWS: `arn:aws-cn:iam::${ACCOUNT}:root` } }))],
      ["a service principal", policyOf(allow({ Principal: { Service: "secretsmanager.amazonaws.com" } }))],
      ["a conditional Allow", policyOf(allow({ Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } }))],
      ["a statement without Resource, which has no effect", policyOf({ Effect: "Allow", Principal: { AWS: ROOT }, Action: "kms:*" })],
      ["another key's ARN", policyOf(allow({ Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555` }))],
      ["a NotAction that leaves out PutKeyPolicy", policyOf(allow({ Action: undefined, NotAction: "kms:PutKeyPolicy" }))],
      ["a Deny for everyone", policyOf(allow({}), { Effect: "Deny", Principal: "*", Action: "kms:PutKeyPolicy", Resource: "*" })],
      [
        "a conditional Deny, which may apply to the caller",
        policyOf(allow({}), { Effect: "Deny", Principal: { AWS: "*" }, Action: "kms:Put*", Resource: "*", Condition: { StringNotEquals: { "aws:PrincipalTag/team": "keys" } } }),
      ],
      ["a Deny for everyone but a role", policyOf(allow({}), { Effect: "Deny", NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KeyAdmin` }, Action: "*", Resource: "*" })],
    ];

    it.each(lockingOut)("refuses a policy with %s, at CreateKey and PutKeyPolicy, unless told to bypass the check", async (_why, policy) => {
      const before = await keyCount(kmsServer.kms);
      await expect(kmsServer.kms.send(new CreateKeyCommand({ Policy: policy }))).rejects.toMatchObject(lockout);
      await expect(kmsServer.kms.send(new CreateKeyCommand({ Policy: policy, BypassPolicyLockoutSafetyCheck: false }))).rejects.toMatchObject(lockout);
      expect(await keyCount(kmsServer.kms)).toBe(before);
      const bypassed = (await kmsServer.kms.send(new CreateKeyCommand({ Policy: policy, BypassPolicyLockoutSafetyCheck: true }))).KeyMetadata!;
      expect((await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: bypassed.KeyId }))).Policy).toBe(policy);

      const key = (await kmsServer.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const kept = (await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy;
      await expect(kmsServer.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy }))).rejects.toMatchObject(lockout);
      expect((await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(kept);
      await kmsServer.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy, BypassPolicyLockoutSafetyCheck: true }));
      expect((await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(policy);
    });

    /** Policies that keep the caller in charge, however they say so. */
    const keepingControl: Array<[string, (keyArn: string) => string]> = [
      ["everyone, everything", () => policyOf({ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" })],
      ['{"AWS": "*"}', () => policyOf(allow({ Principal: { AWS: "*" } }))],
      ["the account id, a wildcard action in a list", () => policyOf(allow({ Principal: { AWS: ACCOUNT }, Action: ["kms:Describe*", "kms:Put*"] }))],
      ["the root among others, the action in other case", () => policyOf(allow({ Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:role/KeyAdmin`, ROOT] }, Action: "KMS:putkeypolicy" }))],
      ["one statement, not in a list", () => JSON.stringify({ Version: "2012-10-17", Statement: allow({}) })],
      ["the key's own ARN", (keyArn) => policyOf(allow({ Resource: keyArn }))],
      ["a NotAction that leaves PutKeyPolicy in", () => policyOf(allow({ Action: undefined, NotAction: ["kms:Decrypt"] }))],
      [
        "Denies for other actions and other principals, conditional Allows beside an unconditional one",
        () =>
          policyOf(
            allow({}),
            { Effect: "Deny", Principal: "*", Action: ["kms:ScheduleKeyDeletion", "kms:Disable*"], Resource: "*" },
            { Effect: "Deny", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/Mallory` }, Action: "kms:*", Resource: "*" },
            allow({ Principal: { AWS: "*" }, Condition: { StringEquals: { "kms:CallerAccount": ACCOUNT } } }),
          ),
      ],
    ];

    it.each(keepingControl)("accepts a policy allowing the caller PutKeyPolicy through %s", async (_how, policyFor) => {
      const key = (await kmsServer.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      await kmsServer.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policyFor(key.Arn!) }));
      expect((await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(policyFor(key.Arn!));
    });

    it("accepts the default key policy back, and at CreateKey a Resource that matches whatever id the key gets", async () => {
      const key = (await kmsServer.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const defaultPolicy = (await kmsServer.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy!;
      await kmsServer.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: defaultPolicy }));
      expect((await kmsServer.kms.send(new CreateKeyCommand({ Policy: defaultPolicy }))).KeyMetadata!.KeyState).toBe("Enabled");
      const anyKeyHere = policyOf(allow({ Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*` }));
      expect((await kmsServer.kms.send(new CreateKeyCommand({ Policy: anyKeyHere }))).KeyMetadata!.KeyState).toBe("Enabled");
    });

    it("takes the caller to be the root of the account and partition the request acts in", async () => {
      const china = kmsServer.server.kms({ region: "cn-north-1", accessKeyId: "123456789012" });
      const before = await keyCount(china);
      const chinaRoot = policyOf(allow({ Principal: { AWS: "arn:aws-cn:iam::123456789012:root" } }));
      expect((await china.send(new CreateKeyCommand({ Policy: chinaRoot }))).KeyMetadata!.Arn).toMatch(/^arn:aws-cn:kms:cn-north-1:123456789012:key\//);
      await expect(china.send(new CreateKeyCommand({ Policy: policyOf(allow({})) }))).rejects.toMatchObject(lockout);
      expect(await keyCount(china)).toBe(before + 1);
    });
  });
});
