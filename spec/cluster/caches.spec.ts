// Caches across nodes: a change made on node A is seen by the very next request on node B (key state, description,
// policy, deletion, rotated material, secret values, a reset), though B used the resource just before; and the
// key usage each node batches in memory never moves a key's last use back when the nodes flush.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ADMIN_TOKEN_HEADER } from "../../src/http-access";
import { parseCiphertext } from "../../src/services/kms/ciphertext";
import { TestClock } from "../support/clock";
import { startCluster, type Cluster } from "../support/cluster";
import { errorOf } from "../support/errors";
import { sharedPostgres, type PostgresCluster } from "../support/postgres";
import { writePrincipalsFile } from "../support/principals";
import { ACCOUNT, credentials } from "../support/server";

describe("caches across the nodes of a cluster", () => {
  let postgres: PostgresCluster;
  let dir: string;
  let cluster: Cluster;
  /** One client per node: kms[0] is node A, kms[1] node B, kms[2] node C. */
  let kms: KMSClient[];
  let sm: SecretsManagerClient[];
  const ADMIN_ARN = `arn:aws:iam::${ACCOUNT}:user/admin`;

  beforeAll(async () => {
    postgres = await sharedPostgres();
    dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-cluster-caches-"));
    // --enforce-auth, so key policies are evaluated (and their compiled form cached) on every node.
    const principals = writePrincipalsFile(dir, [{ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, arn: ADMIN_ARN, policies: ["admin"] }]);
    cluster = await startCluster(postgres, { nodes: 3, mode: "in-process", flags: ["--enforce-auth", "--principals", principals] });
    kms = cluster.nodes.map((node) => cluster.kms([node]));
    sm = cluster.nodes.map((node) => cluster.secretsManager([node]));
  }, 60_000);
  afterAll(async () => {
    await cluster.close();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const [A, B, C] = [0, 1, 2];
  const newKey = async (): Promise<string> => (await kms[A]!.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const encryptOn = (node: number, keyId: string) => kms[node]!.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("across") }));

  it("sees DisableKey, EnableKey and UpdateKeyDescription made on another node at the next request", async () => {
    const keyId = await newKey();
    await encryptOn(B, keyId);
    await kms[A]!.send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await errorOf(encryptOn(B, keyId))).toMatchObject({ name: "DisabledException" });
    await kms[A]!.send(new EnableKeyCommand({ KeyId: keyId }));
    expect((await encryptOn(B, keyId)).KeyId).toContain(keyId);
    await kms[A]!.send(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "changed on A" }));
    expect((await kms[B]!.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.Description).toBe("changed on A");
  });

  it("refuses use on every node once the key is scheduled for deletion on one, and allows it again once cancelled", async () => {
    const keyId = await newKey();
    await encryptOn(B, keyId);
    await encryptOn(C, keyId);
    await kms[A]!.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(await errorOf(encryptOn(B, keyId))).toMatchObject({ name: "KMSInvalidStateException" });
    expect(await errorOf(encryptOn(C, keyId))).toMatchObject({ name: "KMSInvalidStateException" });
    await kms[A]!.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    // A cancelled key is disabled, as in AWS.
    expect(await errorOf(encryptOn(B, keyId))).toMatchObject({ name: "DisabledException" });
  });

  it("denies Encrypt on another node at the next request after a key policy denying the caller is put", async () => {
    const keyId = await newKey();
    await encryptOn(B, keyId);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Account", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
        { Sid: "NoEncrypt", Effect: "Deny", Principal: { AWS: ADMIN_ARN }, Action: "kms:Encrypt", Resource: "*" },
      ],
    };
    await kms[A]!.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: JSON.stringify(policy) }));
    expect(await errorOf(encryptOn(B, keyId))).toMatchObject({ name: "AccessDeniedException" });
    expect(await errorOf(encryptOn(C, keyId))).toMatchObject({ name: "AccessDeniedException" });
    // And back: the first policy's text again (compiled policies are cached by text) allows it again on B.
    const allow = { Version: "2012-10-17", Statement: [policy.Statement[0]] };
    await kms[A]!.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: JSON.stringify(allow) }));
    expect((await encryptOn(B, keyId)).KeyId).toContain(keyId);
  });

  it("encrypts on another node under the material RotateKeyOnDemand made, and every node decrypts it", async () => {
    const keyId = await newKey();
    const before = await encryptOn(B, keyId);
    await kms[A]!.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    const after = await encryptOn(B, keyId);
    const materialOf = (blob: Uint8Array | undefined) => parseCiphertext(blob!).keyMaterialId;
    expect(materialOf(after.CiphertextBlob)).not.toBe(materialOf(before.CiphertextBlob));
    for (const node of [A, C]) {
      for (const sealed of [before, after]) {
        const opened = await kms[node]!.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob! }));
        expect(Buffer.from(opened.Plaintext!).toString()).toBe("across");
      }
    }
  });

  it("reads on another node the value PutSecretValue stored on one", async () => {
    await sm[A]!.send(new CreateSecretCommand({ Name: "caches/value", SecretString: "v1" }));
    expect((await sm[B]!.send(new GetSecretValueCommand({ SecretId: "caches/value" }))).SecretString).toBe("v1");
    await sm[A]!.send(new PutSecretValueCommand({ SecretId: "caches/value", SecretString: "v2" }));
    expect((await sm[B]!.send(new GetSecretValueCommand({ SecretId: "caches/value" }))).SecretString).toBe("v2");
  });

  // Last: it empties the database.
  it("shows on another node the state a reset on one left", async () => {
    const keyId = await newKey();
    await encryptOn(B, keyId);
    await sm[A]!.send(new CreateSecretCommand({ Name: "caches/before-reset", SecretString: "x" }));
    const reset = await fetch(`${cluster.nodes[A]!.url}/_secretslite/reset`, { method: "POST", headers: { [ADMIN_TOKEN_HEADER]: cluster.nodes[A]!.adminToken! } });
    expect(reset.status).toBe(200);
    expect(await errorOf(encryptOn(B, keyId))).toMatchObject({ name: "NotFoundException" });
    expect(await errorOf(sm[B]!.send(new GetSecretValueCommand({ SecretId: "caches/before-reset" })))).toMatchObject({ name: "ResourceNotFoundException" });
    expect((await sm[C]!.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  });
});

