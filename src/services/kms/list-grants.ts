// ListGrants: one key's grants in grant id order, Limit 1–100 (default 50), optionally one grant id or one grantee principal.
import type { ListGrantsRequest, ListGrantsResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { invalidGrantId } from "./errors";
import { GRANT_ID, grantListResponse } from "./grants";
import { assertKeyState } from "./key-states";
import { decodeMarker, invalidMarker } from "./pagination";

/** "If you do not include a value, it defaults to 50" (1–100 is enforced by validation-overlay.ts). */
const DEFAULT_LIMIT = 50;

export const listGrants: Operation<ListGrantsRequest, ListGrantsResponse> = async (input, ctx) => {
  const afterGrantId = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
  if (afterGrantId !== undefined && !GRANT_ID.test(afterGrantId)) throw invalidMarker();
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertKeyState("ListGrants", key);
  const { GrantId: grantId, GranteePrincipal: grantee } = input;
  // A GrantId of the wrong form is InvalidGrantIdException (the model lists it for ListGrants); a well-formed one that
  // names no grant lists nothing.
  if (grantId !== undefined && !GRANT_ID.test(grantId)) throw invalidGrantId(grantId);
  const page = await ctx.kms.grants.keyPage(ctx.scope, key.keyId, {
    afterGrantId,
    limit: input.Limit ?? DEFAULT_LIMIT,
    matches: (grant) => (grantId === undefined || grant.grantId === grantId) && (grantee === undefined || grant.granteePrincipal === grantee),
  });
  return grantListResponse(page, ctx.scope.partition, (last) => last.grantId);
};
