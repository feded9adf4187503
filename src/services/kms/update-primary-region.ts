// UpdatePrimaryRegion: a replica of a multi-Region key becomes its primary and the primary a replica, both Updating for a moment.
import type { UpdatePrimaryRegionRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { invalidSetRegion, keyNotFound } from "./errors";
import { keyArn } from "./key-arn";
import { assertKeyState } from "./key-states";
import { assertPrimary, keySetRegions, scopeIn, transient, withShared } from "./multi-region";

export const updatePrimaryRegion: Operation<UpdatePrimaryRegionRequest, Record<string, never>> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertPrimary(key);
  const region = input.PrimaryRegion ?? "";
  // Undocumented; secretslite refuses rather than silently doing nothing.
  if (region === ctx.scope.region) throw invalidSetRegion("PrimaryRegion", region, "is already the primary key's Region.");
  const nowMs = ctx.now.getTime();
  await ctx.kms.keys.changeSet(ctx.scope, key.keyId, (set) => {
    const primary = set.get(ctx.scope.region)!;
    assertPrimary(primary);
    const current = keySetRegions(primary);
    const next = set.get(region);
    // "There must be an existing replica key in this Region" (PrimaryRegion): otherwise the key named there does not exist.
    if (next === undefined || !current.replicaRegions.includes(region)) throw keyNotFound(keyArn(scopeIn(ctx.scope, region), key.keyId));
    assertKeyState("UpdatePrimaryRegion", primary);
    assertKeyState("UpdatePrimaryRegion", next);
    const regions = { primaryRegion: region, replicaRegions: [ctx.scope.region, ...current.replicaRegions.filter((other) => other !== region)] };
    // "The old and new primary keys have a transient key state of Updating. The original key state is restored when the
    // update is complete" (UpdatePrimaryRegion). The roles swap at once; only the state lingers.
    const records = withShared(set, (member) => ({
      regions,
      ...(member === primary || member === next ? transient("Updating", member.keyState, nowMs, ctx.kms.keys.transientStateMs) : {}),
    }));
    return { records, result: undefined };
  });
  return {};
};
