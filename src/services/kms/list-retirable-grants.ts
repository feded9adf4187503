// ListRetirableGrants: the grants in this Region whose RetiringPrincipal is the one named, across the account's keys (and, with a caller, other accounts' keys).
import type { ListGrantsResponse, ListRetirableGrantsRequest } from "@aws-sdk/client-kms";
import type { KmsRequestContext, Operation } from "./context";
import { grantListResponse, type GrantPage, type KmsGrantRecord } from "./grants";
import { parseKmsArn } from "./key-arn";
import { decodeMarker, invalidMarker } from "./pagination";

/** "If you do not include a value, it defaults to 50" (1–100 is enforced by validation-overlay.ts). */
const DEFAULT_LIMIT = 50;

export const listRetirableGrants: Operation<ListRetirableGrantsRequest, ListGrantsResponse> = async (input, ctx) => {
  // Grants are read straight from storage: destroy keys that fell due first, so theirs are gone too.
  await ctx.kms.schedule.sweep();
  // Authorized (access.ts) by kms:ListRetirableGrants in the caller's IAM policies only.
  const principal = input.RetiringPrincipal ?? "";
  const limit = input.Limit ?? DEFAULT_LIMIT;
  if (ctx.caller === undefined) {
    const afterId = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
    const page = await ctx.kms.grants.retirablePage(ctx.scope, principal, { afterId, limit });
    return grantListResponse(page, ctx.scope.partition, (last) => `${last.keyId}/${last.grantId}`);
  }
  // "This can include grants on KMS keys owned by other Amazon Web Services accounts, but you do not need
  // kms:ListRetirableGrants permission … in any … account other than your own" (ListRetirableGrants, Cross-account
  // use): with a caller, the keys of every account the principals file knows are read, in account order.
  const page = await acrossAccounts(ctx, principal, limit, input.Marker);
  return grantListResponse(page, ctx.scope.partition, (last) => `${parseKmsArn(last.keyArn)?.account ?? ctx.scope.account}|${last.keyId}/${last.grantId}`);
};

async function acrossAccounts(ctx: KmsRequestContext, principal: string, limit: number, marker: string | undefined): Promise<GrantPage> {
  const accounts = [...new Set([ctx.scope.account, ...(ctx.caller?.accounts ?? [])])].sort();
  let start = 0;
  let afterId: string | undefined;
  if (marker !== undefined) {
    const resume = decodeMarker(marker);
    const bar = resume.indexOf("|");
    start = bar < 0 ? -1 : accounts.indexOf(resume.slice(0, bar));
    if (start < 0) throw invalidMarker();
    afterId = resume.slice(bar + 1);
  }
  const grants: KmsGrantRecord[] = [];
  for (let i = start; i < accounts.length; i++) {
    const scope = { account: accounts[i] as string, region: ctx.scope.region };
    // With the page full, a limit of 0 answers only whether another grant follows.
    const page = await ctx.kms.grants.retirablePage(scope, principal, { afterId: i === start ? afterId : undefined, limit: limit - grants.length });
    grants.push(...page.grants);
    if (page.truncated) return { grants, truncated: true };
  }
  return { grants, truncated: false };
}
