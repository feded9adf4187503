// Per-resource queues of changes within one process: the in-process half of Store.withLock for every backend.

/** A chain of pending changes per resource: each waits for the one before it, failed or not. */
export class ResourceLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<R>(resource: string, change: () => Promise<R>): Promise<R> {
    const previous = this.tails.get(resource) ?? Promise.resolve();
    const result = previous.then(change, change);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(resource, tail);
    try {
      return await result;
    } finally {
      // Only the last waiter removes the entry, so the map never grows with idle resources.
      if (this.tails.get(resource) === tail) this.tails.delete(resource);
    }
  }
}
