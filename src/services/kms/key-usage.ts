// Key last usage: kept in memory on the hot path and flushed to storage in batches, never a write per request.
import { recordKey } from "../../storage/keys";
import type { BatchOp, Store, StoredValue } from "../../storage/store";
import type { KmsRequestContext } from "./context";
import type { Scope } from "../scope";

export type TrackedOperation =
  | "Encrypt"
  | "Decrypt"
  | "GenerateDataKey"
  | "GenerateDataKeyWithoutPlaintext"
  | "GenerateDataKeyPair"
  | "GenerateDataKeyPairWithoutPlaintext"
  | "ReEncrypt"
  | "GenerateMac"
  | "VerifyMac"
  | "DeriveSharedSecret"
  | "Sign"
  | "Verify";

export interface KeyUsageRecord extends StoredValue {
  readonly v: 1;
  readonly operation: TrackedOperation;
  readonly at: number;
  readonly requestId: string;
  /** The audit log's eventID for that request; absent without --audit-log (no event was written). */
  readonly eventId?: string;
}

/** How often pending usage reaches storage; a crash loses at most this much of it. */
const FLUSH_INTERVAL_MS = 5_000;

/** The lock flushes to a shared store take, so two nodes' read-and-max writes of one record never interleave. */
const FLUSH_LOCK = "kms-key-usage-flush";

/** The later of two uses (the first when they tie). */
const latest = (a: KeyUsageRecord | undefined, b: KeyUsageRecord | undefined): KeyUsageRecord | undefined =>
  a === undefined ? b : b === undefined || a.at >= b.at ? a : b;

export class KeyUsage {
  private pending = new Map<string, KeyUsageRecord>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** While a flush is under way, what clear() and forget() dropped, so a failed flush puts none of it back. */
  private inFlight = false;
  private forgotten: Array<(recordKey: string) => boolean> = [];

  constructor(
    private readonly store: Store,
    /** Where a failed flush is reported; its records stay pending for the next one. */
    private readonly onFlushError: (error: unknown) => void = () => undefined,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    // Usage tracking must never keep a process alive on its own.
    this.timer.unref();
  }

  record(ctx: Pick<KmsRequestContext, "scope" | "now" | "requestId" | "audit">, keyId: string, operation: TrackedOperation): void {
    const record: KeyUsageRecord = { v: 1, operation, at: ctx.now.getTime(), requestId: ctx.requestId };
    this.pending.set(recordKey(ctx.scope, "kms", "kms-key-usage", keyId), ctx.audit === undefined ? record : { ...record, eventId: ctx.audit.eventId });
  }

  async lastUsage(scope: Scope, keyId: string): Promise<KeyUsageRecord | undefined> {
    const key = recordKey(scope, "kms", "kms-key-usage", keyId);
    const pending = this.pending.get(key);
    // Another node of a cluster may have stored a later use than this node's pending one.
    if (pending !== undefined && !this.store.shared) return pending;
    return latest(pending, await this.store.get<KeyUsageRecord>(key));
  }

  /**
   * Writes what is pending in one batch; flushes run one after another so an older one never lands last.
   * Best-effort, never rejects: a batch storage refuses (a full disk) goes back to pending, under anything newer.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      this.inFlight = true;
      try {
        await (this.store.shared ? this.store.withLock(FLUSH_LOCK, () => this.write(batch, true)) : this.write(batch, false));
      } catch (error) {
        // Not what a reset or a destruction forgot meanwhile: those keys' usage must not come back.
        const forgotten = this.forgotten;
        for (const [key, value] of batch) if (!this.pending.has(key) && !forgotten.some((matches) => matches(key))) this.pending.set(key, value);
        this.onFlushError(error);
      } finally {
        this.forgotten = [];
        this.inFlight = false;
      }
    });
    return this.flushing;
  }

  /**
   * One batch of the records. On a shared store (several nodes, each flushing what it saw) under one lock, and each
   * record only if later than the stored one: a node's flush must never move a key's last use back in time.
   */
  private async write(batch: ReadonlyMap<string, KeyUsageRecord>, readFirst: boolean): Promise<void> {
    const ops: BatchOp[] = [];
    for (const [key, value] of batch) {
      const stored = readFirst ? await this.store.get<KeyUsageRecord>(key) : undefined;
      if (stored === undefined || stored.at <= value.at) ops.push({ type: "put", key, value });
    }
    await this.store.batch(ops);
  }

  /** Forgets what is pending, or what `matches` by storage key (reset): a later flush must not bring wiped keys' usage back. */
  clear(matches?: (recordKey: string) => boolean): void {
    if (this.inFlight) this.forgotten.push(matches ?? (() => true));
    if (matches === undefined) {
      this.pending = new Map();
      return;
    }
    for (const key of [...this.pending.keys()]) if (matches(key)) this.pending.delete(key);
  }

  /** Forgets one key's usage, pending and stored (its key is being destroyed). */
  forget(scope: Scope, keyId: string): BatchOp {
    const key = recordKey(scope, "kms", "kms-key-usage", keyId);
    this.pending.delete(key);
    if (this.inFlight) this.forgotten.push((pendingKey) => pendingKey === key);
    return { type: "del", key };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
