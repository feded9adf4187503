// ReplicateKey: a replica of a multi-Region primary key in another region of the same partition, Creating for a moment.
import type { ReplicateKeyRequest, ReplicateKeyResponse } from "@aws-sdk/client-kms";
import { partitionOf } from "../scope";
import type { Operation } from "./context";
import { invalidSetRegion, replicaExists } from "./errors";
import { keyArn } from "./key-arn";
import { keyMetadata } from "./key-metadata";
import { assertValidPolicy } from "./key-policy";
import { newKeyRecord, type KmsKeyRecord } from "./key-record";
import { assertKeyState } from "./key-states";
import { assertPrimary, keySetRegions, scopeIn, transient, withShared } from "./multi-region";
import { assertValidTags, toKeyTags } from "./tags";

export const replicateKey: Operation<ReplicateKeyRequest, ReplicateKeyResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertPrimary(key);
  const region = input.ReplicaRegion ?? "";
  if (partitionOf(region) !== ctx.scope.partition) {
    throw invalidSetRegion("ReplicaRegion", region, `is not in the ${ctx.scope.partition} partition of the primary key.`);
  }
  if (region === ctx.scope.region) throw invalidSetRegion("ReplicaRegion", region, "is the primary key's Region.");
  const replicaScope = scopeIn(ctx.scope, region);
  if (input.Policy !== undefined) assertValidPolicy(input.Policy, { scope: replicaScope, bypass: input.BypassPolicyLockoutSafetyCheck });
  const tags = toKeyTags(input.Tags ?? []);
  assertValidTags(tags);
  const nowMs = ctx.now.getTime();
  const replica = await ctx.kms.keys.changeSet(
    ctx.scope,
    key.keyId,
    (set) => {
      const primary = set.get(ctx.scope.region)!;
      assertPrimary(primary);
      assertKeyState("ReplicateKey", primary);
      // A region with any key of this id, a member or one still pending deletion there, already has its replica.
      if (set.has(region)) throw replicaExists(keyArn(replicaScope, key.keyId));
      const current = keySetRegions(primary);
      const regions = { primaryRegion: current.primaryRegion, replicaRegions: [...current.replicaRegions, region] };
      // Shared: key id, spec, usage, origin, every material version (the same wrapped backing keys under the same root
      // key) and rotation. Independent: description, policy, tags, aliases, state (multi-region-keys-overview). "If you
      // replicate a multi-Region primary key with imported key material, the replica key is created with no key
      // material" (ReplicateKey), so an EXTERNAL replica ends PendingImport.
      const fresh = newKeyRecord(
        replicaScope,
        ctx.now,
        { keyId: key.keyId, description: input.Description, origin: primary.origin, multiRegion: true, policy: input.Policy, tags, keySpec: primary.keySpec, keyUsage: primary.keyUsage },
        primary.origin === "EXTERNAL" ? [] : [...primary.backingKeys],
      );
      const created: KmsKeyRecord = {
        ...fresh,
        rotation: primary.rotation,
        regions,
        ...transient("Creating", fresh.keyState, nowMs, ctx.kms.keys.transientStateMs),
      };
      const records = withShared(set, () => ({ regions }));
      records.set(region, created);
      return { records, result: created };
    },
    [region],
  );
  return { ReplicaKeyMetadata: keyMetadata(replica), ReplicaPolicy: replica.policy, ReplicaTags: replica.tags.map((tag) => ({ ...tag })) };
};
