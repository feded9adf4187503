// POST /_secretslite/reset: everything or one partition, re-seeded; other partitions, their keys and replicas kept consistent.
import path from "node:path";
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, ListKeysCommand, type KMSClient } from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ReplicateSecretToRegionsCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import request from "supertest";
import { eventually } from "../support/rotation-function";
import { startTestServer, type TestServer } from "../support/server";

const SEED = path.join(__dirname, "..", "..", "fixtures", "seed.yaml");
const A = "000000000000";
const B = "111122223333";

interface Partition {
  readonly account: string;
  readonly region: string;
}

const PARTITIONS: readonly Partition[] = [
  { account: A, region: "us-east-1" },
  { account: A, region: "eu-west-1" },
  { account: B, region: "us-east-1" },
  { account: B, region: "eu-west-1" },
];

const label = (p: Partition): string => `${p.account}/${p.region}`;

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer({ flags: ["--seed", SEED] });
});
afterEach(async () => {
  await server.close();
});

const clients = (p: Partition): { kms: KMSClient; sm: SecretsManagerClient } => ({
  kms: server.kms({ accessKeyId: p.account, region: p.region }),
  sm: server.secretsManager({ accessKeyId: p.account, region: p.region }),
});

/** In each partition: a caller's own key with a ciphertext under it, and a secret under the default AWS managed key. */
async function fillPartitions(): Promise<Map<string, { keyId: string; blob: Uint8Array; managedKeyId: string }>> {
  const made = new Map<string, { keyId: string; blob: Uint8Array; managedKeyId: string }>();
  for (const p of PARTITIONS) {
    const { kms, sm } = clients(p);
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`data of ${label(p)}`) }))).CiphertextBlob!;
    await sm.send(new CreateSecretCommand({ Name: "own/secret", SecretString: `secret of ${label(p)}` }));
    const managedKeyId = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!.KeyId!;
    made.set(label(p), { keyId, blob, managedKeyId });
  }
  return made;
}

async function expectIntact(p: Partition, made: { keyId: string; blob: Uint8Array; managedKeyId: string }): Promise<void> {
  const { kms, sm } = clients(p);
  const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: made.blob }));
  expect(Buffer.from(decrypted.Plaintext!).toString()).toBe(`data of ${label(p)}`);
  expect((await sm.send(new GetSecretValueCommand({ SecretId: "own/secret" }))).SecretString).toBe(`secret of ${label(p)}`);
  expect((await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!.KeyId).toBe(made.managedKeyId);
}

