// DisableKey: the key stays, but no cryptographic operation may use it until EnableKey.
import type { DisableKeyRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { setKeyState } from "./key-enablement";

export const disableKey: Operation<DisableKeyRequest, Record<string, never>> = (input, ctx) =>
  setKeyState(ctx, input.KeyId, "DisableKey");
