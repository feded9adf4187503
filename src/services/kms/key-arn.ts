// KMS ARNs and key ids: how they are formed, and how an identifier that is an ARN reads.
import type { Scope } from "../scope";

export const keyArn = (scope: Scope, keyId: string): string =>
  `arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/${keyId}`;

export const aliasArn = (scope: Scope, aliasName: string): string =>
  `arn:${scope.partition}:kms:${scope.region}:${scope.account}:${aliasName}`;

/** A key id as AWS forms them: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

const ARN = /^arn:([^:]+):kms:([^:]*):([^:]*):(.*)$/;

/** The parts of a KMS ARN; `resource` is `key/<id>`, `alias/<name>` or whatever else the caller sent. */
export interface KmsArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

/** Undefined when the identifier is not a KMS ARN at all (a key id or alias name). */
export function parseKmsArn(identifier: string): KmsArn | undefined {
  const match = ARN.exec(identifier);
  if (match === null) return undefined;
  const [, partition = "", region = "", account = "", resource = ""] = match;
  return { partition, region, account, resource };
}
