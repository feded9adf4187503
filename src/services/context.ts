// Transitional: the old home of the request types. Only rotate-key-on-demand.ts, key-policy.ts and put-key-policy.ts
// still import it, because other branches are changing those files; once they merge, they import ./kms/context and
// ./scope like every other file and this one goes. It names KMS only, never Secrets Manager.
export type { Operation } from "./kms/context";
export type { Scope } from "./scope";
