// The context a KMS operation receives: the request, and the KMS domain only.
import type { Operation as ServiceOperation, RequestContext } from "../request";
import type { KmsDomain } from "./domain";

export interface KmsRequestContext extends RequestContext {
  readonly kms: KmsDomain;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation<I = any, O = any> = ServiceOperation<I, O, KmsRequestContext>;
