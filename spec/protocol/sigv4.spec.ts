// SigV4: header parsing, strict verification of aws4, SDK v3 and botocore signatures, credential files.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import aws4 from "aws4";
import { AwsError } from "../../src/errors";
import {
  loadCredentialsFile,
  parseAuthorization,
  SignatureVerifier,
  signOutgoing,
  type SignedRequest,
  type SigningName,
} from "../../src/protocol/sigv4";

const ACCESS_KEY_ID = "AKIDEXAMPLESECRETSLITE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SIGNED_AT = new Date("2026-11-23T07:12:34Z");
const AMZ_DATE = "20261123T071234Z";

/** What node:http hands the server: lowercased names, string values. */
function received(headers: OutgoingHttpHeaders | Record<string, string>): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = String(value);
  }
  return out;
}

function caught(fn: () => unknown): AwsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AwsError) return error;
    throw error;
  }
  throw new Error("expected an AwsError");
}

function expectAwsError(fn: () => unknown, code: string, message: string): void {
  const error = caught(fn);
  expect({ code: error.code, message: error.message }).toEqual({ code, message });
}

// Signed once with botocore 1.43.11 (SigV4Auth.add_auth, clock fixed at 2026-11-23T07:12:34Z); pasted, not
// recomputed. botocore signs every header it sends except User-Agent and a few others, so these sign
// amz-sdk-*, x-amz-security-token and a custom header where SDK v3 would sign a different set.
const BOTOCORE_SECRETS = new Map([
  ["AKIDBOTOCOREVECTOR01", "botocore/secret+Key/EXAMPLE0000000000000000"],
  ["AKIDBOTOCOREVECTOR02", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"],
]);

const BOTOCORE_KMS: SignedRequest = {
  method: "POST",
  url: "/",
  headers: {
    host: "127.0.0.1:4599",
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "TrentService.Encrypt",
    "user-agent": "Boto3/1.40.0 md/Botocore#1.43.11 ua/2.1 os/linux",
    "amz-sdk-invocation-id": "3f2e1d0c-0000-4000-8000-000000000001",
    "amz-sdk-request": "attempt=1",
    "x-amz-date": "20261123T071234Z",
    "x-amz-security-token": "FQoGZXIvYXdzEXAMPLETOKEN//session==",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDBOTOCOREVECTOR01/20261123/us-west-2/kms/aws4_request, " +
      "SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, " +
      "Signature=5f0f547f8da4197b148ca5b712281af41b50e64dc6cdf10c1d74b9d506f128e5",
    "content-length": "49",
  },
  body: Buffer.from('{"KeyId": "alias/böto", "Plaintext": "aGVsbG8="}', "utf8"),
};

// A query string (repeated, empty, escaped and non-ASCII names) and a value with inner whitespace runs.
const BOTOCORE_QUERY_AND_SPACES: SignedRequest = {
  method: "POST",
  url: "/?b=2&a=x%20y&a=1&c=&%C3%A9=%2F~",
  headers: {
    host: "localhost:4599",
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "secretsmanager.GetSecretValue",
    "x-custom-spaces": "a   b \t c",
    "x-amz-date": "20261123T071234Z",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDBOTOCOREVECTOR02/20261123/eu-central-1/secretsmanager/aws4_request, " +
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-custom-spaces, " +
      "Signature=4727a159ce889b0cb692dc76f9b8cff34eb1b3a1fcddcd81dc1b757e5da9be50",
    "content-length": "23",
  },
  body: Buffer.from('{"SecretId": "prod/db"}'),
};

// botocore given a Date header drops X-Amz-Date and sends formatdate(): the signature covers the ISO form.
const BOTOCORE_DATE_HEADER: SignedRequest = {
  method: "POST",
  url: "/",
  headers: {
    host: "localhost:4599",
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "secretsmanager.ListSecrets",
    date: "Mon, 23 Nov 2026 07:12:34 -0000",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDBOTOCOREVECTOR02/20261123/eu-central-1/secretsmanager/aws4_request, " +
      "SignedHeaders=content-type;date;host;x-amz-target, " +
      "Signature=d153a4dc791977b612d08d58208cdd852a863c4450ab251dd6ca3f0498f3e637",
    "content-length": "2",
  },
  body: Buffer.from("{}"),
};

function signWithAws4(
  options: {
    service?: SigningName;
    body?: string;
    amzDate?: string;
    secret?: string;
    sessionToken?: string;
    /** Sent but left out of SignedHeaders (lowercase names). */
    unsigned?: readonly string[];
    headers?: Record<string, string>;
  } = {},
): SignedRequest {
  const body = options.body ?? '{"KeyId":"alias/aws4"}';
  const signed = aws4.sign(
    {
      host: "localhost:4599",
      method: "POST",
      path: "/",
      service: options.service ?? "kms",
      region: "us-east-1",
      body,
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": options.service === "secretsmanager" ? "secretsmanager.ListSecrets" : "TrentService.DescribeKey",
        "X-Amz-Date": options.amzDate ?? AMZ_DATE,
        ...options.headers,
      },
      // aws4's option, missing from its typings.
      ...{ extraHeadersToIgnore: Object.fromEntries((options.unsigned ?? []).map((name) => [name, true])) },
    },
    {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: options.secret ?? SECRET,
      ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    },
  );
  return { method: "POST", url: "/", headers: received(signed.headers ?? {}), body: Buffer.from(body) };
}

