// Built-in rotation functions: a secretslite convenience with no AWS counterpart, for rotating without writing a function.
import type { Scope } from "../scope";
import { randomPassword } from "./random-password";
import type { RotationEvent } from "./rotation-functions";
import { signOutgoing } from "../../protocol/sigv4";

/**
 * The values a --rotation-functions file may give instead of a URL or a command. AWS always needs a Lambda function
 * ("No Lambda rotation function ARN is associated with this secret"), and so does secretslite; these only spare the
 * user from writing one for local work. Nothing like them exists on AWS.
 */
export const BUILTIN_FUNCTIONS = ["builtin:password"] as const;
export type BuiltinFunction = (typeof BUILTIN_FUNCTIONS)[number];

export const isBuiltinFunction = (value: string): value is BuiltinFunction => (BUILTIN_FUNCTIONS as readonly string[]).includes(value);

/** A step that could not complete; the caller turns it into a RotationStepError. */
export class BuiltinStepError extends Error {
  override readonly name = "BuiltinStepError";
}

/** Where a built-in function sends its Secrets Manager calls, and as whom. */
export interface BuiltinCallTarget {
  readonly endpointUrl: string;
  readonly scope: Scope;
  readonly secretAccessKey: string;
  readonly signal: AbortSignal;
}

/**
 * GetRandomPassword's defaults (API_GetRandomPassword): 32 characters, every class included and each required. The
 * same generator GetRandomPassword uses.
 */
const newPassword = (): string =>
  randomPassword({
    length: 32,
    excludeCharacters: "",
    excludeNumbers: false,
    excludePunctuation: false,
    excludeUppercase: false,
    excludeLowercase: false,
    includeSpace: false,
    requireEachIncludedType: true,
  });

/**
 * `builtin:password` runs the four steps of AWS's rotation template (SecretsManagerRotationTemplate) against this
 * server, over HTTP as the secret's account, like a function would: every call it makes is an ordinary request.
 * - createSecret: unless the AWSPENDING version already has a value (a retried rotation), puts a new value there:
 *   a new password for a plain-string secret, or the JSON object with a new `password` member, other members kept.
 * - setSecret, testSecret: nothing to set or test locally; each still checks the version is the one pending.
 * - finishSecret: moves AWSCURRENT onto the version (AWSPREVIOUS follows, as for any move), then takes AWSPENDING off it.
 */
export async function runBuiltin(fn: BuiltinFunction, event: RotationEvent, target: BuiltinCallTarget): Promise<void> {
  const call = caller(target, fn);
  const token = event.ClientRequestToken;
  const described = await call("DescribeSecret", { SecretId: event.SecretId });
  if (described.RotationEnabled !== true) throw new BuiltinStepError(`${fn}: secret ${event.SecretId} is not enabled for rotation`);
  const versions = (described.VersionIdsToStages ?? {}) as Record<string, string[]>;
  const stages = versions[token];
  if (stages === undefined) throw new BuiltinStepError(`${fn}: secret version ${token} has no stage for rotation of secret ${event.SecretId}`);
  // Already current: a step of a rotation that finished (a retry after finishSecret) has nothing left to do.
  if (stages.includes("AWSCURRENT")) return;
  if (!stages.includes("AWSPENDING")) throw new BuiltinStepError(`${fn}: secret version ${token} is not set as AWSPENDING for rotation of secret ${event.SecretId}`);

  switch (event.Step) {
    case "createSecret": {
      const current = await call("GetSecretValue", { SecretId: event.SecretId, VersionStage: "AWSCURRENT" });
      const pending = await call("GetSecretValue", { SecretId: event.SecretId, VersionId: token, VersionStage: "AWSPENDING" }, "ResourceNotFoundException");
      if (pending !== undefined) return;
      if (typeof current.SecretString !== "string") throw new BuiltinStepError(`${fn}: secret ${event.SecretId} holds binary data, not a string`);
      await call("PutSecretValue", { SecretId: event.SecretId, ClientRequestToken: token, SecretString: rotatedValue(current.SecretString), VersionStages: ["AWSPENDING"] });
      return;
    }
    case "setSecret":
    case "testSecret":
      // The version is the pending one (checked above); there is no database to set or log in to.
      return;
    case "finishSecret": {
      const currentVersion = Object.keys(versions).find((versionId) => versions[versionId]?.includes("AWSCURRENT"));
      await call("UpdateSecretVersionStage", {
        SecretId: event.SecretId,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: token,
        ...(currentVersion === undefined ? {} : { RemoveFromVersionId: currentVersion }),
      });
      // The finished version keeps AWSCURRENT alone, not a stale AWSPENDING the next rotation would have to move.
      await call("UpdateSecretVersionStage", { SecretId: event.SecretId, VersionStage: "AWSPENDING", RemoveFromVersionId: token });
      return;
    }
  }
}

/** A JSON object gets a new `password` member, everything else in it kept; any other string is replaced whole. */
function rotatedValue(current: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(current);
  } catch {
    return newPassword();
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return newPassword();
  return JSON.stringify({ ...(parsed as Record<string, unknown>), password: newPassword() });
}

type Answer = Record<string, unknown>;

/** The User-Agent of a built-in function's calls: the audit log tells them apart from the caller's own. */
export const builtinUserAgent = (fn: BuiltinFunction): string => `secretslite-${fn.replace(":", "-")}`;

function caller(target: BuiltinCallTarget, fn: BuiltinFunction) {
  async function call(operation: string, input: Answer): Promise<Answer>;
  async function call(operation: string, input: Answer, absentAs: string): Promise<Answer | undefined>;
  async function call(operation: string, input: Answer, absentAs?: string): Promise<Answer | undefined> {
    const url = new URL(target.endpointUrl.replace(/\/*$/, "/"));
    const body = JSON.stringify(input);
    // X-Amz-Target signed too, as the SDKs sign it: --verify-signatures accepts nothing less. Signed as the secret's account.
    const sent = { "content-type": "application/x-amz-json-1.1", "x-amz-target": `secretsmanager.${operation}` };
    const signer = { accessKeyId: target.scope.account, secretAccessKey: target.secretAccessKey, region: target.scope.region, service: "secretsmanager" };
    const headers = { ...sent, ...signOutgoing("POST", url, body, signer, new Date(), sent) };
    let response: Response;
    try {
      response = await fetch(url, { method: "POST", headers: { ...headers, "user-agent": builtinUserAgent(fn) }, body, signal: target.signal });
    } catch (error) {
      throw new BuiltinStepError(`${operation} could not reach ${url.origin}: ${(error as Error).message}`);
    }
    const answer = (await response.json().catch(() => ({}))) as Answer;
    if (response.ok) return answer;
    const type = String(answer.__type ?? response.status).replace(/^.*#/, "");
    if (absentAs !== undefined && type === absentAs) return undefined;
    throw new BuiltinStepError(`${operation} failed: ${type}: ${String(answer.Message ?? answer.message ?? "")}`);
  }
  return call;
}
