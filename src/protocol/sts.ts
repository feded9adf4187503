// STS GetCallerIdentity on the same endpoint: the AWS query protocol (form-encoded POST, XML answer, signed for sts), which tools call first to learn who they are.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsError } from "../errors";
import type { PrincipalEntry, Principals } from "../iam/principals-file";
import { parseAuthorization, type SignatureVerifier } from "./sigv4";

const NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const ACCOUNT_ID = /^\d{12}$/;

export interface StsOptions {
  readonly verifier: SignatureVerifier | undefined;
  readonly principals: Principals | undefined;
  readonly defaultAccount: string;
  readonly now: () => Date;
}

/**
 * STS's codes for the SigV4 failures the JSON services name otherwise ("InvalidClientTokenId" for an unknown key,
 * "SignatureDoesNotMatch" for a wrong or stale signature, "ExpiredToken" for expired session credentials, each 403 as
 * AWS answers them), with their HTTP statuses.
 */
const STS_CODES: Readonly<Record<string, readonly [string, number]>> = {
  UnrecognizedClientException: ["InvalidClientTokenId", 403],
  InvalidSignatureException: ["SignatureDoesNotMatch", 403],
  ExpiredTokenException: ["ExpiredToken", 403],
  MissingAuthenticationTokenException: ["MissingAuthenticationToken", 403],
  IncompleteSignatureException: ["IncompleteSignature", 400],
};

/** Whether a request is for STS: a form-encoded POST (the JSON services always send an X-Amz-Target). */
export const isStsRequest = (req: IncomingMessage, contentType: string): boolean =>
  contentType === "application/x-www-form-urlencoded" && req.headers["x-amz-target"] === undefined;

export function handleSts(req: IncomingMessage, res: ServerResponse, requestId: string, body: Buffer, options: StsOptions): void {
  try {
    const form = new URLSearchParams(body.toString("utf8"));
    const action = form.get("Action");
    if (action !== "GetCallerIdentity") {
      // Only GetCallerIdentity is served: AWS answers an action it does not know with InvalidAction (400).
      throw new AwsError("InvalidAction", `Could not find operation ${action ?? ""} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`, { status: 400 });
    }
    const auth = parseAuthorization(req.headers, "sts");
    options.verifier?.verify(auth, { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body }, "sts", options.now());
    const { arn, account, userId } = callerOf(auth.credential.accessKeyId, options);
    send(
      res,
      200,
      requestId,
      `<GetCallerIdentityResponse xmlns="${NAMESPACE}"><GetCallerIdentityResult><Arn>${xml(arn)}</Arn><UserId>${xml(userId)}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  } catch (error) {
    const awsError = error instanceof AwsError ? error : new AwsError("InternalFailure", "The request processing has failed because of an unknown error.", { status: 500 });
    const [code, status] = STS_CODES[awsError.code] ?? [awsError.code, awsError.status ?? 400];
    const type = status >= 500 ? "Receiver" : "Sender";
    send(
      res,
      status,
      requestId,
      `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xml(awsError.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
  }
}

/**
 * The principal the access key names in the principals file; otherwise the root of the account the key stands for (a
 * 12-digit key is that account, any other the default account, as for KMS and Secrets Manager requests).
 */
function callerOf(accessKeyId: string, options: StsOptions): Pick<PrincipalEntry, "userId"> & { arn: string; account: string } {
  const entry = options.principals?.byAccessKey.get(accessKeyId);
  if (entry !== undefined) return { arn: entry.principal.arn, account: entry.principal.account, userId: entry.userId };
  const account = ACCOUNT_ID.test(accessKeyId) ? accessKeyId : options.defaultAccount;
  return { arn: `arn:aws:iam::${account}:root`, account, userId: account };
}

const xml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function send(res: ServerResponse, status: number, requestId: string, body: string): void {
  res.writeHead(status, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body), "x-amzn-RequestId": requestId });
  res.end(body);
}
