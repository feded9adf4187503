// SigV4 authentication: parsing the Authorization header, strict-mode signature checks, signing outgoing requests, credential files.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
import { expiredToken, incompleteSignature, invalidSignature, missingAuthenticationToken, unrecognizedClient } from "../errors";

/** The credential-scope service a target's requests must be signed for; kms-xks-proxy is what KMS signs its calls to an external key store proxy as. */
export type SigningName = "kms" | "secretsmanager" | "kms-xks-proxy" | "sts";

export interface SigV4Credential {
  readonly accessKeyId: string;
  /** yyyymmdd */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

export interface SigV4Auth {
  readonly credential: SigV4Credential;
  /** In the client's order and spelling: the canonical request is rebuilt from exactly this list. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** yyyymmddThhmmssZ, also when the client sent an HTTP-date `Date` header instead of `X-Amz-Date`. */
  readonly amzDate: string;
  /** Recorded for the request context; never checked (there is no STS to have issued it). */
  readonly securityToken: string | undefined;
}

/**
 * The request as received. `headers` is node's IncomingHttpHeaders, which lowercases names, keeps only
 * the first of some duplicated headers and joins others with ", " where SigV4 joins with ",": a client
 * that signs a repeated header will not verify. Exact duplicate handling would need `req.rawHeaders`;
 * no AWS SDK repeats a header on KMS or Secrets Manager calls.
 */
export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as sent (`req.url`). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";

// AWS's texts below come from captured responses: architect/dynalite index.js (real DynamoDB answers
// recorded by its author, same Coral front end as KMS and Secrets Manager) and GitHub issues quoting
// the services; each constant names its source. The trailing spaces are AWS's.

// aws/aws-sdk-cpp#1681 (KMS Decrypt).
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

// aws/aws-sdk-php#2469; the older "'Host' must be a 'SignedHeader' …" (dynalite, 2013) predates HTTP/2.
const HOST_NOT_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

/**
 * What SignedHeaders must cover besides host. AWS's SigV4 guide ("Create a signed AWS API request", IAM User
 * Guide) says the signature must include host (or :authority) "and any x-amz-* headers", and that a date or
 * x-amz-date header, if sent, must be signed; content-type it names as optional. Every SDK complies: SDK v3 and
 * botocore sign every header but a short list (user-agent, expect, x-amzn-trace-id, …), so x-amz-target,
 * x-amz-date and content-type are always signed. What the JSON services enforce is narrower than the text:
 * DynamoDB answered aws-sdk-go 0.6.7 requests that left content-type and x-amz-content-sha256 unsigned
 * (underarmour/dynago#8), and Kinesis requests with an unsigned x-amz-security-token (soto-project/soto-core#99);
 * S3 alone is recorded refusing unsigned x-amz-* headers (HeadersNotSigned). No answer of AWS to an unsigned
 * X-Amz-Target is on record. So secretslite follows the documented rule where nothing shows AWS relaxing it:
 * every x-amz-* header must be signed, above all X-Amz-Target, which picks the operation (unsigned, a captured
 * GetSecretValue would replay for five minutes as a DeleteSecret with the same body); the two AWS is seen to
 * take unsigned are taken (secretslite reads neither to decide anything), and so is Content-Type, which can
 * only choose between JSON dialects that parse alike.
 */
const MAY_BE_UNSIGNED = new Set(["x-amz-security-token", "x-amz-content-sha256"]);

/**
 * AWS's text for an unsigned host, with the header's name in place of 'Host': AWS's own words for the other
 * headers are not on record (scratchstack-aws-signature, a reimplementation of its checks, words them so).
 */
const mustBeSigned = (header: string): string => `'${header}' must be a 'SignedHeader' in the AWS Authorization.`;

// InvalidSignatureException with this text, trailing space included: aws/aws-sdk-ruby#431 (EMR, JSON 1.1),
// disneystreaming/smithy4s#1568 (SageMaker), arnemolland/sigv4#15 (DynamoDB).
const wrongService = (expected: SigningName): string => `Credential should be scoped to correct service: '${expected}'. `;

/**
 * How far X-Amz-Date may stray from the server clock either way. Secrets Manager answers "(… - 5 min.)"
 * (boto/botocore#3587, boto/boto3#4716; "+ 5 min." in JuliaCloud/AWS.jl#206) and so does KMS
 * (aws/aws-sdk-js#2340, kms.encrypt). Neither service's reference gives its own figure; the KMS API
 * reference defers to the IAM User Guide's SigV4 page, which says a request "must reach AWS within five
 * minutes of the time stamp in the request". The 15 minutes of the generic RequestExpired entry in
 * every CommonErrors page is DynamoDB's and STS's window, not these services'.
 */
const CLOCK_SKEW_MINUTES: Readonly<Record<SigningName, number>> = { kms: 5, secretsmanager: 5, "kms-xks-proxy": 5, sts: 5 };

/**
 * An emulator serves every region, so "valid" only means fit for an ARN: lowercase words joined by
 * single hyphens. AWS's text, InvalidSignatureException: aws/aws-sdk-js#4545, joona/aws-es-curl#15.
 */
const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
// botocore puts email.utils.formatdate() in `Date` ("Mon, 23 Nov 2026 07:12:34 -0000") when the caller
// set one, and signs the ISO form of that instant; RFC 7231's IMF-fixdate ends in "GMT".
const HTTP_DATE = /^(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UT|UTC|Z|[+-]\d{4})$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Reads the Authorization header in the order AWS reports problems: algorithm, key=value syntax,
 * required parameters and date, date format, credential shape, credential scope. Pass the target's
 * signing name to have a wrong service reported in the same message as the other scope faults, as AWS
 * does; `verify` checks it regardless. AWS checks the clock before the credential's shape; that check
 * needs `now` and so waits for `verify`.
 */
export function parseAuthorization(headers: IncomingHttpHeaders, expectedService?: SigningName): SigV4Auth {
  const header = headers.authorization;
  if (header === undefined || header === "") throw missingAuthenticationToken();

  const algorithmEnd = header.search(/\s/);
  const algorithm = algorithmEnd === -1 ? header : header.slice(0, algorithmEnd);
  // Per the issue: anything but SigV4 counts as unauthenticated. dynalite records DynamoDB answering an
  // "AWS4-" prefix with another algorithm (e.g. AWS4-HMAC-SHA25) with IncompleteSignatureException
  // "Unsupported AWS 'algorithm': '…' (only AWS4-HMAC-SHA256 for now). " and no SDK sends one to KMS or
  // Secrets Manager, so the simpler rule costs nothing in practice.
  if (algorithm !== ALGORITHM) throw missingAuthenticationToken();

  let credential: string | undefined;
  let signature: string | undefined;
  let signedHeaders: string | undefined;
  // AWS splits on commas and whitespace alike: "Credential= AKID/…" fails on the pair after the space
  // (iann0036/cloud9-sync#10, awslabs/fhir-works-on-aws-deployment#379).
  for (const pair of header.slice(algorithm.length).split(/[\s,]+/)) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq === -1) {
      throw incompleteSignature(
        `'${pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`,
      );
    }
    const value = pair.slice(eq + 1);
    switch (pair.slice(0, eq)) {
      case "Credential":
        credential = value;
        break;
      case "Signature":
        signature = value;
        break;
      case "SignedHeaders":
        signedHeaders = value;
        break;
    }
  }

  const xAmzDate = firstValue(headers["x-amz-date"]);
  const rawDate = xAmzDate || firstValue(headers.date);
  // Sentence order and the echoed header: aws/chalice#828, aws-amplify/amplify-flutter#1539, dynalite.
  // An empty SignedHeaders passes here (dynalite); `verify` rejects it for not signing host.
  if (!credential || !signature || signedHeaders === undefined || !rawDate) {
    let missing = "";
    if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
    if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
    if (signedHeaders === undefined) missing += "Authorization header requires 'SignedHeaders' parameter. ";
    if (!rawDate) missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
    throw incompleteSignature(`${missing}Authorization=${header}`);
  }

  const amzDate = xAmzDate ? isoBasicDate(xAmzDate) : isoBasicDate(rawDate) ?? httpDateToIsoBasic(rawDate);
  if (amzDate === undefined) {
    // dynalite; scratchstack-aws-signature's tests carry the same text.
    throw incompleteSignature(
      `Date must be in ISO-8601 'basic format'. Got '${rawDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }

  // Trailing slashes are ignored (dynalite); the text: aws/aws-sdk-go#1042, boto/boto3#1752.
  const parts = credential.replace(/\/+$/, "").split("/");
  if (parts.length !== 5) {
    throw incompleteSignature(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] = parts;

  // AWS reports every scope fault at once, in this order (dynalite).
  let scope = "";
  if (!REGION.test(region)) scope += `Credential should be scoped to a valid region, not '${region}'. `;
  if (expectedService !== undefined && service !== expectedService) scope += wrongService(expectedService);
  if (terminator !== TERMINATOR) scope += `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'. `;
  const day = amzDate.slice(0, 8);
  if (date !== day) {
    scope += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${day}', from '${amzDate}'.`;
  }
  if (scope !== "") throw invalidSignature(scope);

  return {
    credential: { accessKeyId, date, region, service },
    signedHeaders: signedHeaders === "" ? [] : signedHeaders.split(";"),
    signature,
    amzDate,
    securityToken: firstValue(headers["x-amz-security-token"]) || undefined,
  };
}

export interface SignatureVerifierOptions {
  /** Derived signing keys kept; one per secret, day, region and service. */
  readonly signingKeyCacheSize?: number;
  /** Session credentials (--principals): the token each such access key must send, and when it expires. */
  readonly sessions?: ReadonlyMap<string, { readonly token: string; readonly expiresAt?: number }>;
}

/** Strict mode: recomputes the client's signature with the secret registered for its access key. */
export class SignatureVerifier {
  /** Derived signing keys by day, region, service and secret: they age out by the day, so the least recently used go. */
  private readonly signingKeys: LRUCache<string, Buffer>;

  /** `credentials` maps access key id → secret access key; it is read per request, not copied. */
  constructor(
    private readonly credentials: ReadonlyMap<string, string>,
    private readonly options: SignatureVerifierOptions = {},
  ) {
    this.signingKeys = new LRUCache<string, Buffer>({ max: Math.max(1, options.signingKeyCacheSize ?? 256) });
  }

  /**
   * Throws AwsError. Checks in AWS's order: clock, host signed, service scope, access key, signature. The other
   * x-amz-* headers (all but MAY_BE_UNSIGNED) are checked right after host, where AWS's order is not on record.
   */
  verify(auth: SigV4Auth, request: SignedRequest, expectedService: SigningName, now: Date): void {
    checkClock(auth.amzDate, now, CLOCK_SKEW_MINUTES[expectedService]);
    if (!auth.signedHeaders.includes("host")) throw invalidSignature(HOST_NOT_SIGNED);
    const unsigned = unsignedAmzHeader(auth.signedHeaders, request.headers);
    if (unsigned !== undefined) throw invalidSignature(mustBeSigned(unsigned));
    const { credential } = auth;
    if (credential.service !== expectedService) throw invalidSignature(wrongService(expectedService));
    const secret = this.credentials.get(credential.accessKeyId);
    if (secret === undefined) throw unrecognizedClient();
    // With --principals, a session's key works only with its own token, and only until it expires, and a long-term key
    // takes no token. (A --credentials-file lists no tokens: there, whatever token a client sends is not looked at.)
    const { sessions } = this.options;
    if (sessions !== undefined) {
      const session = sessions.get(credential.accessKeyId);
      if (session === undefined ? auth.securityToken !== undefined : auth.securityToken !== session.token) throw unrecognizedClient();
      if (session?.expiresAt !== undefined && now.getTime() >= session.expiresAt) throw expiredToken();
    }

    const expected = createHmac("sha256", this.signingKey(secret, credential))
      .update(stringToSign(auth, request))
      .digest();
    // Lowercase hex only, as SigV4 prints it; decoding instead of comparing text saves a digest-to-hex copy.
    if (!SIGNATURE_HEX.test(auth.signature) || !timingSafeEqual(Buffer.from(auth.signature, "hex"), expected)) {
      throw invalidSignature(SIGNATURE_MISMATCH);
    }
  }

  private signingKey(secret: string, credential: SigV4Credential): Buffer {
    // Date, region and service never hold a "/" (they came from splitting on it), so this key is unambiguous.
    const cacheKey = `${credential.date}/${credential.region}/${credential.service}/${secret}`;
    let key = this.signingKeys.get(cacheKey);
    if (key === undefined) {
      key = signingKey(secret, credential);
      this.signingKeys.set(cacheKey, key);
    }
    return key;
  }
}

/** What an outgoing request is signed as: an access key, its secret, and the scope's region and service. */
export interface OutgoingSigner {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
}

/**
 * SigV4 headers (X-Amz-Date, Authorization; Host and X-Amz-Date signed) for a request secretslite sends: the Lambda
 * API that runs rotation functions. Built from the same canonical request the verifier checks, so what secretslite
 * signs, secretslite's strict mode would accept. The path is signed as given, as the verifier reads paths.
 */
export function signOutgoing(
  method: string,
  url: URL,
  body: string | Buffer,
  signer: OutgoingSigner,
  now: Date,
  /** Headers the caller sends and wants signed too (lowercase names), e.g. x-amz-target, which the verifier requires signed. */
  alsoSigned: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const amzDate = formatAmzDate(now.getTime());
  const credential: SigV4Credential = { accessKeyId: signer.accessKeyId, date: amzDate.slice(0, 8), region: signer.region, service: signer.service };
  const headers: Record<string, string> = { ...alsoSigned, host: url.host, "x-amz-date": amzDate };
  const signedHeaders = Object.keys(headers).sort();
  const auth: SigV4Auth = { credential, signedHeaders, signature: "", amzDate, securityToken: undefined };
  const request: SignedRequest = {
    method,
    url: `${url.pathname}${url.search}`,
    headers,
    body: typeof body === "string" ? Buffer.from(body) : body,
  };
  const signature = createHmac("sha256", signingKey(signer.secretAccessKey, credential)).update(stringToSign(auth, request)).digest("hex");
  const scope = `${credential.date}/${credential.region}/${credential.service}/${TERMINATOR}`;
  return {
    "X-Amz-Date": amzDate,
    Authorization: `${ALGORITHM} Credential=${signer.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`,
  };
}

const signingKey = (secret: string, credential: SigV4Credential): Buffer =>
  hmac(hmac(hmac(hmac(`AWS4${secret}`, credential.date), credential.region), credential.service), TERMINATOR);

const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** The first x-amz-* header sent but not signed, other than those AWS takes unsigned (MAY_BE_UNSIGNED). */
function unsignedAmzHeader(signedHeaders: readonly string[], headers: IncomingHttpHeaders): string | undefined {
  for (const name of Object.keys(headers)) {
    // node lowercases received names; x-amzn-* (x-amzn-trace-id) is another family, which SDKs leave unsigned.
    if (name.startsWith("x-amz-") && !MAY_BE_UNSIGNED.has(name) && !signedHeaders.includes(name)) return name;
  }
  return undefined;
}

function stringToSign(auth: SigV4Auth, request: SignedRequest): string {
  const { url, headers } = request;
  const q = url.indexOf("?");
  // KMS and Secrets Manager are only served at "/": the path is used as sent, with none of the
  // re-encoding SDKs apply to other paths.
  const path = q === -1 ? url : url.slice(0, q);
  let canonical = `${request.method}\n${path === "" ? "/" : path}\n${q === -1 ? "" : canonicalQuery(url.slice(q + 1))}\n`;
  for (const name of auth.signedHeaders) canonical += `${name}:${canonicalHeaderValue(headers[name])}\n`;
  // Always the body's own hash: an x-amz-content-sha256 header is only another signed header here.
  canonical += `\n${auth.signedHeaders.join(";")}\n${createHash("sha256").update(request.body).digest("hex")}`;
  const { date, region, service } = auth.credential;
  return `${ALGORITHM}\n${auth.amzDate}\n${date}/${region}/${service}/${TERMINATOR}\n${createHash("sha256").update(canonical).digest("hex")}`;
}

const WHITESPACE_RUN = /\s+/g;
const NEEDS_COLLAPSE = /\s\s|[^\S ]/;

function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return collapse(value);
  return value.map(collapse).join(",");
}