describe("key usage across the nodes of a cluster", () => {
  let postgres: PostgresCluster;
  let cluster: Cluster;
  const clock = new TestClock(Date.parse("2026-03-01T10:00:00Z"));

  beforeAll(async () => {
    postgres = await sharedPostgres();
    cluster = await startCluster(postgres, { nodes: 3, mode: "in-process", clock });
  }, 60_000);
  afterAll(async () => {
    await cluster.close();
    await postgres.stop();
  });

  it("never moves a key's last use back in time when a node with an older use flushes last", async () => {
    const [a, b, c] = cluster.nodes.map((node) => cluster.kms([node])) as [KMSClient, KMSClient, KMSClient];
    const keyId = (await a.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const early = clock.ms;
    await b.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("early") }));
    clock.ms += 60_000;
    const late = clock.ms;
    await a.send(new DecryptCommand({ CiphertextBlob: (await a.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("late") }))).CiphertextBlob! }));
    // Each node keeps usage in memory and flushes it at close: A (the later use) first, then B (the earlier one).
    const [nodeA, nodeB] = [cluster.nodes[0]!, cluster.nodes[1]!];
    await nodeA.stop();
    await nodeB.stop();
    cluster.nodes.splice(0, 2);
    const seen = (await c.send(new GetKeyLastUsageCommand({ KeyId: keyId }))).KeyLastUsage;
    expect(seen?.Operation).toBe("Decrypt");
    expect(seen?.Timestamp?.getTime()).toBe(late);
    expect(late).toBeGreaterThan(early);
  });
});
