// Invariants of a cluster: three nodes on one database behind a round-robin client answer concurrent changes of one
// resource as one node would (no lost update, one winner), and schedules fire once across the cluster.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { TestClock } from "../support/clock";
import { recordDeletes, startCluster, type Cluster } from "../support/cluster";
import { sharedPostgres, type PostgresCluster } from "../support/postgres";
import { eventually, singleUserTemplate, startLambdaEndpoint, type LambdaEndpoint } from "../support/rotation-function";

const DAY = 24 * 60 * 60 * 1000;

/** Every call's outcome: "ok" or the error's name, counted. */
async function outcomes(calls: ReadonlyArray<Promise<unknown>>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const result of await Promise.allSettled(calls)) {
    const name = result.status === "fulfilled" ? "ok" : String((result.reason as { name?: string }).name);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

async function allVersions(sm: SecretsManagerClient, secretId: string): Promise<Map<string, string[]>> {
  const versions = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, MaxResults: 100, NextToken: token }));
    for (const version of page.Versions ?? []) versions.set(version.VersionId!, version.VersionStages ?? []);
    token = page.NextToken;
  } while (token !== undefined);
  return versions;
}

describe("a cluster of three nodes on one database", () => {
  let postgres: PostgresCluster;

  beforeAll(async () => {
    postgres = await sharedPostgres();
  });
  afterAll(async () => {
    await postgres.stop();
  });

  describe("concurrent changes of one resource, spread over three node processes", () => {
    let cluster: Cluster;
    let sm: SecretsManagerClient;
    let kms: KMSClient;

    beforeAll(async () => {
      cluster = await startCluster(postgres, { nodes: 3, mode: "process" });
      sm = cluster.secretsManager();
      kms = cluster.kms();
    }, 60_000);
    afterAll(async () => {
      await cluster.close();
    });

    it("answers 1,000 concurrent PutSecretValue on one secret, keeping every version and one AWSCURRENT, one AWSPREVIOUS", async () => {
      const created = await sm.send(new CreateSecretCommand({ Name: "cluster/hot", SecretString: "v0" }));
      const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => sm.send(new PutSecretValueCommand({ SecretId: "cluster/hot", SecretString: `v${i + 1}` }))));
      expect(answers.every((answer) => answer.$metadata.httpStatusCode === 200)).toBe(true);

      // Versions without labels are deprecated, and AWS removes them only past the 100 newest and 24 hours old
      // (labels.ts): all 1,001 are still kept.
      const versions = await allVersions(sm, "cluster/hot");
      expect(versions.size).toBe(1001);
      for (const answer of answers) expect(versions.has(answer.VersionId!)).toBe(true);
      expect(versions.has(created.VersionId!)).toBe(true);
      const labelled = (label: string) => [...versions].filter(([, stages]) => stages.includes(label));
      expect(labelled("AWSCURRENT")).toHaveLength(1);
      expect(labelled("AWSPREVIOUS")).toHaveLength(1);
      const described = await sm.send(new DescribeSecretCommand({ SecretId: "cluster/hot" }));
      expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(2);
    });

    it("creates a secret once when 100 CreateSecret of one name race: 99 answer ResourceExistsException", async () => {
      const counts = await outcomes(Array.from({ length: 100 }, (_, i) => sm.send(new CreateSecretCommand({ Name: "cluster/raced", SecretString: `by ${i}` }))));
      expect(counts).toEqual({ ok: 1, ResourceExistsException: 99 });
      const versions = await allVersions(sm, "cluster/raced");
      expect(versions.size).toBe(1);
    });

    it("creates an alias once when 50 CreateAlias of one name to different keys race: 49 answer AlreadyExistsException", async () => {
      const keys = await Promise.all(Array.from({ length: 50 }, () => kms.send(new CreateKeyCommand({}))));
      const keyIds = keys.map((key) => key.KeyMetadata!.KeyId!);
      const counts = await outcomes(keyIds.map((keyId) => kms.send(new CreateAliasCommand({ AliasName: "alias/cluster-raced", TargetKeyId: keyId }))));
      expect(counts).toEqual({ ok: 1, AlreadyExistsException: 49 });
      // The alias and the winning key's alias list agree, and no other key lists it.
      const target = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/cluster-raced" }))).KeyMetadata!.KeyId!;
      const listing = await Promise.all(keyIds.map((keyId) => kms.send(new ListAliasesCommand({ KeyId: keyId }))));
      const holders = keyIds.filter((_, i) => (listing[i]!.Aliases ?? []).some((alias) => alias.AliasName === "alias/cluster-raced"));
      expect(holders).toEqual([target]);
    });

    it("keeps an alias and the keys' alias lists consistent under concurrent UpdateAlias and DeleteAlias", async () => {
      const keyIds = (await Promise.all(Array.from({ length: 10 }, () => kms.send(new CreateKeyCommand({}))))).map((key) => key.KeyMetadata!.KeyId!);
      for (let round = 0; round < 3; round++) {
        const name = `alias/cluster-moving-${round}`;
        await kms.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: keyIds[0]! }));
        const calls: Array<Promise<unknown>> = keyIds.flatMap((keyId, i) => [
          kms.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: keyId })),
          ...(i === 5 ? [kms.send(new DeleteAliasCommand({ AliasName: name }))] : []),
        ]);
        const counts = await outcomes(calls);
        // Each call either did its change or found the alias deleted (NotFoundException); nothing else.
        expect(Object.keys(counts).filter((name) => name !== "ok" && name !== "NotFoundException")).toEqual([]);
        expect(counts.ok).toBeGreaterThanOrEqual(1);

        const described = await kms.send(new DescribeKeyCommand({ KeyId: name })).then(
          (found) => found.KeyMetadata!.KeyId!,
          (error: { name: string }) => error.name,
        );
        // Deleted (DescribeKey answers NotFoundException): no key lists it. Still there: only its target does.
        const target = described === "NotFoundException" ? [] : [described];
        const listing = await Promise.all(keyIds.map((keyId) => kms.send(new ListAliasesCommand({ KeyId: keyId }))));
        const holders = keyIds.filter((_, i) => (listing[i]!.Aliases ?? []).some((alias) => alias.AliasName === name));
        expect(holders).toEqual(target);
      }
    });
  });

  describe("schedules, with every node's time on one test clock", () => {
    const clock = new TestClock(Date.parse("2026-03-01T10:00:00Z"));
    let cluster: Cluster;
    let sm: SecretsManagerClient;
    let kms: KMSClient;
    let lambda: LambdaEndpoint;
    let deletions: (fragment: string) => Promise<Array<{ key: string; n: number }>>;

    beforeAll(async () => {
      lambda = await startLambdaEndpoint();
      cluster = await startCluster(postgres, { nodes: 3, mode: "in-process", clock, flags: ["--lambda-endpoint", lambda.url] });
      sm = cluster.secretsManager();
      kms = cluster.kms();
      // Every DELETE of a record from here on: a purge done twice shows as a key deleted more than once.
      deletions = await recordDeletes(postgres, cluster.store);
    }, 60_000);
    afterAll(async () => {
      await cluster.close();
      await lambda.close();
    });

    it("purges a secret whose recovery window ended once, though every node looks it up at once", async () => {
      const created = await sm.send(new CreateSecretCommand({ Name: "cluster/expiring", SecretString: "x" }));
      await sm.send(new PutSecretValueCommand({ SecretId: created.ARN!, SecretString: "y" }));
      await sm.send(new DeleteSecretCommand({ SecretId: created.ARN!, RecoveryWindowInDays: 7 }));
      clock.ms += 7 * DAY + 1000;
      // Each lookup of a due secret purges it on the node that serves it: 30 of them, 10 on each node, at once.
      const counts = await outcomes(Array.from({ length: 30 }, () => sm.send(new DescribeSecretCommand({ SecretId: "cluster/expiring" }))));
      expect(counts).toEqual({ ResourceNotFoundException: 30 });
      const deleted = await deletions("cluster/expiring");
      // The secret's record and its two versions at least; each deleted exactly once.
      expect(deleted.length).toBeGreaterThanOrEqual(3);
      expect(deleted.filter((row) => row.n !== 1)).toEqual([]);
      // The name is free again, and what is created under it is not purged by a stale schedule entry on any node.
      await sm.send(new CreateSecretCommand({ Name: "cluster/expiring", SecretString: "new" }));
      await Promise.all(Array.from({ length: 6 }, () => sm.send(new DescribeSecretCommand({ SecretId: "cluster/expiring" }))));
      expect((await sm.send(new DescribeSecretCommand({ SecretId: "cluster/expiring" }))).DeletedDate).toBeUndefined();
    });

    it("destroys a KMS key whose deletion window ended once, though every node sweeps at once", async () => {
      const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
      clock.ms += 7 * DAY + 1000;
      // ListAliases sweeps the KMS schedule on the node that serves it; DescribeKey finds the key due.
      await outcomes([
        ...Array.from({ length: 9 }, () => kms.send(new ListAliasesCommand({}))),
        ...Array.from({ length: 9 }, () => kms.send(new DescribeKeyCommand({ KeyId: keyId }))),
      ]);
      expect(await outcomes(Array.from({ length: 3 }, () => kms.send(new DescribeKeyCommand({ KeyId: keyId }))))).toEqual({ NotFoundException: 3 });
      const deleted = await deletions(keyId);
      expect(deleted.length).toBeGreaterThanOrEqual(1);
      expect(deleted.filter((row) => row.n !== 1)).toEqual([]);
    });

    it("starts a scheduled rotation once across the cluster: the function's createSecret step runs once", async () => {
      const template = lambda.define("cluster-template", singleUserTemplate(sm));
      const created = await sm.send(new CreateSecretCommand({ Name: "cluster/rotating", SecretString: "first" }));
      await sm.send(new RotateSecretCommand({ SecretId: created.ARN!, RotationLambdaARN: template, RotationRules: { AutomaticallyAfterDays: 1 }, RotateImmediately: false }));
      const createSteps = () => lambda.invocations.filter((call) => call.functionName === "cluster-template" && call.event.Step === "createSecret");
      expect(createSteps()).toHaveLength(0);

      // The window opens at the next midnight but one; only the leader's timer starts the rotation.
      const next = (await sm.send(new DescribeSecretCommand({ SecretId: created.ARN! }))).NextRotationDate!;
      clock.ms = next.getTime() - DAY + 1000;
      await eventually(async () => {
        const described = await sm.send(new DescribeSecretCommand({ SecretId: created.ARN! }));
        expect(described.LastRotatedDate).toBeDefined();
        expect(Object.values(described.VersionIdsToStages ?? {}).flat().sort()).toEqual(["AWSCURRENT", "AWSPREVIOUS"]);
      });
      // Several more sweep periods of every node (the timers tick each second) start nothing more.
      await new Promise((wake) => setTimeout(wake, 3_000));
      expect(createSteps()).toHaveLength(1);
    });
  });
});
