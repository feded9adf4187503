// Rotation functions: which function ARN runs where (a Lambda Invoke endpoint or a local command), and invoking one.
import { spawn } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import path from "node:path";
import { signOutgoing } from "../../protocol/sigv4";
import type { Scope } from "../scope";
import { BUILTIN_FUNCTIONS, isBuiltinFunction, runBuiltin, type BuiltinFunction } from "./builtin-rotation";

/** Where one function runs: an HTTP endpoint speaking Lambda's Invoke API, or a command given the event on stdin. */
export type RotationFunctionTarget =
  | { readonly kind: "lambda-endpoint"; readonly baseUrl: string }
  | { readonly kind: "invocation-url"; readonly url: string }
  | { readonly kind: "command"; readonly argv: readonly string[]; readonly cwd: string }
  /** A function secretslite runs itself (builtin-rotation.ts): local only, AWS has nothing like it. */
  | { readonly kind: "builtin"; readonly name: BuiltinFunction };

/** What Secrets Manager sends each step (rotate-secrets_lambda.html; RotationToken since 2024). */
export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken: string;
}

/** The values AWS's rotation templates dispatch on (event['Step'] == "createSecret", …). */
export type RotationStep = "createSecret" | "setSecret" | "testSecret" | "finishSecret";

/** A step the function reported as failed, or could not be run at all. */
export class RotationStepError extends Error {
  override readonly name = "RotationStepError";
}

/**
 * Reads a --rotation-functions file: a JSON object from function ARN to either a URL or an argv array. A URL whose
 * path ends in /invocations is called as is (the Lambda runtime interface emulator serves
 * /2015-03-31/functions/function/invocations); any other URL is a Lambda API endpoint (LocalStack), called with the
 * function name from the ARN. Commands run in the file's directory, so relative paths in them resolve against it.
 * A `builtin:` value names one of secretslite's own functions; an unknown one stops the load, so a typo is not
 * found only when a rotation fails.
 */
export function loadRotationFunctions(file: string): ReadonlyMap<string, RotationFunctionTarget> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`--rotation-functions ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`--rotation-functions ${file}: expected a JSON object from function ARN to a URL or a command (argv array)`);
  }
  const targets = new Map<string, RotationFunctionTarget>();
  for (const [arn, value] of Object.entries(parsed)) {
    if (typeof value === "string" && value.startsWith("builtin:")) {
      if (!isBuiltinFunction(value)) {
        throw new Error(`--rotation-functions ${file}: ${arn}: unknown built-in rotation function '${value}' (known: ${BUILTIN_FUNCTIONS.join(", ")})`);
      }
      targets.set(arn, { kind: "builtin", name: value });
    } else if (typeof value === "string") {
      targets.set(arn, urlTarget(value, `--rotation-functions ${file}: ${arn}`));
    } else if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === "string")) {
      targets.set(arn, { kind: "command", argv: value as string[], cwd: path.dirname(path.resolve(file)) });
    } else {
      throw new Error(`--rotation-functions ${file}: ${arn} must map to a URL or a non-empty array of strings`);
    }
  }
  return targets;
}

export function urlTarget(raw: string, where: string): RotationFunctionTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${where}: '${raw}' is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${where}: '${raw}' is not an http(s) URL`);
  return url.pathname.replace(/\/+$/, "").endsWith("/invocations")
    ? { kind: "invocation-url", url: url.toString() }
    : { kind: "lambda-endpoint", baseUrl: url.toString().replace(/\/+$/, "") };
}

/** AWS's own limit on a function's run (Lambda's 15-minute maximum timeout). */
export const INVOKE_TIMEOUT_MS = 15 * 60_000;
/** RotateSecret waits this long to learn whether the function can be reached. */
const CHECK_TIMEOUT_MS = 5_000;
/** Kept of a command's stderr for the log: the end of it names the failure. */
const STDERR_TAIL = 4096;
/** Secret key for the credentials rotation functions get: secretslite accepts any unless --verify-signatures. */
const FUNCTION_SECRET_KEY = "secretslite";

