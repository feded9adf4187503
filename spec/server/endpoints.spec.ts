// Endpoint conventions: the SDK's `endpoint` option, AWS_ENDPOINT_URL and the per-service variables (SDK v3 and the CLI), --endpoint-url.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CLIS, CLI_TEST_TIMEOUT_MS } from "../support/aws-cli";
import { credentials, REGION, startTestServer, type TestServer } from "../support/server";
import { cliEnv, cliVersion, deadEndpoint, readsEndpointVariables, run } from "./fixtures";

let server: TestServer;
let dead: string;
let workDir: string;
beforeAll(async () => {
  server = await startTestServer();
  dead = await deadEndpoint();
  workDir = mkdtempSync(path.join(os.tmpdir(), "secretslite-spec-endpoints-"));
});
afterAll(async () => {
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** Both resources exist on this server: the call that made them came here and nowhere else. */
async function expectMadeHere(secretName: string, keyId: string): Promise<void> {
  expect((await server.secretsManager().send(new DescribeSecretCommand({ SecretId: secretName }))).Name).toBe(secretName);
  expect((await server.kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyId).toBe(keyId);
}

// The SDK reads the variables when a client is created, from the real environment and the shared config
// file: a child process gets exactly the environment under test.
const CHILD = `
const { SecretsManagerClient, CreateSecretCommand } = require(${JSON.stringify(require.resolve("@aws-sdk/client-secrets-manager"))});
const { KMSClient, CreateKeyCommand } = require(${JSON.stringify(require.resolve("@aws-sdk/client-kms"))});
(async () => {
  await new SecretsManagerClient({ maxAttempts: 1 }).send(new CreateSecretCommand({ Name: process.argv[1], SecretString: "configured endpoint" }));
  const key = await new KMSClient({ maxAttempts: 1 }).send(new CreateKeyCommand({}));
  process.stdout.write(key.KeyMetadata.KeyId);
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe("behaviour", () => {
  describe("SDK v3", () => {
    it.each([["the server's URL", ""], ["the URL with a trailing slash", "/"]])("takes the `endpoint` option: %s", async (_name, suffix) => {
      const config = { endpoint: server.url + suffix, region: REGION, credentials, maxAttempts: 1 };
      const secrets = new SecretsManagerClient(config);
      const kms = new KMSClient(config);
      const name = `endpoints/option${suffix === "" ? "" : "-slash"}`;
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: "endpoint option" }));
      const key = await kms.send(new CreateKeyCommand({}));
      secrets.destroy();
      kms.destroy();
      await expectMadeHere(name, key.KeyMetadata!.KeyId!);
    });

    it.each([
      ["AWS_ENDPOINT_URL", () => ({ AWS_ENDPOINT_URL: server.url })],
      [
        "AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_KMS, over an AWS_ENDPOINT_URL that leads nowhere",
        () => ({ AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url, AWS_ENDPOINT_URL_KMS: server.url }),
      ],
    ])("reads, at client creation (a child process), %s", async (name, endpointEnv) => {
      const secretName = `endpoints/sdk-env-${name.length}`;
      const result = await run(process.execPath, ["-e", CHILD, secretName], {
        ...cliEnv(workDir),
        AWS_REGION: REGION,
        ...endpointEnv(),
      });
      expect(result).toMatchObject({ code: 0 });
      await expectMadeHere(secretName, result.stdout);
    });

    it("really goes to the AWS_ENDPOINT_URL it reads: one with nothing listening fails the call", async () => {
      const result = await run(process.execPath, ["-e", CHILD, "endpoints/sdk-env-dead"], { ...cliEnv(workDir), AWS_REGION: REGION, AWS_ENDPOINT_URL: dead });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("ECONNREFUSED");
    });
  });

  describe("aws CLI", () => {
    const versions = CLIS.map((cli) => ({ cli, version: cliVersion(cli) }));
    const label = ({ cli, version }: { cli: string; version: number[] }) => `${cli} (aws-cli ${version.join(".")})`;

    it.each(versions.map((entry) => [label(entry), entry.cli]))("%s takes --endpoint-url", async (_label, cli) => {
      const env = cliEnv(workDir);
      const name = `endpoints/cli-flag-${path.basename(path.dirname(cli))}`;
      const endpoint = ["--endpoint-url", server.url, "--output", "json"];
      expect(await run(cli, ["secretsmanager", "create-secret", "--name", name, "--secret-string", "flag", ...endpoint], env)).toMatchObject({ code: 0 });
      const key = await run(cli, ["kms", "create-key", ...endpoint], env);
      expect(key).toMatchObject({ code: 0 });
      await expectMadeHere(name, JSON.parse(key.stdout).KeyMetadata.KeyId);
    }, CLI_TEST_TIMEOUT_MS);

    // Configured endpoints came in CLI 1.29 and 2.13; Debian 12's v2 is 2.9.19, so only newer CLIs get these tests.
    for (const entry of versions.filter(({ version }) => readsEndpointVariables(version))) {
      it.each([
        ["AWS_ENDPOINT_URL", () => ({ AWS_ENDPOINT_URL: server.url })],
        [
          "AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_KMS over an AWS_ENDPOINT_URL that leads nowhere",
          () => ({ AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url, AWS_ENDPOINT_URL_KMS: server.url }),
        ],
      ])(`${label(entry)} reads %s`, async (name, endpointEnv) => {
        const env = { ...cliEnv(workDir), ...endpointEnv() };
        const secretName = `endpoints/cli-env-${path.basename(path.dirname(entry.cli))}-${name.length}`;
        expect(await run(entry.cli, ["secretsmanager", "create-secret", "--name", secretName, "--secret-string", "env", "--output", "json"], env)).toMatchObject({ code: 0 });
        const key = await run(entry.cli, ["kms", "create-key", "--output", "json"], env);
        expect(key).toMatchObject({ code: 0 });
        await expectMadeHere(secretName, JSON.parse(key.stdout).KeyMetadata.KeyId);
      }, CLI_TEST_TIMEOUT_MS);
    }
  });
});
