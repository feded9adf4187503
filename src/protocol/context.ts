// Builds the RequestContext: the caller's account and region from SigV4, the clock, the domains.
import type { RequestAudit } from "../audit/events";
import type { Clock, RequestContext } from "../services/context";
import { partitionOf } from "../services/context";
import type { KmsDomain } from "../services/kms/domain";
import type { SecretsDomain } from "../services/secretsmanager/domain";
import type { SigV4Auth } from "./sigv4";

export interface Domains {
  readonly kms: KmsDomain;
  readonly secrets: SecretsDomain;
}

const ACCOUNT_ID = /^\d{12}$/;

/** An access key that is 12 digits names the account (a LocalStack convention users rely on). */
export function createRequestContext(
  requestId: string,
  auth: SigV4Auth,
  defaultAccount: string,
  clock: Clock,
  domains: Domains,
  audit?: RequestAudit,
): RequestContext {
  const accessKeyId = auth.credential.accessKeyId;
  const region = auth.credential.region;
  return {
    requestId,
    scope: {
      account: ACCOUNT_ID.test(accessKeyId) ? accessKeyId : defaultAccount,
      region,
      partition: partitionOf(region),
    },
    now: clock.now(),
    kms: domains.kms,
    secrets: domains.secrets,
    audit,
  };
}
