// Leadership moves: a leader killed with -9 (or shut down) is replaced by another node within a
// few retry periods; the timed work then runs on the new leader, once, and no acknowledged write is lost meanwhile.
import { CreateSecretCommand, DeleteSecretCommand, ListSecretVersionIdsCommand, PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { RECORDS_TABLE } from "../../src/storage/pg-schema";
import { TestClock } from "../support/clock";
import { clusterPerTest, leaderSessions, recordDeletes, until, type Cluster } from "../support/cluster";

const LEADS = "this node now leads the cluster";
const DAY = 24 * 60 * 60 * 1000;

async function allVersionIds(sm: SecretsManagerClient, secretId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, MaxResults: 100, NextToken: token }));
    for (const version of page.Versions ?? []) ids.add(version.VersionId!);
    token = page.NextToken;
  } while (token !== undefined);
  return ids;
}

describe("leadership moving between the nodes of a cluster", () => {
  const clusters = clusterPerTest();

  it("moves to a survivor when the leader is killed with -9 under write load, losing no acknowledged write", async () => {
    const cluster = await clusters.start({ nodes: 3, mode: "process" });
    const [leader, ...survivors] = cluster.nodes as [NonNullable<Cluster["nodes"][0]>, ...Cluster["nodes"]];
    expect(leader.log()).toContain(LEADS);
    const all = cluster.secretsManager();
    await all.send(new CreateSecretCommand({ Name: "moves/load", SecretString: "v0" }));

    // Writers spread over all three nodes; a call to the dead node fails (it was never acknowledged).
    const acknowledged: string[] = [];
    let failed = 0;
    let stop = false;
    let sent = 0;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const value = `w${sent++}`;
        try {
          const answer = await all.send(new PutSecretValueCommand({ SecretId: "moves/load", SecretString: value }));
          if (answer.$metadata.httpStatusCode === 200) acknowledged.push(answer.VersionId!);
        } catch {
          failed++;
        }
      }
    };
    const writers = Array.from({ length: 12 }, () => writer());
    await until(async () => acknowledged.length >= 100, "100 writes before the kill", 600, 50);
    await cluster.kill(leader);
    const atKill = acknowledged.length;
    await until(async () => acknowledged.length >= atKill + 300, "300 writes after the kill", 600, 50);
    stop = true;
    await Promise.all(writers);

    // A survivor took the lock over (PostgreSQL ended the dead node's session) and says so.
    await until(async () => survivors.some((node) => node.log().includes(LEADS)), "a survivor leads");
    expect(survivors.filter((node) => node.log().includes(LEADS))).toHaveLength(1);
    expect(await leaderSessions(clusters.postgres, cluster.store)).toBe(1);

    // Every write that answered 200, on any node, before or after the kill, is there.
    const kept = await allVersionIds(cluster.secretsManager(survivors), "moves/load");
    expect(acknowledged.filter((versionId) => !kept.has(versionId))).toEqual([]);
    // The kill did cut some calls off: the test exercised what it claims.
    expect(failed).toBeGreaterThan(0);
  });

  it("runs a due deletion on the node that takes over from a leader that shut down, once", async () => {
    const clock = new TestClock(Date.parse("2026-03-01T10:00:00Z"));
    const cluster = await clusters.start({ nodes: 3, mode: "in-process", clock });
    const database = new URL(cluster.store).pathname.slice(1);
    const deletions = await recordDeletes(clusters.postgres, cluster.store);
    const sm = cluster.secretsManager();
    await sm.send(new CreateSecretCommand({ Name: "moves/expiring", SecretString: "x" }));
    await sm.send(new DeleteSecretCommand({ SecretId: "moves/expiring", RecoveryWindowInDays: 7 }));

    // Due now; no request looks the secret up (a lookup would purge it): only a leader's timer can, and the current
    // leader's next one is a minute away.
    clock.ms += 7 * DAY + 1000;

    // The first node leads; it shuts down (its session ends, and the lock with it) before its next sweep.
    const leaderPid = async (): Promise<number | undefined> => {
      const result = await clusters.postgres.sql(
        "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid WHERE a.datname = $1 AND a.application_name LIKE '% leader' AND l.locktype = 'advisory' AND l.granted",
        [database],
      );
      return (result.rows[0] as { pid: number } | undefined)?.pid;
    };
    const first = await leaderPid();
    expect(first).toBeDefined();
    const old = cluster.nodes[0]!;
    await old.stop();
    cluster.nodes.splice(0, 1);
    await until(async () => {
      const next = await leaderPid();
      return next !== undefined && next !== first;
    }, "another node leads");

    const left = async (): Promise<number> =>
      (await clusters.postgres.sql(`SELECT count(*)::int AS n FROM ${RECORDS_TABLE} WHERE strpos(key, 'moves/expiring') > 0`, [], database)).rows[0].n as number;
    // A node that takes leadership over sweeps within a second (sweeper.ts), not a minute later.
    await until(async () => (await left()) === 0, "the due secret purged by the new leader's sweep");
    const deleted = await deletions("moves/expiring");
    expect(deleted.length).toBeGreaterThanOrEqual(2);
    expect(deleted.filter((row) => row.n !== 1)).toEqual([]);
    expect(await leaderSessions(clusters.postgres, cluster.store)).toBe(1);
  });
});
