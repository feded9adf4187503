// A --principals file for a spec: principals with their keys, ARN and identity policies (named or inline).
import { writeFileSync } from "node:fs";
import path from "node:path";

/** Everything in both services: the policy most specs give their administrator. */
export const ADMIN_POLICY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["secretsmanager:*", "kms:*"], Resource: "*" }] } as const;

export interface SpecPrincipal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly arn: string;
  /** Names from `policies` (below) or documents inline. */
  readonly policies?: ReadonlyArray<string | object>;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Writes `principals.json` in `dir` (JSON is one of the file's two forms) and answers its path. `admin` names ADMIN_POLICY. */
export function writePrincipalsFile(dir: string, principals: readonly SpecPrincipal[], policies: Readonly<Record<string, object>> = {}): string {
  const file = path.join(dir, "principals.json");
  writeFileSync(file, JSON.stringify({ policies: { admin: ADMIN_POLICY, ...policies }, principals }, null, 2));
  return file;
}