async function signWithSdkV3(service: SigningName, body: string): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    region: "eu-west-1",
    service,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4599,
      path: "/",
      query: {},
      headers: {
        host: "127.0.0.1:4599",
        "content-type": "application/x-amz-json-1.1",
        "content-length": String(Buffer.byteLength(body)),
        "x-amz-target": service === "kms" ? "TrentService.ListKeys" : "secretsmanager.ListSecrets",
        "x-amz-user-agent": "aws-sdk-js/3.1164.0",
        "user-agent": "aws-sdk-js/3.1164.0 ua/2.1 os/linux lang/js md/nodejs#20",
        "amz-sdk-invocation-id": "6b0e2d51-1a52-4b36-9f0e-3b0f7c7b0c11",
        "amz-sdk-request": "attempt=1; max=3",
      },
      body,
    },
    { signingDate: SIGNED_AT },
  );
  return { method: "POST", url: "/", headers: received(signed.headers), body: Buffer.from(body) };
}

const withHeaders = (request: SignedRequest, changes: IncomingHttpHeaders): SignedRequest => ({
  ...request,
  headers: { ...request.headers, ...changes },
});

describe("parseAuthorization", () => {
  it("reads access key, scope, signed headers, signature, date and session token from a botocore header", () => {
    expect(parseAuthorization(BOTOCORE_KMS.headers)).toEqual({
      credential: { accessKeyId: "AKIDBOTOCOREVECTOR01", date: "20261123", region: "us-west-2", service: "kms" },
      signedHeaders: [
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
      ],
      signature: "5f0f547f8da4197b148ca5b712281af41b50e64dc6cdf10c1d74b9d506f128e5",
      amzDate: "20261123T071234Z",
      securityToken: "FQoGZXIvYXdzEXAMPLETOKEN//session==",
    });
  });

  it("leaves the security token undefined when none is sent", () => {
    expect(parseAuthorization(BOTOCORE_QUERY_AND_SPACES.headers).securityToken).toBeUndefined();
  });

  it("answers a missing or empty header with MissingAuthenticationTokenException", () => {
    const message = "Request is missing Authentication Token";
    expectAwsError(() => parseAuthorization({ "x-amz-date": AMZ_DATE }), "MissingAuthenticationTokenException", message);
    expectAwsError(() => parseAuthorization({ authorization: "" }), "MissingAuthenticationTokenException", message);
  });

  it.each([
    ["SigV2", "AWS AKIDEXAMPLE:qaNdqGsI6bq4Hi+9Gzovwyjbh0E="],
    ["a bearer token", "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.sig"],
    ["SigV4a", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20261123/kms/aws4_request, SignedHeaders=host, Signature=00"],
    ["a lowercase algorithm", "aws4-hmac-sha256 Credential=AKID/20261123/us-east-1/kms/aws4_request"],
  ])("treats %s as no authentication at all", (_, authorization) => {
    expectAwsError(
      () => parseAuthorization({ authorization, "x-amz-date": AMZ_DATE }),
      "MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
    );
  });

  it("names a parameter without '=' and echoes the header", () => {
    const authorization =
      "AWS4-HMAC-SHA256 Credential= AKID/20261123/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=ab";
    expectAwsError(
      () => parseAuthorization({ authorization, "x-amz-date": AMZ_DATE }),
      "IncompleteSignatureException",
      `'AKID/20261123/us-east-1/kms/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
    );
  });

  it("lists every missing parameter and the missing date in one message", () => {
    expectAwsError(
      () => parseAuthorization({ authorization: "AWS4-HMAC-SHA256" }),
      "IncompleteSignatureException",
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
        "Authorization header requires 'SignedHeaders' parameter. " +
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
        "Authorization=AWS4-HMAC-SHA256",
    );
  });

  it("reports only what is missing", () => {
    const authorization = "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kms/aws4_request, SignedHeaders=host";
    expectAwsError(
      () => parseAuthorization({ authorization, "x-amz-date": AMZ_DATE }),
      "IncompleteSignatureException",
      `Authorization header requires 'Signature' parameter. Authorization=${authorization}`,
    );
    const { date: _date, "x-amz-date": _amzDate, ...undated } = BOTOCORE_KMS.headers;
    expectAwsError(
      () => parseAuthorization(undated),
      "IncompleteSignatureException",
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${BOTOCORE_KMS.headers.authorization}`,
    );
  });

  it.each(["2026-11-23T07:12:34Z", "20261123T071234", "20261323T071234Z", "20260431T000000Z", "20261123T250000Z"])(
    "rejects X-Amz-Date %s as not ISO-8601 basic format",
    (amzDate) => {
      expectAwsError(
        () => parseAuthorization(withHeaders(BOTOCORE_KMS, { "x-amz-date": amzDate }).headers),
        "IncompleteSignatureException",
        `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      );
    },
  );

  it("takes the date from X-Amz-Date first, else from Date in ISO or HTTP-date form", () => {
    const { "x-amz-date": _, ...headers } = BOTOCORE_KMS.headers;
    expect(parseAuthorization({ ...headers, date: "Mon, 23 Nov 2026 07:12:34 GMT" }).amzDate).toBe(AMZ_DATE);
    expect(parseAuthorization({ ...headers, date: "Mon, 23 Nov 2026 08:12:34 +0100" }).amzDate).toBe(AMZ_DATE);
    expect(parseAuthorization({ ...headers, date: AMZ_DATE }).amzDate).toBe(AMZ_DATE);
    expect(parseAuthorization({ ...BOTOCORE_KMS.headers, date: "Tue, 01 Jan 2030 00:00:00 GMT" }).amzDate).toBe(AMZ_DATE);
    expectAwsError(
      () => parseAuthorization({ ...headers, date: "Monday, 23-Nov-26 07:12:34 GMT" }),
      "IncompleteSignatureException",
      "Date must be in ISO-8601 'basic format'. Got 'Monday, 23-Nov-26 07:12:34 GMT'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
  });

  it("requires five slash-delimited credential elements, ignoring trailing slashes", () => {
    const header = (credential: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-amz-date, Signature=ab`,
      "x-amz-date": AMZ_DATE,
    });
    expectAwsError(
      () => parseAuthorization(header("AKID/20261123/us-east-1/kms")),
      "IncompleteSignatureException",
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20261123/us-east-1/kms'",
    );
    expectAwsError(
      () => parseAuthorization(header("AK/ID/20261123/us-east-1/kms/aws4_request")),
      "IncompleteSignatureException",
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AK/ID/20261123/us-east-1/kms/aws4_request'",
    );
    expect(parseAuthorization(header("AKID/20261123/us-east-1/kms/aws4_request//")).credential.service).toBe("kms");
  });

  it("reports every credential-scope fault in one InvalidSignatureException, in AWS's order", () => {
    const headers = {
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKID/20261122/US_EAST/sts/aws5_request, SignedHeaders=host;x-amz-date, Signature=ab",
      "x-amz-date": AMZ_DATE,
    };
    const tail =
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. " +
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
      "'20261122' != '20261123', from '20261123T071234Z'.";
    expectAwsError(
      () => parseAuthorization(headers),
      "InvalidSignatureException",
      `Credential should be scoped to a valid region, not 'US_EAST'. ${tail}`,
    );
    expectAwsError(
      () => parseAuthorization(headers, "kms"),
      "InvalidSignatureException",
      `Credential should be scoped to a valid region, not 'US_EAST'. Credential should be scoped to correct service: 'kms'. ${tail}`,
    );
  });

  it("reports a wrong service alone when asked to check it", () => {
    expectAwsError(
      () => parseAuthorization(BOTOCORE_KMS.headers, "secretsmanager"),
      "InvalidSignatureException",
      "Credential should be scoped to correct service: 'secretsmanager'. ",
    );
    expect(parseAuthorization(BOTOCORE_KMS.headers, "kms").credential.service).toBe("kms");
  });
});

