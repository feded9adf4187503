// A sealed canary in the store proves that this process's root key is the one every stored backing key is wrapped under.
import type { KeyStore } from "./key-store";
import { KeyStoreIntegrityError } from "./key-store";
import type { Store, StoredValue } from "../storage/store";

/**
 * Outside the key space reset and clear() wipe (storage/keys.ts `everything`, "0" to "\x7f"), so a reset on one node
 * never lets a node with another root key in: the canary is the cluster's, not an account's.
 */
export const ROOT_KEY_CANARY = "\x02secretslite-root-key-canary";

/** A backing key of its own, wrapped under the root key, and a known text sealed under it. */
interface CanaryRecord extends StoredValue {
  readonly v: 1;
  /** base64 AES_KEY_WRAP_PAD of the canary's backing key under the root key. */
  readonly wrapped: string;
  readonly iv: string;
  readonly sealed: string;
  /** When and by which host it was made: what an operator looks at when a node is refused. */
  readonly madeAt: string;
  readonly madeBy: string;
}

const BACKING_KEY_ID = "secretslite/root-key-canary";
const PLAINTEXT = Buffer.from("secretslite root key canary v1");
const AAD = Buffer.from(ROOT_KEY_CANARY);

export class RootKeyMismatchError extends Error {
  override readonly name = "RootKeyMismatchError";
}

/**
 * Checks the canary, or makes it when the store has none (the cluster's first start). A node whose root key cannot open
 * it would wrap new keys no other node can use and fail every stored key it reads: it must not serve at all.
 */
export async function checkRootKeyCanary(store: Store, keyStore: KeyStore, host: string, now: Date): Promise<"made" | "matched"> {
  const found = await store.get<CanaryRecord>(ROOT_KEY_CANARY);
  if (found !== undefined) return openCanary(keyStore, found);
  const made = await makeCanary(keyStore, host, now);
  // Under a lock, so nodes starting together agree on one canary: a second one made meanwhile is checked instead.
  const winner = await store.withLock(ROOT_KEY_CANARY, async () => {
    const current = await store.get<CanaryRecord>(ROOT_KEY_CANARY);
    if (current !== undefined) return current;
    await store.batch([{ type: "put", key: ROOT_KEY_CANARY, value: made }]);
    return undefined;
  });
  return winner === undefined ? "made" : openCanary(keyStore, winner);
}

async function makeCanary(keyStore: KeyStore, host: string, now: Date): Promise<CanaryRecord> {
  const backingKey = await keyStore.generate("SYMMETRIC_DEFAULT");
  const iv = keyStore.random(12);
  try {
    const sealed = keyStore.seal({ id: BACKING_KEY_ID, spec: "SYMMETRIC_DEFAULT", wrapped: backingKey.wrapped }, iv, AAD, PLAINTEXT);
    return {
      v: 1,
      wrapped: Buffer.from(backingKey.wrapped).toString("base64"),
      iv: iv.toString("base64"),
      sealed: sealed.toString("base64"),
      madeAt: now.toISOString(),
      madeBy: host,
    };
  } finally {
    keyStore.forget(BACKING_KEY_ID);
  }
}

function openCanary(keyStore: KeyStore, canary: CanaryRecord): "matched" {
  const ref = { id: BACKING_KEY_ID, spec: "SYMMETRIC_DEFAULT" as const, wrapped: Buffer.from(canary.wrapped, "base64") };
  try {
    const opened = keyStore.open(ref, Buffer.from(canary.iv, "base64"), AAD, Buffer.from(canary.sealed, "base64"));
    if (!opened.equals(PLAINTEXT)) throw new KeyStoreIntegrityError("the canary opened to other bytes");
    return "matched";
  } catch (error) {
    // Unwrapping under another root key fails AES key wrap's integrity check, or the GCM tag does: either way not ours.
    if (!(error instanceof KeyStoreIntegrityError)) throw error;
    throw new RootKeyMismatchError(
      `this node's root key does not match the cluster's: the store's root-key canary (made ${canary.madeAt} by ${canary.madeBy}) ` +
        "does not open with it, so every key and secret in the store would be unreadable here. Give this node the cluster's " +
        "token (docs: `secretslite token clone`), not a new one.",
    );
  } finally {
    keyStore.forget(BACKING_KEY_ID);
  }
}
