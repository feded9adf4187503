// Multi-Region keys: the set a key belongs to, each key's role in it, its transient states and its MultiRegionConfiguration.
// https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html
import type { MultiRegionConfiguration } from "@aws-sdk/client-kms";
import { partitionOf, type Scope } from "../scope";
import { notMultiRegionPrimary } from "./errors";
import { keyArn } from "./key-arn";
import { DAY_MS, type KeySetRegions, type KeyState, type KmsKeyRecord } from "./key-record";

/** The region a key record lives in, read from its ARN (records carry no region of their own). */
export const regionOf = (key: Pick<KmsKeyRecord, "arn">): string => key.arn.split(":")[3] ?? "";

/** The same account in another region. */
export const scopeIn = (scope: Scope, region: string): Scope => ({ account: scope.account, region, partition: partitionOf(region) });

/** The set's regions as this key knows them; a never-replicated key is a set of one. */
export const keySetRegions = (key: KmsKeyRecord): KeySetRegions => key.regions ?? { primaryRegion: regionOf(key), replicaRegions: [] };

/** Every region of the key's set, the primary's first. */
export const setMembers = (key: KmsKeyRecord): string[] => {
  const regions = keySetRegions(key);
  return [regions.primaryRegion, ...regions.replicaRegions];
};

export const isReplica = (key: KmsKeyRecord): boolean => key.multiRegion && keySetRegions(key).primaryRegion !== regionOf(key);

/** Only a multi-Region primary replicates, moves the primary role, or changes the set's rotation (recorded text). */
export function assertPrimary(key: KmsKeyRecord): void {
  if (!key.multiRegion || isReplica(key)) throw notMultiRegionPrimary(key.arn);
}

/** A multi-Region primary with at least one replica: its deletion waits for theirs (ScheduleKeyDeletion). */
export const hasReplicas = (key: KmsKeyRecord): boolean => key.multiRegion && !isReplica(key) && keySetRegions(key).replicaRegions.length > 0;

/**
 * "This field appears only when the KMS key is a primary or replica of a multi-Region key"; PrimaryKey includes the
 * current key if it is the primary, ReplicaKeys the current key if it is a replica (MultiRegionConfiguration). A primary
 * that was never replicated shows an empty ReplicaKeys list.
 */
export function multiRegionConfiguration(key: KmsKeyRecord): MultiRegionConfiguration | undefined {
  if (!key.multiRegion) return undefined;
  const { primaryRegion, replicaRegions } = keySetRegions(key);
  const scope: Scope = { account: key.account, region: regionOf(key), partition: key.arn.split(":")[1] ?? "aws" };
  const member = (region: string) => ({ Arn: keyArn({ ...scope, region }, key.keyId), Region: region });
  return {
    MultiRegionKeyType: isReplica(key) ? "REPLICA" : "PRIMARY",
    PrimaryKey: member(primaryRegion),
    ReplicaKeys: replicaRegions.map(member),
  };
}

/** The same change to every key of a set: shared properties (material, rotation, the set's regions) move together. */
export function withShared(set: ReadonlyMap<string, KmsKeyRecord>, patch: (key: KmsKeyRecord) => Partial<KmsKeyRecord>): Map<string, KmsKeyRecord> {
  return new Map([...set].map(([region, key]) => [region, { ...key, ...patch(key) }]));
}

/** Whether a Creating or Updating key's transition has run its time. */
export const transitionDue = (key: KmsKeyRecord, nowMs: number): boolean => key.transition !== undefined && key.transition.until <= nowMs;

/** A transient state that lasts `durationMs`, then gives way to `then`. */
export const transient = (state: "Creating" | "Updating", then: KeyState, nowMs: number, durationMs: number): Pick<KmsKeyRecord, "keyState" | "transition"> => ({
  keyState: state,
  transition: { until: nowMs + durationMs, then },
});

/**
 * The key once its transition is over. A state someone set meanwhile stays (a Creating replica scheduled for deletion
 * stays PendingDeletion); only the transient state itself gives way.
 */
export function settled(key: KmsKeyRecord): KmsKeyRecord {
  if (key.transition === undefined) return key;
  const transientNow = key.keyState === "Creating" || key.keyState === "Updating";
  return { ...key, keyState: transientNow ? key.transition.then : key.keyState, transition: undefined };
}

/**
 * The rest of the set once the key in `region` is destroyed: it leaves every member's region list, and a primary in
 * PendingReplicaDeletion whose last replica this was starts its own waiting period now ("the waiting period begins
 * when the last of its replica keys is deleted", ScheduleKeyDeletion).
 */
export function withoutMember(set: ReadonlyMap<string, KmsKeyRecord>, region: string, nowMs: number): Map<string, KmsKeyRecord> {
  const rest = new Map([...set].filter(([other]) => other !== region));
  return withShared(rest, (member) => {
    const { primaryRegion, replicaRegions } = keySetRegions(member);
    const regions = { primaryRegion, replicaRegions: replicaRegions.filter((other) => other !== region) };
    if (member.keyState !== "PendingReplicaDeletion" || regions.replicaRegions.length > 0) return { regions };
    const windowDays = member.pendingWindowDays ?? 30;
    return { regions, keyState: "PendingDeletion", deletionDate: nowMs + windowDays * DAY_MS, pendingWindowDays: undefined };
  });
}
