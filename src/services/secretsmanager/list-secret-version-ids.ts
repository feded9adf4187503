// ListSecretVersionIds: a secret's versions, oldest first, paged; deprecated ones only when asked for.
import type { ListSecretVersionIdsRequest, ListSecretVersionIdsResponse, SecretVersionsListEntry } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { invalidNextToken, secretNotFound } from "./errors";
import { versionsOldestFirst } from "./labels";

/** Answers for a secret scheduled for deletion too: its model lists no InvalidRequestException. */
export const listSecretVersionIds: Operation<ListSecretVersionIdsRequest, ListSecretVersionIdsResponse> = async (input, ctx) => {
  const secret = await ctx.secrets.secrets.find(ctx.scope, input.SecretId ?? "");
  if (secret === undefined) throw secretNotFound();
  const listed = versionsOldestFirst(secret.versions).filter(([, summary]) => input.IncludeDeprecated === true || summary.stages.length > 0);
  let start = 0;
  if (input.NextToken !== undefined) {
    const after = versionAfter(input.NextToken);
    const index = listed.findIndex(([versionId]) => versionId === after);
    if (index < 0) throw invalidNextToken();
    start = index + 1;
  }
  // Without MaxResults every version fits one page: a secret keeps about a hundred.
  const end = input.MaxResults === undefined ? listed.length : Math.min(listed.length, start + input.MaxResults);
  const page = listed.slice(start, end);
  const last = page[page.length - 1];
  const Versions: SecretVersionsListEntry[] = page.map(([versionId, summary]) => ({
    VersionId: versionId,
    // A deprecated version is listed without the member, not with [] (LocalStack's AWS-recorded snapshots).
    VersionStages: summary.stages.length === 0 ? undefined : [...summary.stages],
    LastAccessedDate: summary.lastAccessedDay === undefined ? undefined : new Date(summary.lastAccessedDay),
    CreatedDate: new Date(summary.createdAt),
    // A valueless version (RotateSecret's AWSPENDING before the function puts it) is sealed under no key yet.
    KmsKeyIds: summary.kmsKeyArns.length === 0 ? undefined : [...(summary.kmsKeyIds ?? summary.kmsKeyArns)],
  }));
  return {
    Versions,
    NextToken: end < listed.length && last !== undefined ? nextToken(last[0]) : undefined,
    ARN: secret.arn,
    Name: secret.name,
  };
};

/** Opaque to callers: the version the next page starts after. */
const nextToken = (afterVersionId: string): string => Buffer.from(JSON.stringify({ after: afterVersionId }), "utf8").toString("base64");

function versionAfter(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { after?: unknown }).after === "string") {
      return (parsed as { after: string }).after;
    }
  } catch {
    // falls through to the refusal below
  }
  throw invalidNextToken();
}
