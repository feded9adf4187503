// ReplicateSecretToRegions, RemoveRegionsFromReplication and StopReplicationToReplica end to end, across regions of one server.
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand } from "@aws-sdk/client-kms";
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
  StopReplicationToReplicaCommand,
  TagResourceCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { filesContaining } from "../support/files";
import { eventually } from "../support/rotation-function";
import { REGION, startTestServer, type TestServer } from "../support/server";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const clock = { time: T0, now: () => new Date(clock.time) };

let server: TestServer;
let sm: SecretsManagerClient;
const clients = new Map<string, SecretsManagerClient>();
const inRegion = (region: string): SecretsManagerClient => {
  let client = clients.get(region);
  if (client === undefined) {
    client = server.secretsManager({ region });
    clients.set(region, client);
  }
  return client;
};

beforeAll(async () => {
  server = await startTestServer({ clock });
  sm = server.secretsManager();
});
afterAll(() => server.close());

let counter = 0;
const uniqueName = (base = "replicated/db") => `${base}-${++counter}`;

const replicaArnOf = (arn: string, region: string) => arn.replace(`:${REGION}:`, `:${region}:`);

const NOT_PERMITTED = {
  name: "InvalidParameterException",
  message: "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
};

async function replicated(regions: readonly string[], value = "first") {
  const name = uniqueName();
  const created = await sm.send(
    new CreateSecretCommand({ Name: name, SecretString: value, Description: "the database", Tags: [{ Key: "team", Value: "payments" }] }),
  );
  const arn = created.ARN ?? "";
  const answer = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: regions.map((Region) => ({ Region })) }));
  const settled = await settledReplicas(arn);
  return { name, arn, firstVersion: created.VersionId ?? "", answer, settled };
}

/** The primary's ReplicationStatus once no replica is InProgress any more (AWS and secretslite replicate in the background). */
async function settledReplicas(arn: string) {
  return eventually(async () => {
    const statuses = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus ?? [];
    expect(statuses.map((status) => status.Status)).not.toContain("InProgress");
    return statuses;
  });
}

