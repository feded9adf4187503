// CreateGrant: a grant on a key (key id or key ARN), its operations checked against the key's type; Name makes it idempotent.
import type { CreateGrantRequest, CreateGrantResponse } from "@aws-sdk/client-kms";
import type { Operation } from "./context";
import { assertGrantFits, storedConstraints, type KmsGrantOperation } from "./grant-operations";
import { assertKeyState } from "./key-states";

export const createGrant: Operation<CreateGrantRequest, CreateGrantResponse> = async (input, ctx) => {
  // "Specify the key ID or key ARN"; an alias is InvalidArnException "Key Aliases are not supported for this operation."
  // (AWS's answer quoted in boto/boto#3202).
  const key = await ctx.kms.keys.resolve(ctx.scope, input.KeyId ?? "", ctx.now, "key");
  // Validation guarantees the model's GrantOperation values (Encapsulate and Decapsulate are newer than it).
  const operations = (input.Operations ?? []) as KmsGrantOperation[];
  const constraints = storedConstraints(input.Constraints);
  const wanted = { granteePrincipal: input.GranteePrincipal ?? "", retiringPrincipal: input.RetiringPrincipal, operations, constraints, name: input.Name };
  // Checked again under the key's lock, where the grant is written: the state may change in between.
  const check = (current: typeof key): void => {
    assertKeyState("CreateGrant", current);
    assertGrantFits(current, operations, constraints);
  };
  check(key);
  // Authorized before it runs (access.ts): kms:CreateGrant in the key policy, or a grant with CreateGrant. With a
  // caller of another account ctx.scope is the key's; the grant is issued by the caller's account (IssuingAccount).
  const issuingAccount = ctx.caller?.principal.account ?? ctx.scope.account;
  const { grantId, grantToken } = await ctx.kms.grants.create(ctx.scope, key, wanted, ctx.now, check, input.DryRun === true, issuingAccount);
  return { GrantToken: grantToken, GrantId: grantId };
};
