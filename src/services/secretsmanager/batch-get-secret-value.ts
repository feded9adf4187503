// BatchGetSecretValue: the AWSCURRENT values of up to 20 secrets, named or filtered, with an error entry per failure.
import type {
  APIErrorType,
  BatchGetSecretValueRequest,
  BatchGetSecretValueResponse,
  SecretValueEntry,
} from "@aws-sdk/client-secrets-manager";
import { recordCall } from "../../audit/events";
import { AwsError } from "../../errors";
import { authorizeSecretRead } from "./access";
import type { Operation, SecretsRequestContext } from "./context";
import { idsOrFilters, maxResultsNeedsFilters, secretValueNotFoundForStage } from "./errors";
import { parseFilters } from "./list-filters";
import { AWSCURRENT, versionWithStage, type SecretRecord } from "./secret";
import { readSecretValue } from "./versions";

/** MaxResultsBatchType's maximum, used when Filters come without MaxResults. */
const DEFAULT_MAX_RESULTS = 20;

export const batchGetSecretValue: Operation<BatchGetSecretValueRequest, BatchGetSecretValueResponse> = async (input, ctx) => {
  const { SecretIdList: ids, Filters: filters } = input;
  if ((ids === undefined) === (filters === undefined)) throw idsOrFilters();
  if (filters === undefined && input.MaxResults !== undefined) throw maxResultsNeedsFilters();

  if (ids !== undefined) {
    // Each id fails on its own, as GetSecretValue would fail for it; the rest of the batch still answers.
    // Under --enforce-auth each id is authorized as GetSecretValue (before its existence, as the single call is), and
    // a full ARN of another account's secret is read there once its resource policy lets the caller in.
    const read = async (id: string) => {
      const readCtx = await authorizeSecretRead(ctx, id);
      return currentValue(readCtx, await ctx.secrets.secrets.requireLive(readCtx.scope, id));
    };
    const results = await Promise.all(ids.map((id) => settle(ctx, id, () => read(id))));
    return collect(results, undefined);
  }

  // Filters never select a secret scheduled for deletion, as ListSecrets by default; the order is ListSecrets'.
  const page = await ctx.secrets.listing.page(ctx.scope, {
    purpose: "BatchGetSecretValue",
    filters: parseFilters(filters),
    sortBy: "created-date",
    descending: false,
    includePlannedDeletion: false,
    maxResults: input.MaxResults ?? DEFAULT_MAX_RESULTS,
    nextToken: input.NextToken,
    nowMs: ctx.now.getTime(),
  });
  // Filters select in the caller's own account only (as ListSecrets); each secret found is authorized by its ARN.
  const results = await Promise.all(
    page.secrets.map((secret) => settle(ctx, secret.arn, async () => currentValue(await authorizeSecretRead(ctx, secret.arn), secret))),
  );
  return collect(results, page.nextToken);
};

type Settled = { readonly value: SecretValueEntry } | { readonly error: APIErrorType };

/**
 * An AWS error becomes the secret's Errors entry (ErrorCode and Message as the single call would send them).
 * CloudTrail logs a GetSecretValue event for each secret a batch asks for, so the audit log does too.
 */
async function settle(ctx: SecretsRequestContext, secretId: string, read: () => Promise<SecretValueEntry>): Promise<Settled> {
  try {
    const value = await read();
    if (ctx.audit !== undefined) recordCall(ctx, { service: "secretsmanager", operation: "GetSecretValue", input: { SecretId: secretId } });
    return { value };
  } catch (error) {
    if (ctx.audit !== undefined) recordCall(ctx, { service: "secretsmanager", operation: "GetSecretValue", input: { SecretId: secretId }, error });
    if (!(error instanceof AwsError)) throw error;
    return { error: { SecretId: secretId, ErrorCode: error.code, Message: error.message } };
  }
}

function collect(results: readonly Settled[], nextToken: string | undefined): BatchGetSecretValueResponse {
  const SecretValues: SecretValueEntry[] = [];
  const Errors: APIErrorType[] = [];
  for (const result of results) {
    if ("value" in result) SecretValues.push(result.value);
    else Errors.push(result.error);
  }
  // AWS sends both lists even when empty (the AWS CLI examples show "Errors": []).
  return { SecretValues, Errors, NextToken: nextToken };
}

/** What GetSecretValue answers for the secret without VersionId or VersionStage: its AWSCURRENT version. */
function currentValue(ctx: SecretsRequestContext, secret: SecretRecord): Promise<SecretValueEntry> {
  const versionId = versionWithStage(secret, AWSCURRENT);
  if (versionId === undefined) throw secretValueNotFoundForStage(AWSCURRENT);
  return readSecretValue(ctx, secret, versionId, () => secretValueNotFoundForStage(AWSCURRENT));
}
