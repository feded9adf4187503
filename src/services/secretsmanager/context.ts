// The context a Secrets Manager operation receives: the request, its own domain, and KMS (which seals its values).
import type { KmsRequestContext } from "../kms/context";
import type { Operation as ServiceOperation } from "../request";
import type { SecretsDomain } from "./domain";

export interface SecretsRequestContext extends KmsRequestContext {
  readonly secrets: SecretsDomain;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation<I = any, O = any> = ServiceOperation<I, O, SecretsRequestContext>;
