// ListRetirableGrants: the account's grants in this Region whose RetiringPrincipal is the one named, across its keys.
import type { ListGrantsResponse, ListRetirableGrantsRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { grantListResponse } from "./grants";
import { decodeMarker } from "./pagination";

/** "If you do not include a value, it defaults to 50" (1–100 is enforced by validation-overlay.ts). */
const DEFAULT_LIMIT = 50;

export const listRetirableGrants: Operation<ListRetirableGrantsRequest, ListGrantsResponse> = async (input, ctx) => {
  const afterId = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
  // Grants are read straight from storage: destroy keys that fell due first, so theirs are gone too.
  await ctx.kms.schedule.sweep();
  // Access control (issue 13): authorized by kms:ListRetirableGrants in the caller's IAM policies only, on the retiring
  // principal as the resource; AWS also lists grants on other accounts' keys, which secretslite does not share.
  const page = await ctx.kms.grants.retirablePage(ctx.scope, input.RetiringPrincipal ?? "", { afterId, limit: input.Limit ?? DEFAULT_LIMIT });
  return grantListResponse(page, ctx.scope.partition, (last) => `${last.keyId}/${last.grantId}`);
};
