// The one GrantTokens check: every KMS operation whose request takes grant tokens refuses any that names no live grant.
import type { Operation } from "./context";

/**
 * Wraps each operation of the table so that a request's GrantTokens are checked (KmsGrants.assertTokens) after
 * validation and before the operation runs: a malformed or unknown token, or one whose grant is gone, is
 * InvalidGrantTokenException whatever else the request holds. A request without GrantTokens costs one property read.
 * A token allows nothing by itself: with --enforce-auth access.ts asks the key's grants (grants here are consistent
 * at once, so the grant a token names is already among them; AWS needs the token only while a new grant is
 * "eventually consistent").
 */
export function checkingGrantTokens<T extends Record<string, Operation>>(table: T): T {
  const checked: Record<string, Operation> = {};
  for (const [name, operation] of Object.entries(table)) {
    checked[name] = (input: { GrantTokens?: readonly string[] } | undefined, ctx) => {
      const tokens = input?.GrantTokens;
      if (tokens === undefined || tokens.length === 0) return operation(input, ctx);
      return ctx.kms.grants.assertTokens(ctx.scope, tokens, ctx.now).then(() => operation(input, ctx));
    };
  }
  return checked as T;
}