describe("behaviour", () => {
  it("replicates under each region's default key: same name, ARN suffix, versions, value and metadata, PrimaryRegion set", async () => {
    const { name, arn, firstVersion, answer, settled } = await replicated(["eu-west-1"]);
    expect(answer.ARN).toBe(arn);
    // AWS answers before it copies, naming the AWS managed key when none was given; DescribeSecret then shows InSync.
    expect(answer.ReplicationStatus).toEqual([{ Region: "eu-west-1", KmsKeyId: "alias/aws/secretsmanager", Status: "InProgress" }]);
    expect(settled).toEqual([{ Region: "eu-west-1", Status: "InSync", StatusMessage: "Replication succeeded" }]);

    const eu = inRegion("eu-west-1");
    const replicaArn = replicaArnOf(arn, "eu-west-1");
    const value = await eu.send(new GetSecretValueCommand({ SecretId: replicaArn }));
    expect(value).toMatchObject({ ARN: replicaArn, Name: name, VersionId: firstVersion, SecretString: "first", VersionStages: ["AWSCURRENT"] });

    const replica = await eu.send(new DescribeSecretCommand({ SecretId: name }));
    expect(replica).toMatchObject({
      ARN: replicaArn,
      Name: name,
      Description: "the database",
      Tags: [{ Key: "team", Value: "payments" }],
      PrimaryRegion: REGION,
      VersionIdsToStages: { [firstVersion]: ["AWSCURRENT"] },
    });
    expect(replica.KmsKeyId).toBeUndefined();

    const primary = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(primary.PrimaryRegion).toBe(REGION);
    expect(primary.ReplicationStatus).toEqual([{ Region: "eu-west-1", Status: "InSync", StatusMessage: "Replication succeeded" }]);
  });

  it("stores a replica's value sealed, as every version is", async () => {
    const value = `replicated-plaintext-${Date.now()}`;
    const { name } = await replicated(["eu-west-2"], value);
    expect((await inRegion("eu-west-2").send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(value);
    // LevelDB appends every write to its log before answering, so the bytes would be there now.
    expect(filesContaining(server.dataDir, value)).toEqual([]);
  });

  it("seals a replica under the KmsKeyId given for its region, apart from the primary's key", async () => {
    const kms = server.kms({ region: "us-west-2" });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: "keyed" }));
    const arn = created.ARN ?? "";
    const answer = await sm.send(
      new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: "us-west-2", KmsKeyId: key.Arn }] }),
    );
    expect(answer.ReplicationStatus).toEqual([{ Region: "us-west-2", KmsKeyId: key.Arn, Status: "InProgress" }]);
    expect(await settledReplicas(arn)).toEqual([{ Region: "us-west-2", KmsKeyId: key.Arn, Status: "InSync", StatusMessage: "Replication succeeded" }]);

    const west = inRegion("us-west-2");
    const replicaArn = replicaArnOf(arn, "us-west-2");
    expect((await west.send(new DescribeSecretCommand({ SecretId: replicaArn }))).KmsKeyId).toBe(key.Arn);
    // Only the replica depends on that key.
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(west.send(new GetSecretValueCommand({ SecretId: replicaArn }))).rejects.toMatchObject({ name: "DecryptionFailure" });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("keyed");
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    expect((await west.send(new GetSecretValueCommand({ SecretId: replicaArn }))).SecretString).toBe("keyed");
  });

  it("reports a name taken in the replica's region as Failed, and overwrites that secret only when told to", async () => {
    const name = uniqueName();
    const central = inRegion("eu-central-1");
    await central.send(new CreateSecretCommand({ Name: name, SecretString: "theirs" }));
    const arn = (await sm.send(new CreateSecretCommand({ Name: name, SecretString: "ours" }))).ARN ?? "";

    const refused = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: "eu-central-1" }] }));
    expect(refused.ReplicationStatus).toEqual([{ Region: "eu-central-1", KmsKeyId: "alias/aws/secretsmanager", Status: "InProgress" }]);
    expect(await settledReplicas(arn)).toEqual([
      { Region: "eu-central-1", Status: "Failed", StatusMessage: `Replication failed: Secret name ${name} already exists in region eu-central-1.` },
    ]);
    expect((await central.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("theirs");
    expect((await central.send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion).toBeUndefined();

    const forced = await sm.send(
      new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: "eu-central-1" }], ForceOverwriteReplicaSecret: true }),
    );
    expect(forced.ReplicationStatus).toEqual([{ Region: "eu-central-1", KmsKeyId: "alias/aws/secretsmanager", Status: "InProgress" }]);
    expect(await settledReplicas(arn)).toEqual([{ Region: "eu-central-1", Status: "InSync", StatusMessage: "Replication succeeded" }]);
    const value = await central.send(new GetSecretValueCommand({ SecretId: name }));
    expect(value).toMatchObject({ ARN: replicaArnOf(arn, "eu-central-1"), SecretString: "ours" });
  });

  it("refuses replication to the secret's own region, from ReplicateSecretToRegions and CreateSecret alike", async () => {
    const ownRegion = { name: "InvalidParameterException", message: "Invalid replica region." };
    const arn = (await sm.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: "v" }))).ARN ?? "";
    await expect(sm.send(new ReplicateSecretToRegionsCommand({ SecretId: arn, AddReplicaRegions: [{ Region: REGION }] }))).rejects.toMatchObject(ownRegion);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).ReplicationStatus).toBeUndefined();

    const name = uniqueName();
    await expect(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: "v", AddReplicaRegions: [{ Region: "eu-west-1" }, { Region: REGION }] })),
    ).rejects.toMatchObject(ownRegion);
    await expect(sm.send(new DescribeSecretCommand({ SecretId: name }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("refuses changes made to a replica in its own region", async () => {
    const { name, arn } = await replicated(["ap-south-1"]);
    const replicaRegion = inRegion("ap-south-1");
    const replicaArn = replicaArnOf(arn, "ap-south-1");
    const attempts: Array<() => Promise<unknown>> = [
      () => replicaRegion.send(new PutSecretValueCommand({ SecretId: replicaArn, SecretString: "changed" })),
      () => replicaRegion.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: "arn:aws:lambda:ap-south-1:000000000000:function:rotate" })),
      () => replicaRegion.send(new CancelRotateSecretCommand({ SecretId: name })),
      () => replicaRegion.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: "eu-north-1" }] })),
      () => replicaRegion.send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: ["ap-south-1"] })),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject(NOT_PERMITTED);
    expect((await replicaRegion.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("first");
  });

  it("carries later changes of the primary to its replicas", async () => {
    const { name, arn, firstVersion } = await replicated(["ca-central-1", "eu-west-3"]);
    const second = await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "second" }));
    await sm.send(new UpdateSecretCommand({ SecretId: arn, Description: "the new database" }));
    await sm.send(new TagResourceCommand({ SecretId: arn, Tags: [{ Key: "tier", Value: "gold" }] }));

    for (const region of ["ca-central-1", "eu-west-3"]) {
      const client = inRegion(region);
      await eventually(async () => {
        const current = await client.send(new GetSecretValueCommand({ SecretId: name }));
        expect(current).toMatchObject({ VersionId: second.VersionId, SecretString: "second" });
        const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
        expect(described).toMatchObject({
          Description: "the new database",
          VersionIdsToStages: { [firstVersion]: ["AWSPREVIOUS"], [second.VersionId ?? ""]: ["AWSCURRENT"] },
        });
        expect(described.Tags).toEqual(expect.arrayContaining([{ Key: "team", Value: "payments" }, { Key: "tier", Value: "gold" }]));
      });
      expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("first");
    }
  });

  it("shows each replica's last access day in the primary's ReplicationStatus", async () => {
    const { name, arn } = await replicated(["eu-south-1"]);
    await inRegion("eu-south-1").send(new GetSecretValueCommand({ SecretId: name }));
    await eventually(async () => {
      const primary = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
      expect(primary.ReplicationStatus?.[0]?.LastAccessedDate).toEqual(new Date("2026-03-01T00:00:00Z"));
    });
    // The primary's own was never read.
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).LastAccessedDate).toBeUndefined();
  });

  it("removes replicas at once, and makes the secret an ordinary one when the last goes", async () => {
    const { name, arn } = await replicated(["ap-southeast-2", "ap-northeast-1"]);
    const removed = await sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: ["ap-southeast-2"] }));
    expect(removed).toMatchObject({
      ARN: arn,
      ReplicationStatus: [{ Region: "ap-northeast-1", Status: "InSync", StatusMessage: "Replication succeeded" }],
    });
    await expect(inRegion("ap-southeast-2").send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    expect((await inRegion("ap-northeast-1").send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("first");

    // A region no longer (or never) replicated is passed over.
    await sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: ["ap-southeast-2", "ap-northeast-1"] }));
    const primary = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(primary.ReplicationStatus).toBeUndefined();
    expect(primary.PrimaryRegion).toBeUndefined();
    await expect(inRegion("ap-northeast-1").send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("promotes a replica, in its own region, to a standalone secret that takes changes there", async () => {
    const { name, arn } = await replicated(["sa-east-1", "eu-north-1"]);
    const sa = inRegion("sa-east-1");
    await expect(sm.send(new StopReplicationToReplicaCommand({ SecretId: arn }))).rejects.toMatchObject({ name: "InvalidRequestException" });

    const promoted = await sa.send(new StopReplicationToReplicaCommand({ SecretId: name }));
    expect(promoted.ARN).toBe(replicaArnOf(arn, "sa-east-1"));
    expect((await sa.send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion).toBeUndefined();
    await sa.send(new PutSecretValueCommand({ SecretId: name, SecretString: "its own" }));
    expect((await sa.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("its own");

    const primary = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(primary.ReplicationStatus?.map((status) => status.Region)).toEqual(["eu-north-1"]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe("first");
  });

  it("completes the replicas CreateSecret's AddReplicaRegions asked for", async () => {
    const name = uniqueName();
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: "at birth", AddReplicaRegions: [{ Region: "me-south-1" }] }));
    expect(created.ReplicationStatus?.[0]).toMatchObject({ Region: "me-south-1", Status: "InProgress" });
    await eventually(async () => {
      const primary = await sm.send(new DescribeSecretCommand({ SecretId: created.ARN }));
      expect(primary.ReplicationStatus).toEqual([{ Region: "me-south-1", Status: "InSync", StatusMessage: "Replication succeeded" }]);
    });
    const value = await inRegion("me-south-1").send(new GetSecretValueCommand({ SecretId: name }));
    expect(value).toMatchObject({ ARN: replicaArnOf(created.ARN ?? "", "me-south-1"), SecretString: "at birth" });
  });
});
