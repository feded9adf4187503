// What every operation receives: who is calling where, when, and the services' domain objects.
import type { RequestAudit } from "../audit/events";
import type { KmsDomain } from "./kms/domain";
import type { SecretsDomain } from "./secretsmanager/domain";

/** The account and region a request acts in: every stored record is partitioned by both. */
export interface Scope {
  readonly account: string;
  readonly region: string;
  /** ARN partition: `aws`, `aws-cn` for cn-*, `aws-us-gov` for us-gov-*. */
  readonly partition: string;
}

export interface RequestContext {
  readonly requestId: string;
  readonly scope: Scope;
  /** The request's clock reading: every date an operation records comes from it. */
  readonly now: Date;
  readonly kms: KmsDomain;
  readonly secrets: SecretsDomain;
  /** Only with --audit-log: the caller and the log its calls' events go to. */
  readonly audit?: RequestAudit | undefined;
}

// `any` on the defaults lets service tables hold operations of different request types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation<I = any, O = any> = (input: I, ctx: RequestContext) => Promise<O>;

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export const partitionOf = (region: string): string =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
