// What every operation receives whatever its service: who is calling where and when; each service adds its domains.
import type { RequestAudit } from "../audit/events";
import type { Caller } from "../iam/caller";
import type { Scope } from "./scope";

export interface RequestContext {
  readonly requestId: string;
  readonly scope: Scope;
  /** The request's clock reading: every date an operation records comes from it. */
  readonly now: Date;
  /** Only with --audit-log: the caller and the log its calls' events go to. */
  readonly audit?: RequestAudit | undefined;
  /** Set when another service calls for the caller (Secrets Manager's calls to KMS): kms:ViaService's value. */
  readonly viaService?: string;
  /** Only with --enforce-auth: the principal every operation is authorized for (iam/authorize.ts); none for internal work. */
  readonly caller?: Caller | undefined;
}

/**
 * An operation of a service whose context is C: a KMS operation sees only KMS (kms/context.ts), so nothing in KMS can
 * reach Secrets Manager, not even by type.
 */
// `any` on the defaults lets service tables hold operations of different request types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation<I = any, O = any, C extends RequestContext = RequestContext> = (input: I, ctx: C) => Promise<O>;
