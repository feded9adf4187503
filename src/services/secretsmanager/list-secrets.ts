// ListSecrets: a page of the account's secrets in the region, sorted and filtered, without their values.
import type { ListSecretsRequest, ListSecretsResponse, SecretListEntry } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { parseFilters } from "./list-filters";
import { describeFields, versionsToStages, type SecretRecord } from "./secret";
import type { SortBy } from "./secret-index";

/**
 * AWS documents neither default beyond "secrets are listed by CreatedDate". Oldest first is what moto's
 * ListSecrets tests expect (tests/test_secretsmanager/test_list_secrets.py lists secrets in creation order)
 * and the plain reading of "listed by CreatedDate"; the order is a guess, not a capture.
 */
const DEFAULT_SORT_BY: SortBy = "created-date";
const DEFAULT_DESCENDING = false;
/** "If you don't include this parameter, it defaults to a value that's specific to the operation": the maximum. */
const DEFAULT_MAX_RESULTS = 100;

/** SecretListEntry's members as the model has them; DescribeSecret shares most and has a few of its own. */
export const SECRET_LIST_ENTRY_MEMBERS = [
  "ARN",
  "Name",
  "Type",
  "Description",
  "KmsKeyId",
  "RotationEnabled",
  "RotationLambdaARN",
  "RotationRules",
  "ExternalSecretRotationMetadata",
  "ExternalSecretRotationRoleArn",
  "LastRotatedDate",
  "LastChangedDate",
  "LastAccessedDate",
  "DeletedDate",
  "NextRotationDate",
  "Tags",
  "SecretVersionsToStages",
  "OwningService",
  "CreatedDate",
  "PrimaryRegion",
] as const satisfies ReadonlyArray<keyof SecretListEntry>;

const ENTRY_MEMBERS: ReadonlySet<string> = new Set(SECRET_LIST_ENTRY_MEMBERS);

/** A list entry from the describe fields, keeping only SecretListEntry's members (the encoder sends whatever it gets). */
export function listEntry(secret: SecretRecord): SecretListEntry {
  const entry: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(describeFields(secret))) {
    if (ENTRY_MEMBERS.has(member)) entry[member] = value;
  }
  const stages = versionsToStages(secret);
  // A secret created without a value has no versions; AWS leaves the member out rather than sending {}.
  if (Object.keys(stages).length > 0) entry["SecretVersionsToStages"] = stages;
  return entry as SecretListEntry;
}

export const listSecrets: Operation<ListSecretsRequest, ListSecretsResponse> = async (input, ctx) => {
  const page = await ctx.secrets.listing.page(ctx.scope, {
    purpose: "ListSecrets",
    filters: parseFilters(input.Filters),
    sortBy: input.SortBy ?? DEFAULT_SORT_BY,
    descending: input.SortOrder === undefined ? DEFAULT_DESCENDING : input.SortOrder === "desc",
    includePlannedDeletion: input.IncludePlannedDeletion === true,
    maxResults: input.MaxResults ?? DEFAULT_MAX_RESULTS,
    nextToken: input.NextToken,
    nowMs: ctx.now.getTime(),
  });
  return { SecretList: page.secrets.map(listEntry), NextToken: page.nextToken };
};