const ARN = /^arn:([^:]+):lambda:([^:]*):([^:]*):function:([^:]+)(?::([^:]+))?$/;

interface FunctionName {
  readonly name: string;
  readonly qualifier: string | undefined;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

function functionName(arn: string): FunctionName {
  const m = ARN.exec(arn);
  if (m === null) return { name: arn, qualifier: undefined, region: undefined, account: undefined };
  return { name: m[4] ?? arn, qualifier: m[5], region: m[2] || undefined, account: m[3] || undefined };
}

export class RotationFunctions {
  private endpointUrl: string | undefined;

  constructor(
    private readonly targets: ReadonlyMap<string, RotationFunctionTarget>,
    /** --lambda-endpoint: functions the file does not name are invoked there. */
    private readonly lambdaEndpoint: RotationFunctionTarget | undefined,
    private readonly commandEnvironment: Readonly<Record<string, string | undefined>>,
  ) {}

  /** This server's URL, given to local commands as AWS_ENDPOINT_URL; known once it listens. */
  setEndpointUrl(url: string): void {
    this.endpointUrl = url;
  }

  private targetOf(arn: string): RotationFunctionTarget | undefined {
    return this.targets.get(arn) ?? this.lambdaEndpoint;
  }

  /**
   * Whether the function can be invoked, without running it: GetFunction on a Lambda API, any HTTP answer from a
   * bare invocation URL (the runtime emulator has nothing else to ask), an executable file for a command.
   */
  async canInvoke(arn: string, scope: Scope): Promise<boolean> {
    const target = this.targetOf(arn);
    if (target === undefined) return false;
    const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
    try {
      switch (target.kind) {
        case "lambda-endpoint": {
          const fn = functionName(arn);
          const url = new URL(`${target.baseUrl}/2015-03-31/functions/${encodeURIComponent(fn.name)}`);
          if (fn.qualifier !== undefined) url.searchParams.set("Qualifier", fn.qualifier);
          const response = await fetch(url, { method: "GET", headers: signLambda("GET", url, "", fn, scope), signal });
          await response.arrayBuffer();
          return response.ok;
        }
        case "invocation-url": {
          const response = await fetch(target.url, { method: "GET", signal });
          await response.arrayBuffer();
          return true;
        }
        case "command":
          return executable(target.argv[0] ?? "", target.cwd, this.commandEnvironment.PATH);
        case "builtin":
          return true;
      }
    } catch {
      return false;
    }
  }

