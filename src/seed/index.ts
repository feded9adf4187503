// Seed fixtures and partition reset: what main.ts and the admin routes use.
export { applySeed, type ScopeFilter } from "./apply";
export { checkSeed, concatPlans, emptySeedPlan, readSeedFile, SeedError, type SeedPlan } from "./document";
export { selects, wipePartitions, type PartitionSelector } from "./reset";
