// EnableKey: a disabled key may be used again.
import type { EnableKeyRequest } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { setKeyState } from "./key-enablement";

export const enableKey: Operation<EnableKeyRequest, Record<string, never>> = (input, ctx) =>
  setKeyState(ctx, input.KeyId, "EnableKey");
