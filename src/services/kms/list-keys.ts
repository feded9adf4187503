// ListKeys: every KMS key of the caller's account and Region (AWS managed ones included), by key id, in pages.
import type { KeyListEntry, ListKeysRequest, ListKeysResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { decodeMarker, encodeMarker } from "./pagination";

/** "If you do not include a value, it defaults to 100." (Limit is 1–1000 in the model and the API reference.) */
const DEFAULT_LIMIT = 100;

export const listKeys: Operation<ListKeysRequest, ListKeysResponse> = async (input, ctx) => {
  const limit = input.Limit ?? DEFAULT_LIMIT;
  const after = input.Marker === undefined ? undefined : decodeMarker(input.Marker);
  const keys: KeyListEntry[] = [];
  let truncated = false;
  // Keys pending deletion are listed until they are destroyed, as in AWS.
  for await (const key of ctx.kms.keys.list(ctx.scope, ctx.now.getTime(), after)) {
    if (keys.length === limit) {
      truncated = true;
      break;
    }
    keys.push({ KeyId: key.keyId, KeyArn: key.arn });
  }
  const last = keys[keys.length - 1];
  return {
    Keys: keys,
    // AWS sends Truncated on every page, false included (the model's ListKeys example).
    Truncated: truncated,
    NextMarker: truncated && last !== undefined ? encodeMarker(last.KeyId ?? "") : undefined,
  };
};
