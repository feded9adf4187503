// KMS answers found to differ from AWS and fixed (issue 10): RotateKeyOnDemand's KeyId and its pending-import
// answer, and the key policy lockout safety check of CreateKey and PutKeyPolicy.
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  type KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { startTestServer, type TestServer } from "../support/server";

let server: TestServer;
let kms: KMSClient;

beforeAll(async () => {
  server = await startTestServer();
  kms = server.kms();
});
afterAll(() => server.close());

describe("behaviour", () => {
  describe("RotateKeyOnDemand", () => {
    it("names the key by its ARN, whether it was given the key id or the key ARN", async () => {
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).KeyId).toBe(key.Arn);
      expect((await kms.send(new RotateKeyOnDemandCommand({ KeyId: key.Arn }))).KeyId).toBe(key.Arn);
    });

    it("answers a key still waiting for its imported material with its state, and leaves it waiting", async () => {
      const key = (await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }))).KeyMetadata!;
      await expect(kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "KMSInvalidStateException",
        message: `${key.Arn} is pending import.`,
        $metadata: { httpStatusCode: 400 },
      });
      expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: "PendingImport" });
      // Automatic rotation keeps the key-state table's answer for this state.
      await expect(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
        name: "UnsupportedOperationException",
        message: `${key.Arn} origin is EXTERNAL which is not valid for this operation.`,
      });
      await expect(kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "UnsupportedOperationException" });
    });
  });
});