describe("SignatureVerifier", () => {
  const verifier = new SignatureVerifier(new Map([[ACCESS_KEY_ID, SECRET], ...BOTOCORE_SECRETS]));
  const verify = (request: SignedRequest, service: SigningName = "kms", now: Date = SIGNED_AT): void =>
    verifier.verify(parseAuthorization(request.headers), request, service, now);
  const MISMATCH =
    "The request signature we calculated does not match the signature you provided. " +
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

  describe("accepts", () => {
    it("a request signed by the aws4 package", () => {
      const request = signWithAws4();
      expect(() => verify(request)).not.toThrow();
      expect(() => verify(signWithAws4({ service: "secretsmanager" }), "secretsmanager")).not.toThrow();
    });

    it("a request signed with a session token, which is recorded and not checked", () => {
      const request = signWithAws4({ sessionToken: "any-token" });
      expect(parseAuthorization(request.headers).securityToken).toBe("any-token");
      expect(() => verify(request)).not.toThrow();
    });

    it.each<SigningName>(["kms", "secretsmanager"])("a request signed by the SDK v3 signer for %s", async (service) => {
      const request = await signWithSdkV3(service, '{"Limit":10}');
      // SDK v3 signs its amz-sdk-* headers but not user-agent; the verifier must follow the client's list.
      expect(parseAuthorization(request.headers).signedHeaders).toEqual([
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "content-length",
        "content-type",
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-target",
        "x-amz-user-agent",
      ]);
      expect(() => verify(request, service)).not.toThrow();
    });

    it("botocore's signature over its own header set, session token included", () => {
      expect(() => verify(BOTOCORE_KMS)).not.toThrow();
    });

    it("botocore's signature over a sorted, re-encoded query string and collapsed header whitespace", () => {
      expect(() => verify(BOTOCORE_QUERY_AND_SPACES, "secretsmanager")).not.toThrow();
    });

    it("botocore's signature dated by an HTTP-date Date header", () => {
      expect(() => verify(BOTOCORE_DATE_HEADER, "secretsmanager")).not.toThrow();
    });

    it("a change to a header the client did not sign", () => {
      expect(() => verify(withHeaders(BOTOCORE_KMS, { "user-agent": "curl/8.0" }))).not.toThrow();
    });

    it("an unsigned Content-Type, session token or x-amz-content-sha256, which AWS's JSON services take unsigned", () => {
      const request = signWithAws4({
        sessionToken: "any-token",
        body: "{}",
        headers: {
          "X-Amz-Content-Sha256": createHash("sha256").update("{}").digest("hex"),
          "X-Amzn-Trace-Id": "Root=1-00000000-000000000000000000000000",
        },
        unsigned: ["content-length", "content-type", "x-amz-security-token", "x-amz-content-sha256"],
      });
      expect(parseAuthorization(request.headers).signedHeaders).toEqual(["host", "x-amz-date", "x-amz-target"]);
      expect(() => verify(request)).not.toThrow();
    });
  });

  describe("rejects", () => {
    it("a tampered body", () => {
      const request = signWithAws4();
      expectAwsError(
        () => verify({ ...request, body: Buffer.from('{"KeyId":"alias/other"}') }),
        "InvalidSignatureException",
        MISMATCH,
      );
      expectAwsError(
        () => verify({ ...BOTOCORE_KMS, body: Buffer.from('{"KeyId": "alias/boto", "Plaintext": "aGVsbG8="}') }),
        "InvalidSignatureException",
        MISMATCH,
      );
    });

    it("a tampered signed header", () => {
      expectAwsError(
        () => verify(withHeaders(BOTOCORE_KMS, { "x-amz-target": "TrentService.Decrypt" })),
        "InvalidSignatureException",
        MISMATCH,
      );
      expectAwsError(
        () => verify(withHeaders(BOTOCORE_KMS, { "amz-sdk-request": "attempt=2" })),
        "InvalidSignatureException",
        MISMATCH,
      );
    });

    it("a tampered query string", () => {
      expectAwsError(
        () => verify({ ...BOTOCORE_QUERY_AND_SPACES, url: "/?b=2&a=x%20y&a=1&c=" }, "secretsmanager"),
        "InvalidSignatureException",
        MISMATCH,
      );
    });

    it("a signature made with another secret", () => {
      expectAwsError(() => verify(signWithAws4({ secret: `${SECRET}x` })), "InvalidSignatureException", MISMATCH);
    });

    it("a signature that is not 64 lowercase hex digits, even the right one in capitals", () => {
      const request = signWithAws4();
      const authorization = String(request.headers.authorization);
      const right = authorization.slice(-64);
      for (const signature of ["zz".repeat(32), "ab", `${right}00`, right.toUpperCase()]) {
        const forged = withHeaders(request, { authorization: authorization.replace(/Signature=.*$/, `Signature=${signature}`) });
        expectAwsError(() => verify(forged), "InvalidSignatureException", MISMATCH);
      }
    });

    it("an access key it does not know", () => {
      expectAwsError(
        () => new SignatureVerifier(new Map()).verify(parseAuthorization(BOTOCORE_KMS.headers), BOTOCORE_KMS, "kms", SIGNED_AT),
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    });

    it("a credential scoped to the other service", () => {
      expectAwsError(
        () => verify(signWithAws4({ service: "secretsmanager" }), "kms"),
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'kms'. ",
      );
      expectAwsError(
        () => verify(BOTOCORE_KMS, "secretsmanager"),
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'secretsmanager'. ",
      );
    });

    it("a signature over only host and x-amz-date, whatever X-Amz-Target and Content-Type come with it", () => {
      // Signed for DescribeKey; unsigned, the target could be swapped for any operation with the same body.
      const request = signWithAws4({ unsigned: ["content-length", "content-type", "x-amz-target"] });
      expect(parseAuthorization(request.headers).signedHeaders).toEqual(["host", "x-amz-date"]);
      for (const target of ["TrentService.DescribeKey", "TrentService.ScheduleKeyDeletion"]) {
        expectAwsError(
          () => verify(withHeaders(request, { "x-amz-target": target })),
          "InvalidSignatureException",
          "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.",
        );
      }
    });

    it("any other x-amz-* header sent but not signed, x-amz-date included", () => {
      expectAwsError(
        () => verify(signWithAws4({ unsigned: ["x-amz-date"] })),
        "InvalidSignatureException",
        "'x-amz-date' must be a 'SignedHeader' in the AWS Authorization.",
      );
      expectAwsError(
        () => verify(withHeaders(BOTOCORE_KMS, { "x-amz-expected-bucket-owner": "000000000000" })),
        "InvalidSignatureException",
        "'x-amz-expected-bucket-owner' must be a 'SignedHeader' in the AWS Authorization.",
      );
    });

    it("a signature that does not cover host", () => {
      const headers = {
        ...BOTOCORE_KMS.headers,
        authorization: String(BOTOCORE_KMS.headers.authorization).replace(";host;", ";"),
      };
      expectAwsError(
        () => verify({ ...BOTOCORE_KMS, headers }),
        "InvalidSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      );
    });
  });

  describe("clock", () => {
    it("accepts a signature up to five minutes old or early, to the second", () => {
      expect(() => verify(BOTOCORE_KMS, "kms", new Date("2026-11-23T07:17:34.999Z"))).not.toThrow();
      expect(() => verify(BOTOCORE_KMS, "kms", new Date("2026-11-23T07:07:34Z"))).not.toThrow();
    });

    it("rejects an expired signature in AWS's words", () => {
      expectAwsError(
        () => verify(signWithAws4({ amzDate: "20261123T060000Z" }), "kms", new Date("2026-11-23T07:17:34.250Z")),
        "InvalidSignatureException",
        "Signature expired: 20261123T060000Z is now earlier than 20261123T071234Z (20261123T071734Z - 5 min.)",
      );
      expectAwsError(
        () => verify(BOTOCORE_QUERY_AND_SPACES, "secretsmanager", new Date("2026-11-23T07:17:35Z")),
        "InvalidSignatureException",
        "Signature expired: 20261123T071234Z is now earlier than 20261123T071235Z (20261123T071735Z - 5 min.)",
      );
    });

    it("rejects a signature from the future in AWS's words", () => {
      expectAwsError(
        () => verify(BOTOCORE_KMS, "kms", new Date("2026-11-23T07:07:33Z")),
        "InvalidSignatureException",
        "Signature not yet current: 20261123T071234Z is still later than 20261123T071233Z (20261123T070733Z + 5 min.)",
      );
    });

    it("checks the clock before the signature, as AWS does", () => {
      expectAwsError(
        () => verify(signWithAws4({ secret: "wrong" }), "kms", new Date("2026-11-24T00:00:00Z")),
        "InvalidSignatureException",
        "Signature expired: 20261123T071234Z is now earlier than 20261123T235500Z (20261124T000000Z - 5 min.)",
      );
    });
  });

  describe("signing key cache", () => {
    // A derivation starts with an HMAC keyed by "AWS4" + secret; counting those counts derivations. The
    // signers use HMAC too, so requests are signed before counting starts.
    const crypto = jest.requireActual<typeof import("node:crypto")>("node:crypto");
    function derivations(run: () => void): number {
      const spy = jest.spyOn(crypto, "createHmac");
      try {
        run();
        return spy.mock.calls.filter(([, key]) => typeof key === "string" && key.startsWith("AWS4")).length;
      } finally {
        spy.mockRestore();
      }
    }

    it("derives a key once per secret, day, region and service", async () => {
      const cached = new SignatureVerifier(new Map([[ACCESS_KEY_ID, SECRET]]));
      const check = (request: SignedRequest, service: SigningName = "kms") =>
        cached.verify(parseAuthorization(request.headers), request, service, SIGNED_AT);
      const kms = signWithAws4();
      const otherBody = signWithAws4({ body: '{"KeyId":"alias/another"}' });
      const secretsManager = signWithAws4({ service: "secretsmanager" });
      const euWest1 = await signWithSdkV3("kms", "{}");

      expect(derivations(() => [kms, kms, otherBody].forEach((request) => check(request)))).toBe(1);
      expect(derivations(() => check(kms))).toBe(0);
      expect(derivations(() => check(secretsManager, "secretsmanager"))).toBe(1);
      expect(derivations(() => check(euWest1))).toBe(1);
      expect(
        derivations(() => {
          check(kms);
          check(secretsManager, "secretsmanager");
          check(euWest1);
        }),
      ).toBe(0);
    });

    it("stays within its bound, evicting the oldest key", async () => {
      const bounded = new SignatureVerifier(new Map([[ACCESS_KEY_ID, SECRET]]), { signingKeyCacheSize: 1 });
      const check = (request: SignedRequest) => bounded.verify(parseAuthorization(request.headers), request, "kms", SIGNED_AT);
      const usEast1 = signWithAws4();
      const euWest1 = await signWithSdkV3("kms", "{}");

      expect(derivations(() => [usEast1, usEast1, euWest1, usEast1].forEach(check))).toBe(3);
    });
  });
});

describe("SignatureVerifier behind node:http, called by the SDK v3 clients", () => {
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    const verifier = new SignatureVerifier(new Map([[ACCESS_KEY_ID, SECRET]]));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const kms = String(req.headers["x-amz-target"]).startsWith("TrentService.");
        const service: SigningName = kms ? "kms" : "secretsmanager";
        res.setHeader("content-type", "application/x-amz-json-1.1");
        try {
          const auth = parseAuthorization(req.headers, service);
          verifier.verify(auth, { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks) }, service, new Date());
          res.end(JSON.stringify(kms ? { Keys: [], Truncated: false } : { SecretList: [] }));
        } catch (error) {
          const { code, message } = error as AwsError;
          res.writeHead(400, { "x-amzn-errortype": code });
          res.end(JSON.stringify({ __type: code, message }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  const config = (secretAccessKey: string) => ({
    endpoint,
    region: "ap-southeast-2",
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey, sessionToken: "session" },
    maxAttempts: 1,
  });

  it("verifies what KMSClient and SecretsManagerClient actually send", async () => {
    await expect(new KMSClient(config(SECRET)).send(new ListKeysCommand({ Limit: 5 }))).resolves.toMatchObject({
      Keys: [],
    });
    await expect(new SecretsManagerClient(config(SECRET)).send(new ListSecretsCommand({}))).resolves.toMatchObject({
      SecretList: [],
    });
  });

  it("refuses a client holding the wrong secret", async () => {
    await expect(new KMSClient(config("not-the-secret")).send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: "InvalidSignatureException",
      message: expect.stringContaining("does not match the signature you provided"),
    });
  });
});

describe("loadCredentialsFile", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "secretslite-credentials-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("reads every profile's key pair, skipping comments and keyless profiles", () => {
    const path = file(
      "credentials",
      [
        "\uFEFF# written by aws configure",
        "[default]",
        "aws_access_key_id = AKIDDEFAULT",
        "aws_secret_access_key = default/secret+key",
        "",
        "; a role profile holds no keys",
        "[sso-dev]",
        "sso_session = dev",
        "",
        "[ci]\r",
        "AWS_ACCESS_KEY_ID=AKIDCI   # rotated 2026-11\r",
        "aws_secret_access_key=ci-secret\r",
        "aws_session_token = ignored\r",
        "s3 =",
        "  max_concurrent_requests = 20",
      ].join("\n"),
    );
    expect(loadCredentialsFile(path)).toEqual(
      new Map([
        ["AKIDDEFAULT", "default/secret+key"],
        ["AKIDCI", "ci-secret"],
      ]),
    );
  });

  it("names the file it cannot read", () => {
    const path = join(dir, "absent");
    expect(() => loadCredentialsFile(path)).toThrow(`Cannot read AWS credentials file '${path}': ENOENT`);
  });

  it.each([
    ["empty", ""],
    ["comments only", "# nothing\n; here\n"],
    ["keyless", "[default]\nregion = us-east-1\n"],
  ])("refuses a file that is %s", (name, text) => {
    const path = file(name, text);
    expect(() => loadCredentialsFile(path)).toThrow(
      `AWS credentials file '${path}' holds no profile with both aws_access_key_id and aws_secret_access_key`,
    );
  });

  it("refuses a half-configured profile, a conflicting key and a broken line", () => {
    const half = file("half", "[default]\naws_access_key_id = AKID\n[other]\naws_access_key_id = B\naws_secret_access_key = s\n");
    expect(() => loadCredentialsFile(half)).toThrow("profile [default] has aws_access_key_id but no aws_secret_access_key");
    const twice = file("twice", "[a]\naws_access_key_id=K\naws_secret_access_key=1\n[b]\naws_access_key_id=K\naws_secret_access_key=2\n");
    expect(() => loadCredentialsFile(twice)).toThrow("access key K appears with two different secrets");
    const broken = file("broken", "[default]\naws_access_key_id AKID\n");
    expect(() => loadCredentialsFile(broken)).toThrow(`AWS credentials file '${broken}', line 2: expected 'name = value'`);
  });
});

describe("signOutgoing", () => {
  it("signs a Lambda Invoke exactly as @smithy/signature-v4 does", async () => {
    const url = new URL("http://127.0.0.1:4566/2015-03-31/functions/rotate-db/invocations?Qualifier=live");
    const body = JSON.stringify({ Step: "createSecret", SecretId: "app/db", ClientRequestToken: "token" });
    const headers = signOutgoing("POST", url, body, { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, region: "eu-west-1", service: "lambda" }, SIGNED_AT);
    expect(headers["X-Amz-Date"]).toBe(AMZ_DATE);

    const smithy = new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET }, region: "eu-west-1", service: "lambda", sha256: Sha256, uriEscapePath: false });
    const signed = await smithy.sign(
      {
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 4566,
        path: url.pathname,
        query: { Qualifier: "live" },
        headers: { host: url.host },
        body,
      },
      // Smithy signs an x-amz-content-sha256 header unless told not to; secretslite sends none (Lambda needs none).
      { signingDate: SIGNED_AT, unsignableHeaders: new Set(["x-amz-content-sha256"]) },
    );
    expect(signed.headers["authorization"]).toBe(headers["Authorization"]);
  });
});
