// An SDK v3 client configured from what global-setup.ts provided: endpoint, region and credentials.
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, expect, inject, test } from "vitest";

const secrets = new SecretsManagerClient(inject("secretslite"));
afterAll(() => secrets.destroy());

test("a secret written is read back", async () => {
  await secrets.send(new CreateSecretCommand({ Name: "app/api-key", SecretString: "s3cret" }));
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: "app/api-key" }));
  expect(SecretString).toBe("s3cret");
});
