// ListResourceTags: a key's tags in the order they were first added, 50 at most per page.
import type { ListResourceTagsRequest, ListResourceTagsResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertKeyState } from "./key-states";
import { decodeMarker, encodeMarker, invalidMarker } from "./pagination";

/** "If you do not include a value, it defaults to 50" (1–50 is enforced by validation-overlay.ts). */
const DEFAULT_LIMIT = 50;

export const listResourceTags: Operation<ListResourceTagsRequest, ListResourceTagsResponse> = async (input, ctx) => {
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  assertKeyState("ListResourceTags", key);
  let start = 0;
  if (input.Marker !== undefined) {
    // The marker names the last tag key a page showed; once that tag is gone there is nowhere to resume from.
    const lastKey = decodeMarker(input.Marker);
    const index = key.tags.findIndex((tag) => tag.TagKey === lastKey);
    if (index < 0) throw invalidMarker();
    start = index + 1;
  }
  const limit = input.Limit ?? DEFAULT_LIMIT;
  const shown = key.tags.slice(start, start + limit).map((tag) => ({ TagKey: tag.TagKey, TagValue: tag.TagValue }));
  const last = shown[shown.length - 1];
  return start + limit < key.tags.length && last !== undefined
    ? { Tags: shown, NextMarker: encodeMarker(last.TagKey), Truncated: true }
    : { Tags: shown, Truncated: false };
};
