// Multi-Region keys: ReplicateKey, UpdatePrimaryRegion, shared and independent properties, deletion, restarts, clients.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdatePrimaryRegionCommand,
  type KMSClient,
  type KeyMetadata,
} from "@aws-sdk/client-kms";
import type { KmsKeyRecord } from "../../src/services/kms/key-record";
import { recordKey } from "../../src/storage/keys";
import request from "supertest";
import { AwsCli, CLI_TEST_TIMEOUT_MS, clisThatKnow } from "../support/aws-cli";
import { TestClock } from "../support/clock";
import { ACCOUNT, openServerStore, startTestServer, type TestServer } from "../support/server";

const DAY = 86_400_000;
const START = Date.UTC(2031, 5, 1, 8);
const EAST = "us-east-1";
const WEST = "us-west-2";
const TRANSIENT_MS = 5_000;

const arnIn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`;

let clock: TestClock;
let server: TestServer;
let east: KMSClient;
let west: KMSClient;

async function start(dataDir?: string): Promise<void> {
  server = await startTestServer({ clock, flags: ["--transient-state-ms", String(TRANSIENT_MS)], ...(dataDir === undefined ? {} : { dataDir }) });
  east = server.kms({ region: EAST });
  west = server.kms({ region: WEST });
}

async function describe2(client: KMSClient, keyId: string): Promise<KeyMetadata> {
  return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
}

async function primaryKey(client: KMSClient = east): Promise<string> {
  const created = await client.send(new CreateKeyCommand({ MultiRegion: true, Description: "primary" }));
  return created.KeyMetadata!.KeyId!;
}

/** A primary in us-east-1 and its replica in us-west-2, past Creating. */
async function replicatedKey(): Promise<string> {
  const keyId = await primaryKey();
  await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
  clock.ms += TRANSIENT_MS;
  return keyId;
}

const rejection = (promise: Promise<unknown>): Promise<{ name: string; message: string }> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: { name: string; message: string }) => ({ name: error.name, message: error.message }),
  );

beforeEach(async () => {
  clock = new TestClock(START);
  await start();
});
afterEach(() => server.close());

describe("ReplicateKey", () => {
  it("makes a replica with the same key id and material, Creating until the transient time has passed", async () => {
    const keyId = await primaryKey();
    const before = await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("made in the east") }));
    const replicated = await east.send(
      new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST, Description: "replica", Tags: [{ TagKey: "side", TagValue: "west" }] }),
    );
    const replica = replicated.ReplicaKeyMetadata!;
    expect(replica).toMatchObject({
      KeyId: keyId,
      Arn: arnIn(WEST, keyId),
      KeyState: "Creating",
      Enabled: false,
      Description: "replica",
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      Origin: "AWS_KMS",
      MultiRegion: true,
      MultiRegionConfiguration: {
        MultiRegionKeyType: "REPLICA",
        PrimaryKey: { Arn: arnIn(EAST, keyId), Region: EAST },
        ReplicaKeys: [{ Arn: arnIn(WEST, keyId), Region: WEST }],
      },
    });
    expect(replicated.ReplicaTags).toEqual([{ TagKey: "side", TagValue: "west" }]);
    // The default key policy, for the replica's region's account root.
    expect(JSON.parse(replicated.ReplicaPolicy!).Statement[0].Principal.AWS).toBe(`arn:aws:iam::${ACCOUNT}:root`);

    // Creating: manageable, not usable (recorded text), and visible as such to code that polls or retries.
    expect(await rejection(west.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arnIn(WEST, keyId)} is creating.`,
    });
    clock.ms += TRANSIENT_MS - 1;
    expect((await describe2(west, keyId)).KeyState).toBe("Creating");
    clock.ms += 1;
    expect(await describe2(west, keyId)).toMatchObject({ KeyState: "Enabled", Enabled: true });

    // Ciphertexts cross in both directions: same key id in the blob, same material.
    const opened = await west.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("made in the east");
    expect(opened.KeyId).toBe(arnIn(WEST, keyId));
    const back = await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("made in the west") }));
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext!).toString()).toBe("made in the west");

    // The primary lists its replica; its own description and tags are untouched.
    expect(await describe2(east, keyId)).toMatchObject({
      Description: "primary",
      MultiRegionConfiguration: { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Region: EAST }, ReplicaKeys: [{ Arn: arnIn(WEST, keyId), Region: WEST }] },
    });
    expect((await east.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([]);
  });

  it("keeps description, policy, aliases and enabled state independent per region", async () => {
    const keyId = await replicatedKey();
    await west.send(new CreateAliasCommand({ AliasName: "alias/west-only", TargetKeyId: keyId }));
    await west.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await describe2(west, "alias/west-only")).KeyState).toBe("Disabled");
    expect((await describe2(east, keyId)).KeyState).toBe("Enabled");
    expect(await rejection(describe2(east, "alias/west-only"))).toMatchObject({ name: "NotFoundException" });
    await west.send(new EnableKeyCommand({ KeyId: keyId }));
    const policy = (await west.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }))).Policy!;
    expect(policy).toContain(`arn:aws:iam::${ACCOUNT}:root`);
  });

  it("refuses keys that are not multi-Region primaries, regions it cannot use, and a second replica in one region", async () => {
    const single = (await east.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await rejection(east.send(new ReplicateKeyCommand({ KeyId: single.KeyId, ReplicaRegion: WEST })))).toEqual({
      name: "UnsupportedOperationException",
      message: `${single.Arn} is not a multi-region primary key.`,
    });
    const keyId = await replicatedKey();
    expect(await rejection(west.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" })))).toEqual({
      name: "UnsupportedOperationException",
      message: `${arnIn(WEST, keyId)} is not a multi-region primary key.`,
    });
    expect(await rejection(east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST })))).toEqual({
      name: "AlreadyExistsException",
      message: `${arnIn(WEST, keyId)} already exists.`,
    });
    expect(await rejection(east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: EAST })))).toMatchObject({
      name: "ValidationException",
      message: `ReplicaRegion ${EAST} is the primary key's Region.`,
    });
    expect(await rejection(east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "cn-north-1" })))).toMatchObject({
      name: "ValidationException",
      message: "ReplicaRegion cn-north-1 is not in the aws partition of the primary key.",
    });
    // A third region joins the set; every key of it lists every replica.
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: "eu-west-1" }));
    const third = server.kms({ region: "eu-west-1" });
    for (const client of [east, west, third]) {
      expect((await describe2(client, keyId)).MultiRegionConfiguration!.ReplicaKeys!.map((replica) => replica.Region)).toEqual([WEST, "eu-west-1"]);
    }
  });

  it("replications that arrive together each land once, and every key of the set lists them all", async () => {
    const keyId = await primaryKey();
    const answers = await Promise.allSettled(
      [WEST, "eu-west-1", WEST, "ap-southeast-2"].map((region) => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: region }))),
    );
    // The two for us-west-2 race: whichever lands second finds the first's replica.
    expect(answers.filter((answer) => answer.status === "fulfilled")).toHaveLength(3);
    const refused = answers.filter((answer): answer is PromiseRejectedResult => answer.status === "rejected");
    expect(refused.map((answer) => (answer.reason as Error).name)).toEqual(["AlreadyExistsException"]);
    expect([answers[0]!.status, answers[2]!.status].sort()).toEqual(["fulfilled", "rejected"]);
    const regions = (await describe2(east, keyId)).MultiRegionConfiguration!.ReplicaKeys!.map((replica) => replica.Region).sort();
    expect(regions).toEqual(["ap-southeast-2", "eu-west-1", WEST]);
    for (const region of regions) {
      const replica = await describe2(server.kms({ region }), keyId);
      expect(replica.MultiRegionConfiguration!.ReplicaKeys!.map((member) => member.Region).sort()).toEqual(regions);
    }
  });

  it("replicates an EXTERNAL primary without material: the replica ends PendingImport", async () => {
    const keyId = (await east.send(new CreateKeyCommand({ MultiRegion: true, Origin: "EXTERNAL" }))).KeyMetadata!.KeyId!;
    const replica = (await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }))).ReplicaKeyMetadata!;
    expect(replica).toMatchObject({ KeyState: "Creating", Origin: "EXTERNAL" });
    clock.ms += TRANSIENT_MS;
    expect((await describe2(west, keyId)).KeyState).toBe("PendingImport");
  });
});

