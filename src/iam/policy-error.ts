// The error a malformed policy document raises: each service turns it into its MalformedPolicyDocumentException.

/**
 * Carries the message AWS's MalformedPolicyDocumentException would carry where a real one is known (IAM's "Syntax
 * errors in policy.", "Policy statement must contain actions.", "Actions/Conditions must be prefaced by a vendor, e.g.,
 * iam, sdb, ec2, etc.", KMS's "Policy contains a statement with one or more invalid principals." — all quoted in public
 * threads), and a plain description otherwise. The engine does no I/O and knows no service, so it throws this, never
 * an AwsError.
 */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
}