async function expectWiped(p: Partition, made: { keyId: string; blob: Uint8Array; managedKeyId: string }): Promise<void> {
  const { kms, sm } = clients(p);
  await expect(sm.send(new GetSecretValueCommand({ SecretId: "own/secret" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  expect((await kms.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyId)).not.toContain(made.keyId);
  // Its backing keys are gone too: the ciphertext can never be opened again.
  await expect(kms.send(new DecryptCommand({ CiphertextBlob: made.blob }))).rejects.toBeDefined();
}

const reset = (query = ""): request.Test => request(server.url).post(`/_secretslite/reset${query}`);

describe("POST /_secretslite/reset", () => {
  it("wipes everything and applies the seed again", async () => {
    const made = await fillPartitions();
    const sm = server.secretsManager();
    await sm.send(new DeleteSecretCommand({ SecretId: "app/db", ForceDeleteWithoutRecovery: true }));
    const response = await reset();
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "reset" });
    for (const p of PARTITIONS) await expectWiped(p, made.get(label(p))!);
    expect(JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: "app/db" }))).SecretString!).username).toBe("app");
    expect((await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name).sort()).toEqual([
      "app/api-token",
      "app/db",
      "app/rotating",
      "app/tls-session-key",
    ]);
    expect((await server.secretsManager({ accessKeyId: B, region: "eu-west-1" }).send(new GetSecretValueCommand({ SecretId: "partner/credentials" }))).SecretString).toBe("second");
  });

  it("runs resets that arrive together one after another: every seeded value still opens afterwards", async () => {
    const answers = await Promise.all([reset(), reset(), reset(`?account=${A}`), reset()]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    const sm = server.secretsManager();
    for (const name of ["app/db", "app/api-token"]) {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBeDefined();
    }
    expect((await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name).sort()).toEqual([
      "app/api-token",
      "app/db",
      "app/rotating",
      "app/tls-session-key",
    ]);
  });

  it("?account=&region= resets that partition only; the others keep their data, secrets and keys", async () => {
    const made = await fillPartitions();
    const target = { account: A, region: "us-east-1" };
    const response = await reset(`?account=${A}&region=us-east-1`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "reset", account: A, region: "us-east-1" });
    await expectWiped(target, made.get(label(target))!);
    for (const p of PARTITIONS.slice(1)) await expectIntact(p, made.get(label(p))!);
    // The partition is seeded again; its AWS managed key is a new one, made on first use as in a fresh account.
    const { kms, sm } = clients(target);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "app/api-token" }))).SecretString).toBe("s3cr3t-t0ken");
    expect((await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!.KeyId).not.toBe(made.get(label(target))!.managedKeyId);
  });

  it("?account= alone resets every region of that account; ?region= alone that region in every account", async () => {
    let made = await fillPartitions();
    expect((await reset(`?account=${B}`)).status).toBe(200);
    for (const p of PARTITIONS) {
      if (p.account === B) await expectWiped(p, made.get(label(p))!);
      else await expectIntact(p, made.get(label(p))!);
    }
    // The seed's entry in B/eu-west-1 is back.
    expect((await server.kms({ accessKeyId: B, region: "eu-west-1" }).send(new DescribeKeyCommand({ KeyId: "alias/partner" }))).KeyMetadata!.MultiRegion).toBe(true);

    await reset();
    made = await fillPartitions();
    expect((await reset("?region=eu-west-1")).status).toBe(200);
    for (const p of PARTITIONS) {
      if (p.region === "eu-west-1") await expectWiped(p, made.get(label(p))!);
      else await expectIntact(p, made.get(label(p))!);
    }
  });

  it("refuses bad parameters with 400 and JSON, changing nothing", async () => {
    const made = await fillPartitions();
    for (const query of ["?account=12345", "?region=Mars", "?account=000000000000&account=111122223333", "?acount=000000000000", "?region="]) {
      const response = await reset(query);
      expect(response.status).toBe(400);
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({ status: "refused", message: expect.any(String) });
    }
    expect((await reset("?acount=000000000000")).body.message).toMatch(/Unknown parameter acount/);
    for (const p of PARTITIONS) await expectIntact(p, made.get(label(p))!);
  });

  it("replicas across the cut: a reset primary takes its replicas elsewhere with it; a reset replica of a primary elsewhere is made again", async () => {
    const east = clients({ account: A, region: "us-east-1" }).sm;
    const west = clients({ account: A, region: "eu-west-1" }).sm;
    await east.send(new CreateSecretCommand({ Name: "replicated/from-east", SecretString: "east value" }));
    await east.send(new ReplicateSecretToRegionsCommand({ SecretId: "replicated/from-east", AddReplicaRegions: [{ Region: "eu-west-1" }] }));
    await west.send(new CreateSecretCommand({ Name: "replicated/from-west", SecretString: "west value" }));
    await west.send(new ReplicateSecretToRegionsCommand({ SecretId: "replicated/from-west", AddReplicaRegions: [{ Region: "us-east-1" }] }));
    // ReplicateSecretToRegions answers InProgress and copies in the background, as AWS does.
    await eventually(async () => {
      expect((await west.send(new GetSecretValueCommand({ SecretId: "replicated/from-east" }))).SecretString).toBe("east value");
      expect((await east.send(new GetSecretValueCommand({ SecretId: "replicated/from-west" }))).SecretString).toBe("west value");
    });

    expect((await reset(`?account=${A}&region=us-east-1`)).status).toBe(200);

    await expect(east.send(new DescribeSecretCommand({ SecretId: "replicated/from-east" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(west.send(new DescribeSecretCommand({ SecretId: "replicated/from-east" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });

    const remade = await east.send(new GetSecretValueCommand({ SecretId: "replicated/from-west" }));
    expect(remade.SecretString).toBe("west value");
    const replica = await east.send(new DescribeSecretCommand({ SecretId: "replicated/from-west" }));
    expect(replica.PrimaryRegion).toBe("eu-west-1");
    const primary = await west.send(new DescribeSecretCommand({ SecretId: "replicated/from-west" }));
    expect(primary.ReplicationStatus).toEqual([expect.objectContaining({ Region: "us-east-1", Status: "InSync" })]);
    // Sealed under the reset region's new AWS managed key.
    const newKey = (await server.kms().send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!.Arn;
    expect(newKey).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
  });
});

describe("GET /_secretslite/health", () => {
  it("answers 200 ready, with storage and token state, once the seed is applied", async () => {
    const response = await request(server.url).get("/_secretslite/health");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: "ready", storage: "open", keyStore: { ok: true }, services: ["kms", "secretsmanager"] });
  });
});
