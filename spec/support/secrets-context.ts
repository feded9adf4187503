// A Secrets Manager request context over a memory store with no server and no KMS: for unit-level Secrets Manager specs.
import type { Clock } from "../../src/services/clock";
import type { Scope } from "../../src/services/scope";
import type { KmsDomain } from "../../src/services/kms/domain";
import type { SecretsRequestContext } from "../../src/services/secretsmanager/context";
import { createSecretsDomain, type SecretsDomain } from "../../src/services/secretsmanager/domain";
import { openMemoryStore } from "../../src/storage/level-store";
import type { Store } from "../../src/storage/store";

export interface SecretsContext {
  readonly store: Store;
  readonly domain: SecretsDomain;
  /** A context at the clock's now; operations that reach KMS must not be called through it. */
  context(): SecretsRequestContext;
}

export async function secretsContext(scope: Scope, clock: Clock = { now: () => new Date() }): Promise<SecretsContext> {
  const store = await openMemoryStore();
  const domain = createSecretsDomain(store, clock);
  return {
    store,
    domain,
    context: () => ({ requestId: "spec", scope, now: clock.now(), kms: undefined as unknown as KmsDomain, secrets: domain }),
  };
}
