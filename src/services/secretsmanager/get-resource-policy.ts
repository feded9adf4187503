// GetResourcePolicy: the resource policy attached to a secret, as it was given.
import type { GetResourcePolicyRequest, GetResourcePolicyResponse } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";

export const getResourcePolicy: Operation<GetResourcePolicyRequest, GetResourcePolicyResponse> = async (input, ctx) => {
  const secret = await ctx.secrets.secrets.requireLive(ctx.scope, input.SecretId ?? "");
  // With no policy AWS leaves ResourcePolicy out rather than failing (getmoto/moto#6049, made to match AWS).
  return { ARN: secret.arn, Name: secret.name, ResourcePolicy: secret.resourcePolicy };
};