describe("shared rotation", () => {
  it("is set on the primary only and its new material reaches every replica", async () => {
    const keyId = await replicatedKey();
    expect(await rejection(west.send(new EnableKeyRotationCommand({ KeyId: keyId })))).toEqual({
      name: "UnsupportedOperationException",
      message: `${arnIn(WEST, keyId)} is not a multi-region primary key.`,
    });
    await east.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    expect((await west.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(true);

    await east.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    const rotations = (await west.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!;
    expect(rotations).toHaveLength(1);
    const westBlob = (await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("new material") }))).CiphertextBlob!;
    expect((await describe2(west, keyId)).CurrentKeyMaterialId).toBe((await describe2(east, keyId)).CurrentKeyMaterialId);
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: westBlob }))).Plaintext!).toString()).toBe("new material");

    // An automatic rotation of the primary, when due, reaches the replica too.
    clock.ms += 366 * DAY;
    await describe2(east, keyId);
    expect((await west.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!.map((rotation) => rotation.RotationType)).toEqual([
      "ON_DEMAND",
      "AUTOMATIC",
    ]);
  });
});

describe("UpdatePrimaryRegion", () => {
  it("puts both keys in Updating, still usable, then swaps their roles everywhere", async () => {
    const keyId = await replicatedKey();
    await east.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: WEST }));
    for (const client of [east, west]) expect((await describe2(client, keyId)).KeyState).toBe("Updating");
    // "you can use the keys in cryptographic operations, but you cannot … [enable or disable] these keys".
    await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }));
    expect(await rejection(west.send(new DisableKeyCommand({ KeyId: keyId })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arnIn(WEST, keyId)} is updating.`,
    });
    clock.ms += TRANSIENT_MS;
    for (const client of [east, west]) {
      expect(await describe2(client, keyId)).toMatchObject({
        KeyState: "Enabled",
        MultiRegionConfiguration: { PrimaryKey: { Arn: arnIn(WEST, keyId), Region: WEST }, ReplicaKeys: [{ Arn: arnIn(EAST, keyId), Region: EAST }] },
      });
    }
    expect((await describe2(west, keyId)).MultiRegionConfiguration!.MultiRegionKeyType).toBe("PRIMARY");
    expect((await describe2(east, keyId)).MultiRegionConfiguration!.MultiRegionKeyType).toBe("REPLICA");
    // The new primary manages rotation; the old one is a replica now.
    await west.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    expect(await rejection(east.send(new RotateKeyOnDemandCommand({ KeyId: keyId })))).toMatchObject({ name: "UnsupportedOperationException" });
    expect((await east.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations).toHaveLength(1);
  });

  it("needs a replica in PrimaryRegion and an Enabled primary", async () => {
    const keyId = await replicatedKey();
    expect(await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: "eu-west-1" })))).toEqual({
      name: "NotFoundException",
      message: `Key '${arnIn("eu-west-1", keyId)}' does not exist`,
    });
    expect(await rejection(west.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: EAST })))).toMatchObject({
      name: "UnsupportedOperationException",
    });
    await east.send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await rejection(east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: WEST })))).toEqual({
      name: "DisabledException",
      message: `${arnIn(EAST, keyId)} is disabled.`,
    });
  });
});

describe("deletion", () => {
  it("keeps a primary PendingReplicaDeletion until its last replica is destroyed, then starts its window", async () => {
    const keyId = await replicatedKey();
    const scheduled = await east.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyState: "PendingReplicaDeletion", PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate).toBeUndefined();
    expect(await describe2(east, keyId)).toMatchObject({ KeyState: "PendingReplicaDeletion", PendingDeletionWindowInDays: 7, Enabled: false });
    expect(await rejection(east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arnIn(EAST, keyId)} is pending replica deletion.`,
    });
    // The replica is deleted on its own schedule and keeps working until then.
    await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }));
    await west.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 10 }));
    clock.ms += 10 * DAY;
    expect(await rejection(describe2(west, keyId))).toMatchObject({ name: "NotFoundException" });
    const primary = await describe2(east, keyId);
    expect(primary).toMatchObject({ KeyState: "PendingDeletion", MultiRegionConfiguration: { ReplicaKeys: [] } });
    expect(primary.DeletionDate!.getTime()).toBe(clock.ms + 7 * DAY);
    clock.ms += 7 * DAY;
    expect(await rejection(describe2(east, keyId))).toMatchObject({ name: "NotFoundException" });
  });

  it("destroys a replica on its own: the primary keeps working, forgets it, and can replicate there again", async () => {
    const keyId = await replicatedKey();
    const blob = (await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("kept") }))).CiphertextBlob!;
    await west.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect((await describe2(east, keyId)).KeyState).toBe("Enabled");
    clock.ms += 7 * DAY;
    expect(await rejection(describe2(west, keyId))).toMatchObject({ name: "NotFoundException" });
    expect(await describe2(east, keyId)).toMatchObject({ KeyState: "Enabled", MultiRegionConfiguration: { ReplicaKeys: [] } });
    expect(Buffer.from((await east.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe("kept");
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
    clock.ms += TRANSIENT_MS;
    expect(Buffer.from((await west.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe("kept");
  });
});

describe("partition reset", () => {
  it("wiping a replica's region makes the primary forget it; wiping the primary's region takes its replicas along", async () => {
    const kept = await replicatedKey();
    let response = await request(server.url).post(`/_secretslite/reset?region=${WEST}`);
    expect(response.status).toBe(200);
    expect(await describe2(east, kept)).toMatchObject({ KeyState: "Enabled", MultiRegionConfiguration: { ReplicaKeys: [] } });

    const taken = await replicatedKey();
    await west.send(new CreateAliasCommand({ AliasName: "alias/replica-of-wiped", TargetKeyId: taken }));
    response = await request(server.url).post(`/_secretslite/reset?region=${EAST}`);
    expect(response.status).toBe(200);
    expect(await rejection(describe2(west, taken))).toMatchObject({ name: "NotFoundException" });
    expect(await rejection(describe2(west, "alias/replica-of-wiped"))).toMatchObject({ name: "NotFoundException" });
  });
});

describe("restart", () => {
  it("a replica Creating when the server stops is Enabled after the next start, without a request", async () => {
    const keyId = await primaryKey();
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
    await server.stop();
    clock.ms += TRANSIENT_MS;
    const dataDir = server.dataDir;
    await start(dataDir);
    await server.stop();
    const store = await openServerStore(dataDir);
    try {
      const record = await store.get<KmsKeyRecord>(recordKey({ account: ACCOUNT, region: WEST }, "kms", "kms-key", keyId));
      expect(record).toMatchObject({ keyState: "Enabled" });
      expect(record!.transition).toBeUndefined();
    } finally {
      await store.close();
    }
    await start(dataDir);
    expect((await describe2(west, keyId)).KeyState).toBe("Enabled");
  });
});

describe("clients", () => {
  /** A server on the real clock, its transient states as short as `transientMs`. */
  async function realClockServer(transientMs: number): Promise<TestServer> {
    return startTestServer({ flags: ["--transient-state-ms", String(transientMs)] });
  }

  it("Terraform's aws_kms_replica_key flow: replicate, wait for Enabled, describe in both regions; retries see KMSInvalidStateException", async () => {
    const real = await realClockServer(400);
    try {
      const primaryClient = real.kms({ region: EAST });
      const replicaClient = real.kms({ region: WEST });
      const primary = (await primaryClient.send(new CreateKeyCommand({ MultiRegion: true, Description: "Multi-Region primary key" }))).KeyMetadata!;
      const replicated = await primaryClient.send(
        new ReplicateKeyCommand({ KeyId: primary.Arn, ReplicaRegion: WEST, Description: "Multi-Region replica key" }),
      );
      expect(replicated.ReplicaKeyMetadata!.KeyState).toBe("Creating");
      // Code that retries on KMSInvalidStateException, as ReplicateKey's documentation tells it to.
      let refusals = 0;
      for (;;) {
        try {
          await replicaClient.send(new EncryptCommand({ KeyId: replicated.ReplicaKeyMetadata!.Arn, Plaintext: Buffer.from("x") }));
          break;
        } catch (error) {
          expect((error as Error).name).toBe("KMSInvalidStateException");
          refusals++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect(refusals).toBeGreaterThan(0);
      // The provider's waiter: DescribeKey in the replica's region until Enabled.
      let replica = await describe2(replicaClient, replicated.ReplicaKeyMetadata!.Arn!);
      while (replica.KeyState !== "Enabled") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        replica = await describe2(replicaClient, replicated.ReplicaKeyMetadata!.Arn!);
      }
      const described = await describe2(primaryClient, primary.Arn!);
      // The same set seen from either region; only the key's own type differs.
      expect(described.MultiRegionConfiguration).toEqual({ ...replica.MultiRegionConfiguration, MultiRegionKeyType: "PRIMARY" });
      expect(replica).toMatchObject({ Description: "Multi-Region replica key", MultiRegion: true, KeyId: primary.KeyId });
      expect(replica.MultiRegionConfiguration).toEqual({
        MultiRegionKeyType: "REPLICA",
        PrimaryKey: { Arn: primary.Arn, Region: EAST },
        ReplicaKeys: [{ Arn: arnIn(WEST, primary.KeyId!), Region: WEST }],
      });
    } finally {
      await real.close();
    }
  });

  /** The aws CLIs on the machine whose `kms help` lists both multi-Region operations (Debian's 2.9 and v1 1.45 both do). */
  const MULTI_REGION_CLIS = clisThatKnow("kms", ["replicate-key", "update-primary-region"]);

  it("finds an aws CLI that knows ReplicateKey and UpdatePrimaryRegion", () => {
    expect({ asked: MULTI_REGION_CLIS.asked, found: MULTI_REGION_CLIS.clis.length > 0 }).toMatchObject({ found: true });
  });

  // A loop, not it.each: with no such CLI the test above fails and the rest of this file still runs.
  for (const cli of MULTI_REGION_CLIS.clis) {
    it(
      `${cli} replicate-key, describe-key in the replica's region, update-primary-region`,
      async () => {
        const real = await realClockServer(0);
        const aws = new AwsCli(real.url);
        try {
          const created = await aws.json<{ KeyMetadata: KeyMetadata }>(cli, "kms", ["create-key", "--multi-region", "--description", "cli primary"]);
          const keyId = created.KeyMetadata.KeyId!;
          const replicated = await aws.json<{ ReplicaKeyMetadata: KeyMetadata; ReplicaPolicy: string; ReplicaTags: unknown[] }>(cli, "kms", [
            "replicate-key",
            "--key-id",
            keyId,
            "--replica-region",
            WEST,
            "--tags",
            "TagKey=env,TagValue=test",
          ]);
          expect(replicated.ReplicaKeyMetadata).toMatchObject({ Arn: arnIn(WEST, keyId), KeyState: "Creating" });
          expect(replicated.ReplicaTags).toEqual([{ TagKey: "env", TagValue: "test" }]);
          const described = await aws.json<{ KeyMetadata: KeyMetadata }>(cli, "kms", ["describe-key", "--key-id", keyId, "--region", WEST]);
          expect(described.KeyMetadata).toMatchObject({
            KeyState: "Enabled",
            MultiRegionConfiguration: { MultiRegionKeyType: "REPLICA", PrimaryKey: { Region: EAST } },
          });

          const updated = await aws.run(cli, "kms", ["update-primary-region", "--key-id", created.KeyMetadata.Arn!, "--primary-region", WEST]);
          expect(updated).toMatchObject({ code: 0, stdout: "" });
          // The roles swapped, seen from both regions through the SDK (--transient-state-ms 0: Updating is already over).
          const newPrimary = await describe2(real.kms({ region: WEST }), keyId);
          expect(newPrimary).toMatchObject({
            KeyState: "Enabled",
            MultiRegionConfiguration: { MultiRegionKeyType: "PRIMARY", PrimaryKey: { Arn: arnIn(WEST, keyId), Region: WEST } },
          });
          expect((await describe2(real.kms({ region: EAST }), keyId)).MultiRegionConfiguration).toEqual({
            MultiRegionKeyType: "REPLICA",
            PrimaryKey: { Arn: arnIn(WEST, keyId), Region: WEST },
            ReplicaKeys: [{ Arn: arnIn(EAST, keyId), Region: EAST }],
          });
        } finally {
          aws.close();
          await real.close();
        }
      },
      CLI_TEST_TIMEOUT_MS,
    );
  }
});
