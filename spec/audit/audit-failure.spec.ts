// An audit log that cannot be written (a full disk) stops auditing; the server keeps answering.
import { CreateKeyCommand, EncryptCommand } from "@aws-sdk/client-kms";
import { startTestServer, type TestServer } from "../support/server";

describe("behaviour", () => {
  let server: TestServer;
  beforeAll(async () => {
    // /dev/full opens for appending and fails every write with ENOSPC.
    server = await startTestServer({ flags: ["--audit-log", "/dev/full"] });
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers every call after the audit file's writes fail, and closes cleanly", async () => {
    const kms = server.kms();
    const key = await kms.send(new CreateKeyCommand({}));
    for (let i = 0; i < 20; i++) {
      const encrypted = await kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: Buffer.from(`n${i}`) }));
      expect(encrypted.CiphertextBlob?.length).toBeGreaterThan(0);
      // Let the asynchronous writer try (and fail) between calls.
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});
