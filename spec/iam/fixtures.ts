// Principals, resources and a one-line runner shared by the IAM engine's table-driven specs.
import { evaluate, type AuthzRequest, type ContextValue, type Decision, type Principal } from "../../src/iam/evaluate";
import { compilePolicy } from "../../src/iam/policy";

export const ACCT = "111122223333";
export const OTHER = "444455556666";
export const REGION = "us-east-1";

export const root: Principal = { arn: `arn:aws:iam::${ACCT}:root`, account: ACCT, kind: "root", tags: {} };
export const alice: Principal = {
  arn: `arn:aws:iam::${ACCT}:user/alice`,
  account: ACCT,
  kind: "user",
  username: "alice",
  tags: { AccessProject: "alpha", Department: "finance" },
};
export const carol: Principal = { arn: `arn:aws:iam::${ACCT}:user/carol`, account: ACCT, kind: "user", username: "carol", tags: {} };
export const appSession: Principal = {
  arn: `arn:aws:sts::${ACCT}:assumed-role/AppRole/build-42`,
  account: ACCT,
  kind: "assumed-role",
  roleArn: `arn:aws:iam::${ACCT}:role/AppRole`,
  tags: { AccessProject: "beta" },
};
export const otherSession: Principal = {
  arn: `arn:aws:sts::${ACCT}:assumed-role/OtherRole/s1`,
  account: ACCT,
  kind: "assumed-role",
  roleArn: `arn:aws:iam::${ACCT}:role/OtherRole`,
  tags: {},
};
export const bob: Principal = { arn: `arn:aws:iam::${OTHER}:user/bob`, account: OTHER, kind: "user", username: "bob", tags: {} };
export const otherRoot: Principal = { arn: `arn:aws:iam::${OTHER}:root`, account: OTHER, kind: "root", tags: {} };

export const KEY = `arn:aws:kms:${REGION}:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCT}:secret:prod/db-AbCdEf`;
export const DEV_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCT}:secret:dev/db-XyZ123`;

export type Expected = Decision["decision"];

export interface Case {
  readonly name: string;
  readonly identity?: readonly unknown[];
  readonly policy?: unknown;
  readonly kind?: "key" | "secret" | "none";
  readonly principal: Principal;
  readonly action: string;
  /** Defaults to the key for kind "key", the prod secret otherwise; null for resource-less actions. */
  readonly resource?: string | null;
  readonly resourceAccount?: string;
  readonly context?: Record<string, ContextValue>;
  readonly grants?: boolean;
  readonly expect: Expected;
  readonly policyType?: "identity-based" | "resource-based";
  readonly sid?: string;
}

export function run(c: Case): Decision {
  const kind = c.kind ?? (c.policy === undefined ? "none" : "secret");
  const dialect = kind === "key" ? "kms" : "secretsmanager";
  const resource = c.resource === null ? undefined : (c.resource ?? (kind === "key" ? KEY : SECRET));
  const request: AuthzRequest = {
    principal: c.principal,
    action: c.action,
    resource,
    resourceAccount: c.resourceAccount ?? ACCT,
    context: c.context ?? {},
  };
  return evaluate(
    {
      identityPolicies: (c.identity ?? []).map((document) => compilePolicy(document, { kind: "identity" })),
      resourcePolicy: c.policy === undefined ? undefined : compilePolicy(c.policy, { kind: "resource", dialect }),
      resourcePolicyKind: kind,
      grantsAllow: c.grants,
    },
    request,
  );
}

/** An identity policy of one Allow statement. */
export const allowing = (action: string | string[], resource: string | string[] = "*", condition?: object): object => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: action, Resource: resource, ...(condition === undefined ? {} : { Condition: condition }) }],
});

/** An identity policy of one Deny statement. */
export const denying = (action: string | string[], resource: string | string[] = "*", condition?: object): object => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Deny", Action: action, Resource: resource, ...(condition === undefined ? {} : { Condition: condition }) }],
});

/** KMS's default key policy (KG key-policy-default), the text CreateKey attaches without a Policy. */
export const defaultKeyPolicy = (account = ACCT): object => ({
  Version: "2012-10-17",
  Id: "key-default-1",
  Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" }],
});
