// ValidateResourcePolicy: whether a resource policy parses and does not grant access to anyone, without storing it.
import type { ValidateResourcePolicyRequest, ValidateResourcePolicyResponse, ValidationErrorsEntry } from "@aws-sdk/client-secrets-manager";
import type { Operation } from "./context";
import { secretNotFound } from "./errors";
import { broadAccessStatements } from "../../iam/public";
import { compileResourcePolicy } from "./resource-policy";

/**
 * AWS's check names and texts for a failing policy were not found in any capture; these are ours, named for
 * the check the API reference describes ("ensure your resource policy does not allow broad access").
 * A policy that does not parse is MalformedPolicyDocumentException, an error the model lists for this call.
 */
export const BROAD_ACCESS_CHECK = "BROAD_ACCESS";
const BROAD_ACCESS_MESSAGE =
  'The policy grants access to all principals ("*") without a condition that restricts it. ' +
  "Name specific principals, or add a condition such as aws:PrincipalAccount or aws:PrincipalOrgID.";

export const validateResourcePolicy: Operation<ValidateResourcePolicyRequest, ValidateResourcePolicyResponse> = async (input, ctx) => {
  // SecretId is optional; when given it must name a secret (a deleted one still has a policy to check).
  if (input.SecretId !== undefined && (await ctx.secrets.secrets.find(ctx.scope, input.SecretId)) === undefined) {
    throw secretNotFound();
  }
  const broad = broadAccessStatements(compileResourcePolicy(input.ResourcePolicy ?? ""));
  const ValidationErrors: ValidationErrorsEntry[] =
    broad.length === 0 ? [] : [{ CheckName: BROAD_ACCESS_CHECK, ErrorMessage: BROAD_ACCESS_MESSAGE }];
  // The AWS CLI example shows a passing policy with "ValidationErrors": [].
  return { PolicyValidationPassed: ValidationErrors.length === 0, ValidationErrors };
};