function collapse(value: string): string {
  const trimmed = value.trim();
  return NEEDS_COLLAPSE.test(trimmed) ? trimmed.replace(WHITESPACE_RUN, " ") : trimmed;
}

/** Sorted by encoded name, then value; "+" stays a literal plus, as the SDKs never send it for a space. */
function canonicalQuery(query: string): string {
  const pairs: (readonly [string, string])[] = [];
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    pairs.push([uriEncode(eq === -1 ? part : part.slice(0, eq)), uriEncode(eq === -1 ? "" : part.slice(eq + 1))]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function uriEncode(raw: string): string {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A malformed escape is signed as it came; it can only match a client that signed it the same way.
  }
  return encodeURIComponent(decoded).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function checkClock(amzDate: string, now: Date, minutes: number): void {
  const signedAt = Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)),
  );
  // AWS prints whole seconds and compares them: truncate so the message and the decision agree.
  const at = now.getTime() - (now.getTime() % 1000);
  const skew = minutes * 60_000;
  // Texts: remind101/logspout-kinesis#21, boto/botocore#3587; serverless/enterprise#11, aws/aws-sdk-js#1652.
  if (signedAt < at - skew) {
    throw invalidSignature(
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(at - skew)} (${formatAmzDate(at)} - ${minutes} min.)`,
    );
  }
  if (signedAt > at + skew) {
    throw invalidSignature(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(at + skew)} (${formatAmzDate(at)} + ${minutes} min.)`,
    );
  }
}

