// ListAliases: the account's aliases in this Region, predefined AWS aliases included, optionally only those of one key.
import type { ListAliasesRequest, ListAliasesResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { decodeMarker, encodeMarker } from "./pagination";

/** "If you do not include a value, it defaults to 50" (1–100 is enforced by validation-overlay.ts). */
const DEFAULT_LIMIT = 50;

export const listAliases: Operation<ListAliasesRequest, ListAliasesResponse> = async (input, ctx) => {
  const afterName = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
  // "Specify the key ID or key ARN of the KMS key"; a key that does not exist is a NotFoundException.
  const keyId =
    input.KeyId === undefined ? undefined : (await ctx.kms.keys.resolve(ctx.scope, input.KeyId, ctx.now, "key")).keyId;
  // Aliases are read straight from storage: destroy keys that fell due first, so theirs are gone too.
  await ctx.kms.schedule.sweep();
  const page = await ctx.kms.aliases.page(ctx.scope, { keyId, afterName, limit: input.Limit ?? DEFAULT_LIMIT });
  return page.lastName === undefined
    ? { Aliases: page.aliases, Truncated: false }
    : { Aliases: page.aliases, NextMarker: encodeMarker(page.lastName), Truncated: true };
};
