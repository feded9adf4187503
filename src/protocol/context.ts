// Builds the RequestContext: the caller's account and region from SigV4, the clock, the domains.
import type { RequestAudit } from "../audit/events";
import type { Caller } from "../iam/caller";
import type { Clock } from "../services/clock";
import type { KmsRequestContext } from "../services/kms/context";
import type { KmsDomain } from "../services/kms/domain";
import { partitionOf } from "../services/scope";
import type { SecretsRequestContext } from "../services/secretsmanager/context";
import type { SecretsDomain } from "../services/secretsmanager/domain";
import type { SigV4Auth } from "./sigv4";

export interface Domains {
  readonly kms: KmsDomain;
  readonly secrets: SecretsDomain;
}

/** What the protocol builds for any operation of either service: each operation sees only its own service's part. */
export type ServiceContext = KmsRequestContext & SecretsRequestContext;

const ACCOUNT_ID = /^\d{12}$/;

/** An access key that is 12 digits names the account (a LocalStack convention users rely on). */
export function createRequestContext(
  requestId: string,
  auth: SigV4Auth,
  defaultAccount: string,
  clock: Clock,
  domains: Domains,
  audit?: RequestAudit,
  /** The account of the key's principal (--principals), which wins over what the key id says. */
  principalAccount?: string,
  /** --enforce-auth: who the request is authorized for. */
  caller?: Caller,
): ServiceContext {
  const accessKeyId = auth.credential.accessKeyId;
  const region = auth.credential.region;
  return {
    requestId,
    scope: {
      account: principalAccount ?? (ACCOUNT_ID.test(accessKeyId) ? accessKeyId : defaultAccount),
      region,
      partition: partitionOf(region),
    },
    now: clock.now(),
    kms: domains.kms,
    secrets: domains.secrets,
    audit,
    caller,
  };
}
