// Stored resource policies (key policies, secret policies), compiled once per text for every request that reads them.
import { LRUCache } from "lru-cache";
import { compilePolicy, type CompiledPolicy, type PolicyDialect } from "./policy";

/**
 * By dialect and text: a policy is compiled once whichever key or secret holds it, and a changed text is a new entry,
 * so what a request evaluates is always what is stored now (a cache keyed by resource could serve a replaced policy).
 */
// One cache per dialect, keyed by the text itself: the same string instance (from a cached record) keeps its hash.
const compiled = { kms: new LRUCache<string, CompiledPolicy>({ max: 4096 }), secretsmanager: new LRUCache<string, CompiledPolicy>({ max: 4096 }) };

/** Nothing in it allows: a stored policy the engine cannot read (stored before enforcement) lets no one in through it. */
const UNREADABLE: CompiledPolicy = Object.freeze({ kind: "resource", version: "2012-10-17", id: undefined, statements: [] });

export function compiledResourcePolicy(text: string, dialect: Exclude<PolicyDialect, "iam">): CompiledPolicy {
  const cache = compiled[dialect];
  let policy = cache.get(text);
  if (policy === undefined) {
    try {
      policy = compilePolicy(JSON.parse(text), { kind: "resource", dialect });
    } catch {
      policy = UNREADABLE;
    }
    cache.set(text, policy);
  }
  return policy;
}
