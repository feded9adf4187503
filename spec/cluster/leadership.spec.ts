// Leadership: of the nodes on one database exactly one holds the leader lock (and runs the timed work); when it
// shuts down, another takes the lock over. (spec/cluster/leadership-moves.spec.ts: a leader killed with -9.)
import { PgLeader } from "../../src/storage/pg-leader";
import { clusterPerTest, leaderSessions, until, type ClusterNode } from "../support/cluster";

const LEADS = "this node now leads the cluster";

describe("leadership of a cluster on one PostgreSQL database", () => {
  const clusters = clusterPerTest();

  const leaders = (nodes: readonly ClusterNode[]): ClusterNode[] => nodes.filter((node) => node.log().includes(LEADS));

  it("is held by exactly one of three nodes, and moves to another when the leader shuts down", async () => {
    const cluster = await clusters.start({ nodes: 3, mode: "process" });
    const store = cluster.store;
    // The first node takes the lock as it starts (its log says so before the ready line); the others wait.
    expect(await leaderSessions(clusters.postgres, store)).toBe(1);
    const first = leaders(cluster.nodes);
    expect(first).toEqual([cluster.nodes[0]]);

    // Several retry periods pass: the followers keep asking, and still nobody else leads.
    await new Promise((wake) => setTimeout(wake, 2_500));
    expect(await leaderSessions(clusters.postgres, store)).toBe(1);
    expect(leaders(cluster.nodes)).toEqual(first);

    const old = first[0]!;
    await old.stop();
    expect(old.log()).toContain("this node gives up the cluster's leadership");
    cluster.nodes.splice(cluster.nodes.indexOf(old), 1);
    await until(async () => leaders(cluster!.nodes).length === 1, "a follower leads after the leader shut down");
    expect(await leaderSessions(clusters.postgres, store)).toBe(1);
  });

  it("lets a node that joins a led cluster follow, and lead once the others are gone", async () => {
    const cluster = await clusters.start({ nodes: 1, mode: "process" });
    const late = await cluster.add();
    expect(late.log()).not.toContain(LEADS);
    const leader = cluster.nodes[0]!;
    await leader.stop();
    cluster.nodes.splice(cluster.nodes.indexOf(leader), 1);
    await until(async () => late.log().includes(LEADS), "the late node leads");
    expect(await leaderSessions(clusters.postgres, cluster.store)).toBe(1);
  });

  it("is lost at once with the leader's connection (its session terminated), and taken by the other node", async () => {
    const store = await clusters.postgres.createDatabase();
    const database = new URL(store).pathname.slice(1);
    // The follower retries ten times as often as the leader, whose first retry after losing waits a period more:
    // the follower asks first.
    const a = new PgLeader({ connection: { connectionString: store }, retryMs: 1_000 });
    const b = new PgLeader({ connection: { connectionString: store }, retryMs: 100 });
    try {
      await a.start();
      await b.start();
      expect([a.leads(), b.leads()]).toEqual([true, false]);
      // What PostgreSQL does to the session of a node that died or was cut off.
      await clusters.postgres.sql(
        `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1`,
        [database],
      );
      await until(async () => !a.leads(), "the leader notices its lost connection", 100, 20);
      await until(async () => b.leads(), "the follower takes over");
      // The node that lost it reconnects and follows: one leader.
      await new Promise((wake) => setTimeout(wake, 2_500));
      expect([a.leads(), b.leads()]).toEqual([false, true]);
      expect(await leaderSessions(clusters.postgres, store)).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
    expect([a.leads(), b.leads()]).toEqual([false, false]);
    expect(await leaderSessions(clusters.postgres, store)).toBe(0);
  });
});