/** yyyymmddThhmmssZ */
const formatAmzDate = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");

function firstValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : value?.[0];
}

function isoBasicDate(raw: string): string | undefined {
  const m = ISO_BASIC.exec(raw);
  if (m === null) return undefined;
  return validUtc(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) === undefined
    ? undefined
    : raw;
}

function httpDateToIsoBasic(raw: string): string | undefined {
  const m = HTTP_DATE.exec(raw);
  if (m === null) return undefined;
  const ms = validUtc(Number(m[3]), MONTHS.indexOf(m[2] ?? ""), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (ms === undefined) return undefined;
  const zone = m[7] ?? "";
  const sign = zone[0] === "-" ? -1 : zone[0] === "+" ? 1 : 0;
  const offsetMinutes = sign === 0 ? 0 : sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  return formatAmzDate(ms - offsetMinutes * 60_000);
}

/** Epoch milliseconds, or undefined for a calendar date that does not exist (month 13, 31 April, 25:00). */
function validUtc(year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined {
  const ms = Date.UTC(year, month, day, hour, minute, second);
  const d = new Date(ms);
  return d.getUTCFullYear() === year &&
    d.getUTCMonth() === month &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second
    ? ms
    : undefined;
}

/**
 * Access key id → secret access key from an AWS shared credentials file: every `[profile]` holding both
 * `aws_access_key_id` and `aws_secret_access_key`. Whole-line `#`/`;` comments as botocore reads them,
 * plus whitespace-led trailing ones (keys never hold whitespace). Throws on an unreadable file, a broken
 * line, a half-configured profile, one key id with two secrets, or no keys at all.
 */
export function loadCredentialsFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new Error(`Cannot read AWS credentials file '${path}': ${(cause as Error).message}`, { cause });
  }

  const credentials = new Map<string, string>();
  let profile: string | undefined;
  let accessKeyId: string | undefined;
  let secret: string | undefined;
  const endProfile = (): void => {
    if (profile !== undefined && (accessKeyId === undefined) !== (secret === undefined)) {
      const [has, lacks] = accessKeyId === undefined
        ? ["aws_secret_access_key", "aws_access_key_id"]
        : ["aws_access_key_id", "aws_secret_access_key"];
      throw new Error(`AWS credentials file '${path}': profile [${profile}] has ${has} but no ${lacks}`);
    }
    if (accessKeyId !== undefined && secret !== undefined) {
      const known = credentials.get(accessKeyId);
      if (known !== undefined && known !== secret) {
        throw new Error(`AWS credentials file '${path}': access key ${accessKeyId} appears with two different secrets`);
      }
      credentials.set(accessKeyId, secret);
    }
    accessKeyId = secret = undefined;
  };

  for (const [index, raw] of text.replace(/^\uFEFF/, "").split(/\r?\n/).entries()) {
    const line = raw.replace(/\s[#;].*$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const where = `AWS credentials file '${path}', line ${index + 1}`;
    if (line.startsWith("[")) {
      if (!line.endsWith("]")) throw new Error(`${where}: section header is missing its closing ']'`);
      endProfile();
      profile = line.slice(1, -1).trim();
      continue;
    }
    const eq = line.indexOf("=");
    if (eq === -1) {
      // botocore (configparser) reads an indented line as the continuation of the previous value.
      if (/^\s/.test(raw)) continue;
      throw new Error(`${where}: expected 'name = value'`);
    }
    if (profile === undefined) throw new Error(`${where}: setting outside any [profile] section`);
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim() || undefined;
    if (name === "aws_access_key_id") accessKeyId = value;
    else if (name === "aws_secret_access_key") secret = value;
  }
  endProfile();

  if (credentials.size === 0) {
    throw new Error(
      `AWS credentials file '${path}' holds no profile with both aws_access_key_id and aws_secret_access_key`,
    );
  }
  return credentials;
}
