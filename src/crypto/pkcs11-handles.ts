// The token's sessions for thread-pool calls, and the usable copies of backing keys held in the token meanwhile.

import type * as graphene from "graphene-pk11";
import { LRUCache } from "lru-cache";
import type { BackingKeySpec } from "./key-store";

export interface UnwrappedKey {
  readonly handle: Buffer;
  readonly spec: BackingKeySpec;
  readonly wrapped: Buffer;
  /** Thread-pool operations using the handle now: an evicted key is destroyed only when the last one ends. */
  users: number;
  evicted: boolean;
}

/**
 * Unwrapped backing keys held in the token as session objects, least recently used evicted first, each
 * destroyed in the token when it leaves (and no operation uses it any more).
 */
export class UnwrappedKeyCache {
  private readonly entries: LRUCache<string, UnwrappedKey>;

  constructor(
    max: number,
    private readonly destroy: (handle: Buffer) => void,
  ) {
    this.entries = new LRUCache<string, UnwrappedKey>({
      max,
      dispose: (entry) => {
        entry.evicted = true;
        if (entry.users === 0) destroy(entry.handle);
      },
    });
  }

  /**
   * The key for `id` if it holds exactly these wrapped bytes. Comparing them is what makes the id a safe cache
   * key: an id reused for other material (a recreated key, a restored backup) must not use the old key.
   */
  get(id: string, spec: BackingKeySpec, wrapped: Uint8Array): UnwrappedKey | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.spec === spec && entry.wrapped.equals(wrapped)) return entry;
    this.entries.delete(id);
    return undefined;
  }

  add(id: string, spec: BackingKeySpec, wrapped: Uint8Array, handle: Buffer): UnwrappedKey {
    const entry: UnwrappedKey = { handle, spec, wrapped: Buffer.from(wrapped), users: 0, evicted: false };
    this.entries.set(id, entry);
    return entry;
  }

  pin(entry: UnwrappedKey): void {
    entry.users++;
  }

  release(entry: UnwrappedKey): void {
    entry.users--;
    if (entry.evicted && entry.users === 0) this.destroy(entry.handle);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** One operation in flight per session: concurrent calls on one PKCS#11 session crash SoftHSM. */
export class SessionPool {
  private readonly idle: graphene.Session[];
  private readonly waiting: Array<(session: graphene.Session) => void> = [];

  constructor(readonly sessions: readonly graphene.Session[]) {
    this.idle = [...sessions];
  }

  /** Runs `work` with a session's raw handle, for pkcs11js's thread-pool calls. */
  async use<T>(work: (session: Buffer) => Promise<T>): Promise<T> {
    const session = this.idle.pop() ?? (await new Promise<graphene.Session>((hand) => this.waiting.push(hand)));
    try {
      return await work(session.handle);
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.idle.push(session);
      else next(session);
    }
  }
}
