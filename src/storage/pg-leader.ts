// Leadership of a cluster on one PostgreSQL database: the node holding a session advisory lock runs the timed work.
import pg from "pg";
import type { Logger } from "../logger";

/**
 * The advisory lock's key: one constant for every node of every version (the lock is per database). Record locks
 * (pg-store.ts) hash resource names into the same 64-bit space with hashtextextended; this is a single value, so a
 * collision could at worst make one resource's change wait for leadership's release, never break either.
 */
export const LEADER_LOCK_KEY = 0x5ec7e75_1ead;

/** How often a follower asks for the lock again, and a lost leader tries to reconnect. */
export const DEFAULT_LEADER_RETRY_MS = 1_000;

export interface PgLeaderOptions {
  /** The connection settings of the store's pools; the leader has a connection of its own, outside them. */
  readonly connection: pg.ClientConfig;
  readonly retryMs?: number;
  readonly logger?: Logger;
}

/**
 * Holds or waits for the leader lock. A session advisory lock rather than a row or a lease: PostgreSQL releases it
 * when the session ends, so a node killed with -9 (its socket closed by the kernel) or cut off gives leadership up
 * without a timeout to tune, and no clock of any node is involved. The session is a dedicated client, not one from
 * the pools: a pooled connection is handed to other work, and its release would let the lock go at random.
 *
 * Losing the connection loses leadership at once: `leads()` turns false on the client's error or end, before the
 * next sweep asks. A sweep already running finishes its entries; each one re-reads its record under the record's
 * lock (pg-store.ts), so a new leader sweeping at the same time does each piece of work once.
 */
export class PgLeader {
  private client: pg.Client | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private closed = false;
  /** When this node last lost leadership (its connection failed): it lets one retry period pass before asking again. */
  private lostAt = -Infinity;
  private readonly retryMs: number;

  constructor(private readonly options: PgLeaderOptions) {
    this.retryMs = options.retryMs ?? DEFAULT_LEADER_RETRY_MS;
  }

  leads(): boolean {
    return this.leading;
  }

  /** A first try now (so a lone node leads before its sweepers start), then one every retryMs until it leads. */
  async start(): Promise<void> {
    await this.tryLead();
    this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.attempt;
    const client = this.client;
    this.client = undefined;
    this.lose(undefined);
    // Ending the session releases the lock: another node takes over at its next retry.
    await client?.end().catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      // A node whose connection just failed waits a period more, so a follower with a working one takes over first.
      if (!this.leading && Date.now() - this.lostAt >= this.retryMs) void this.tryLead();
      this.schedule();
    }, this.retryMs);
    this.timer.unref();
  }

  private tryLead(): Promise<void> {
    this.attempt ??= this.take().finally(() => (this.attempt = undefined));
    return this.attempt;
  }

  private async take(): Promise<void> {
    if (this.closed || this.leading) return;
    try {
      const client = this.client ?? (await this.connect());
      const result = await client.query<{ taken: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS taken", [LEADER_LOCK_KEY]);
      if (result.rows[0]?.taken !== true || this.closed || client !== this.client) return;
      this.leading = true;
      this.options.logger?.info("this node now leads the cluster: it runs the schedules and sweeps");
    } catch {
      // PostgreSQL unreachable: the store reports that itself; the next retry connects again.
      this.drop();
    }
  }

  private async connect(): Promise<pg.Client> {
    // Told apart from the pools' connections in pg_stat_activity: "<application name> leader".
    const client = new pg.Client({ ...this.options.connection, application_name: `${this.options.connection.application_name ?? "secretslite"} leader` });
    // On a lost connection: no query is running on this client (the lock is held, not awaited), so the error
    // or end event is the only news of it.
    client.on("error", (error) => {
      if (client === this.client) this.lose(error);
    });
    client.on("end", () => {
      if (client === this.client) this.lose(new Error("connection closed"));
    });
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      this.drop();
      throw error;
    }
    return client;
  }

  /** Forgets the client (ended, failed or being replaced) and leadership with it. */
  private lose(cause: unknown): void {
    if (this.leading) {
      this.leading = false;
      if (cause !== undefined) this.lostAt = Date.now();
      if (cause !== undefined && !this.closed) this.options.logger?.info("this node lost the cluster's leadership: its connection to PostgreSQL ended", { cause });
      else this.options.logger?.info("this node gives up the cluster's leadership");
    }
    if (cause !== undefined) this.drop();
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.leading = false;
    client?.end().catch(() => undefined);
  }
}
