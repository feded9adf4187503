// Where a request acts: the account, region and partition every stored record and ARN is built from.

/** The account and region a request acts in: every stored record is partitioned by both. */
export interface Scope {
  readonly account: string;
  readonly region: string;
  /** ARN partition: `aws`, `aws-cn` for cn-*, `aws-us-gov` for us-gov-*. */
  readonly partition: string;
}

export const partitionOf = (region: string): string =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
