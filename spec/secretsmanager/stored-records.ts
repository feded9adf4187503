// Direct access to a stopped server's store (LevelDB, or PostgreSQL in the PostgreSQL job) for the Secrets Manager specs: read or patch records, list keys.
import type { SecretRecord } from "../../src/services/secretsmanager/secret";
import type { SecretVersionRecord } from "../../src/services/secretsmanager/versions";
import { GLOBAL, recordKey, secretVersionId, type RecordKind } from "../../src/storage/keys";
import type { Store } from "../../src/storage/store";
import { ACCOUNT, openServerStore, REGION } from "../support/server";

const scope = { account: ACCOUNT, region: REGION };

/** Opens the data dir's store as the server does (another configuration would rewrite the tables). */
export async function withStore<T>(dataDir: string, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openServerStore(dataDir);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

export const secretRecordKey = (name: string, region = REGION): string =>
  recordKey({ account: ACCOUNT, region }, "secretsmanager", "secret", name);

export const readSecret = (dataDir: string, name: string): Promise<SecretRecord | undefined> =>
  withStore(dataDir, (store) => store.get<SecretRecord>(secretRecordKey(name)));

export const readVersion = (dataDir: string, name: string, versionId: string): Promise<SecretVersionRecord | undefined> =>
  withStore(dataDir, (store) =>
    store.get<SecretVersionRecord>(recordKey(scope, "secretsmanager", "secret-version", secretVersionId(name, versionId))),
  );

/** Replaces a stored secret record, as another engineer's operation (rotation, replication) would have. */
export async function patchSecret(dataDir: string, name: string, change: (secret: SecretRecord) => SecretRecord, region = REGION): Promise<void> {
  await withStore(dataDir, async (store) => {
    const key = secretRecordKey(name, region);
    const secret = await store.get<SecretRecord>(key);
    if (secret === undefined) throw new Error(`no secret ${name}`);
    await store.batch([{ type: "put", key, value: change(secret) }]);
  });
}

/** Every stored key of one kind in the test scope (or GLOBAL), for proving records are gone. */
export async function keysOfKind(dataDir: string, kind: RecordKind, global = false): Promise<string[]> {
  return withStore(dataDir, async (store) => {
    const start = recordKey(global ? GLOBAL : scope, "secretsmanager", kind, "");
    const keys: string[] = [];
    for await (const [key] of store.range({ gte: start, lt: start + "\uffff" })) keys.push(key);
    return keys;
  });
}