  /** Runs one step; resolves when the function succeeded, rejects with RotationStepError otherwise. */
  async invoke(arn: string, event: RotationEvent, scope: Scope, signal: AbortSignal): Promise<void> {
    const target = this.targetOf(arn);
    if (target === undefined) throw new RotationStepError(`no rotation function is configured for ${arn}`);
    const limited = withTimeout(signal, INVOKE_TIMEOUT_MS);
    const body = JSON.stringify(event);
    if (target.kind === "command") return this.runCommand(target, body, scope, limited);
    if (target.kind === "builtin") return this.runBuiltin(target.name, event, scope, limited);
    let url: URL;
    let headers: Record<string, string> = { "Content-Type": "application/json" };
    if (target.kind === "lambda-endpoint") {
      const fn = functionName(arn);
      url = new URL(`${target.baseUrl}/2015-03-31/functions/${encodeURIComponent(fn.name)}/invocations`);
      if (fn.qualifier !== undefined) url.searchParams.set("Qualifier", fn.qualifier);
      headers = { ...headers, ...signLambda("POST", url, body, fn, scope) };
    } else {
      url = new URL(target.url);
    }
    // Secrets Manager invokes rotation functions synchronously ("RequestResponse"), one step at a time.
    headers["X-Amz-Invocation-Type"] = "RequestResponse";
    let response: Response;
    try {
      response = await fetch(url, { method: "POST", headers, body, signal: limited });
    } catch (error) {
      throw new RotationStepError(`could not invoke ${arn} at ${url.origin}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) throw new RotationStepError(`${arn} answered ${response.status}: ${text.slice(0, STDERR_TAIL)}`);
    // Lambda marks a function's own error with X-Amz-Function-Error and a 200; some emulators only send the
    // error payload ({"errorMessage", "errorType"}), so that shape counts as a failure too.
    if (response.headers.has("x-amz-function-error") || isErrorPayload(text)) {
      throw new RotationStepError(`${arn} failed ${event.Step}: ${text.slice(0, STDERR_TAIL)}`);
    }
  }

  /** Like a command, a built-in function calls this server as the secret's account. */
  private async runBuiltin(name: BuiltinFunction, event: RotationEvent, scope: Scope, signal: AbortSignal): Promise<void> {
    if (this.endpointUrl === undefined) throw new RotationStepError(`${name}: the server's URL is not known yet`);
    try {
      await runBuiltin(name, event, { endpointUrl: this.endpointUrl, scope, secretAccessKey: FUNCTION_SECRET_KEY, signal });
    } catch (error) {
      // BuiltinStepError says what the step found wrong; anything else (an abort) is passed on in the same shape.
      throw new RotationStepError(`${name} failed ${event.Step}: ${(error as Error).message}`);
    }
  }

  private runCommand(target: Extract<RotationFunctionTarget, { kind: "command" }>, body: string, scope: Scope, signal: AbortSignal): Promise<void> {
    const [command = "", ...args] = target.argv;
    const env: Record<string, string> = {};
    // The command acts as the secret's account against this server: any AWS_* settings of ours would point it elsewhere.
    for (const [name, value] of Object.entries(this.commandEnvironment)) {
      if (value !== undefined && !name.startsWith("AWS_")) env[name] = value;
    }
    Object.assign(env, {
      AWS_ENDPOINT_URL: this.endpointUrl ?? "",
      AWS_REGION: scope.region,
      AWS_DEFAULT_REGION: scope.region,
      AWS_ACCESS_KEY_ID: scope.account,
      AWS_SECRET_ACCESS_KEY: FUNCTION_SECRET_KEY,
    });
    return new Promise<void>((resolve, reject) => {
      // SIGKILL on abort: a command that ignores SIGTERM must not hold up the server's close.
      const child = spawn(command, args, { cwd: target.cwd, env, stdio: ["pipe", "ignore", "pipe"], signal, killSignal: "SIGKILL" });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
      });
      child.stdin.on("error", () => undefined);
      child.stdin.end(body);
      child.on("error", (error) => reject(new RotationStepError(`could not run ${command}: ${error.message}`)));
      child.on("close", (code, killedBy) => {
        if (code === 0) resolve();
        else reject(new RotationStepError(`${command} exited with ${code ?? killedBy}: ${stderr.trim()}`));
      });
    });
  }
}

/** `signal`, also aborted after `ms` (AbortSignal.any needs Node 20.3; the engines field allows 20.0). */
function withTimeout(signal: AbortSignal, ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${ms / 1000} s`)), ms);
  timer.unref();
  const abort = (): void => {
    clearTimeout(timer);
    controller.abort(signal.reason);
  };
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  controller.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return controller.signal;
}

function isErrorPayload(text: string): boolean {
  try {
    const payload: unknown = JSON.parse(text);
    return payload !== null && typeof payload === "object" && "errorMessage" in payload && "errorType" in payload;
  } catch {
    return false;
  }
}

/** argv[0] as a path (relative to the functions file) or a name on PATH, executable by us. */
function executable(command: string, cwd: string, pathVariable: string | undefined): boolean {
  const candidates = command.includes("/")
    ? [path.resolve(cwd, command)]
    : (pathVariable ?? "").split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * SigV4 for a Lambda API call, signed as the secret's account (a 12-digit access key, the convention LocalStack
 * reads accounts from) in the function's region: the function is looked up where the secret's owner keeps it.
 */
function signLambda(method: string, url: URL, body: string, fn: FunctionName, scope: Scope): Record<string, string> {
  const signer = { accessKeyId: fn.account ?? scope.account, secretAccessKey: FUNCTION_SECRET_KEY, region: fn.region ?? scope.region, service: "lambda" };
  return signOutgoing(method, url, body, signer, new Date());
}
