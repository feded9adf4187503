// --audit-log: CloudTrail-shaped events for every call, Secrets Manager's own KMS calls and per-secret batch reads,
// ids that GetKeyLastUsage reports, and no secret material in the audit file or the (debug) process logs.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyLastUsageCommand,
  KMSClient,
} from "@aws-sdk/client-kms";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { parseConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startSecretslite } from "../../src/main";
import { ACCOUNT, credentials, REGION } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

type TrailEvent = Record<string, unknown> & {
  userIdentity: Record<string, unknown>;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  resources?: Array<Record<string, unknown>>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SM = "secretsmanager.amazonaws.com";

/** Everything one run produced: the calls' request ids and results, the known secrets, the files' bytes. */
interface Run {
  readonly events: TrailEvent[];
  readonly auditBytes: Buffer;
  readonly logBytes: Buffer;
  readonly logLines: Array<Record<string, unknown>>;
  readonly ids: Record<string, string>;
  readonly keyArn: string;
  readonly managedKeyArn: string;
  readonly secretArn: string;
  readonly secretVersions: string[];
  readonly binaryVersion: string;
  readonly customerKeyLastUsage: string;
  readonly managedKeyLastUsage: string;
  readonly customerKeyEventId: string;
  readonly managedKeyEventId: string;
  /** Bytes that must never be written: plaintexts, secret values, the password, the data key; raw and base64. */
  readonly secrets: Array<{ readonly what: string; readonly bytes: Buffer }>;
}

let run: Run;

beforeAll(async () => {
  const token = await testSoftHsm();
  const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-audit-"));
  const auditFile = path.join(dir, "audit.jsonl");
  const logged: string[] = [];
  const config = parseConfig(
    ["--port", "0", "--in-memory", "--token-label", token.tokenLabel, `--pin=${token.pin}`, "--log-level", "debug", "--audit-log", auditFile],
    {},
  );
  if (config === undefined) throw new Error("unreachable: no --help given");
  const server = await startSecretslite(config, { logger: createLogger("debug", (line) => logged.push(line)) });
  const clientConfig = { endpoint: server.url, region: REGION, credentials, maxAttempts: 1 };
  const kms = new KMSClient(clientConfig);
  const sm = new SecretsManagerClient(clientConfig);
  const ids: Record<string, string> = {};
  const id = (name: string, response: { $metadata: { requestId?: string } }): void => {
    ids[name] = response.$metadata.requestId ?? "";
  };

  try {
    const plaintext = Buffer.from(`kms-plaintext-${randomBytes(12).toString("hex")}`);
    const stringValue = `{"password":"sm-string-${randomBytes(12).toString("hex")}"}`;
    const putValue = `sm-put-${randomBytes(12).toString("hex")}`;
    const binaryValue = randomBytes(40);

    const created = await kms.send(new CreateKeyCommand({ Description: "audited" }));
    id("CreateKey", created);
    const keyArn = created.KeyMetadata!.Arn!;
    const encrypted = await kms.send(new EncryptCommand({ KeyId: created.KeyMetadata!.KeyId, Plaintext: plaintext, EncryptionContext: { purpose: "audit" } }));
    id("Encrypt", encrypted);
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: "audit" } }));
    id("Decrypt", decrypted);
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
    const wrongContext = await kms
      .send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: "other" } }))
      .catch((error: { $metadata: { requestId?: string } }) => error);
    id("FailedDecrypt", wrongContext as { $metadata: { requestId?: string } });
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
    id("GenerateDataKey", dataKey);

    const secret = await sm.send(new CreateSecretCommand({ Name: "audit/app", SecretString: stringValue }));
    id("CreateSecret", secret);
    const binary = await sm.send(new CreateSecretCommand({ Name: "audit/binary", SecretBinary: binaryValue }));
    id("CreateBinarySecret", binary);
    id("GetSecretValue", await sm.send(new GetSecretValueCommand({ SecretId: "audit/app" })));
    const put = await sm.send(new PutSecretValueCommand({ SecretId: "audit/app", SecretString: putValue }));
    id("PutSecretValue", put);
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["audit/app", "audit/binary", "audit/missing"] }));
    id("BatchGetSecretValue", batch);
    expect(batch.SecretValues).toHaveLength(2);
    expect(batch.Errors?.map((error) => error.ErrorCode)).toEqual(["ResourceNotFoundException"]);
    const password = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40 }));
    id("GetRandomPassword", password);
    const missing = await sm.send(new GetSecretValueCommand({ SecretId: "audit/missing" })).catch((error: { $metadata: { requestId?: string } }) => error);
    id("FailedGetSecretValue", missing as { $metadata: { requestId?: string } });

    const managed = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }))).KeyMetadata!;
    const customerUsage = await kms.send(new GetKeyLastUsageCommand({ KeyId: keyArn }));
    const managedUsage = await kms.send(new GetKeyLastUsageCommand({ KeyId: managed.Arn }));

    await server.close();
    kms.destroy();
    sm.destroy();
    const auditBytes = readFileSync(auditFile);
    const logBytes = Buffer.from(logged.join(""));
    const known = (what: string, bytes: Buffer | Uint8Array): Array<{ what: string; bytes: Buffer }> => [
      { what, bytes: Buffer.from(bytes) },
      { what: `${what} (base64)`, bytes: Buffer.from(Buffer.from(bytes).toString("base64")) },
    ];
    run = {
      events: auditBytes.toString("utf8").trim().split("\n").map((line) => JSON.parse(line) as TrailEvent),
      auditBytes,
      logBytes,
      logLines: logged.map((line) => JSON.parse(line) as Record<string, unknown>),
      ids,
      keyArn,
      managedKeyArn: managed.Arn!,
      secretArn: secret.ARN!,
      secretVersions: [secret.VersionId!, put.VersionId!],
      binaryVersion: binary.VersionId!,
      customerKeyLastUsage: customerUsage.KeyLastUsage?.KmsRequestId ?? "",
      managedKeyLastUsage: managedUsage.KeyLastUsage?.KmsRequestId ?? "",
      customerKeyEventId: customerUsage.KeyLastUsage?.CloudTrailEventId ?? "",
      managedKeyEventId: managedUsage.KeyLastUsage?.CloudTrailEventId ?? "",
      secrets: [
        ...known("Encrypt plaintext", plaintext),
        ...known("SecretString", Buffer.from(stringValue)),
        ...known("the password inside SecretString", Buffer.from(JSON.parse(stringValue).password as string)),
        ...known("PutSecretValue SecretString", Buffer.from(putValue)),
        ...known("SecretBinary", binaryValue),
        ...known("GetRandomPassword password", Buffer.from(password.RandomPassword!)),
        ...known("GenerateDataKey data key", dataKey.Plaintext!),
      ],
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const byRequest = (requestId: string): TrailEvent[] => run.events.filter((event) => event.requestID === requestId);
const only = (events: TrailEvent[]): TrailEvent => {
  expect(events).toHaveLength(1);
  return events[0]!;
};
const invokedBySm = (): TrailEvent[] => run.events.filter((event) => event.userIdentity.invokedBy === SM);

describe("the audit file", () => {
  it("holds one CloudTrail-shaped event per call, with the caller's identity, region and account", () => {
    const eventIds = new Set<unknown>();
    for (const event of run.events) {
      expect(event).toMatchObject({
        eventVersion: "1.11",
        awsRegion: REGION,
        recipientAccountId: ACCOUNT,
        eventType: "AwsApiCall",
        managementEvent: true,
        eventCategory: "Management",
      });
      expect(event.userIdentity).toMatchObject({
        type: "IAMUser",
        principalId: credentials.accessKeyId,
        arn: `arn:aws:iam::${ACCOUNT}:user/${credentials.accessKeyId}`,
        accountId: ACCOUNT,
        accessKeyId: credentials.accessKeyId,
      });
      expect([SM, "kms.amazonaws.com"]).toContain(event.eventSource);
      expect(event.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(event.requestID).toMatch(UUID);
      expect(event.eventID).toMatch(UUID);
      expect(typeof event.readOnly).toBe("boolean");
      expect(event).toHaveProperty("requestParameters");
      expect(event).toHaveProperty("responseElements");
      eventIds.add(event.eventID);
    }
    expect(eventIds.size).toBe(run.events.length);

    const calls: Array<[string, string, string]> = [
      ["CreateKey", "kms.amazonaws.com", "CreateKey"],
      ["Encrypt", "kms.amazonaws.com", "Encrypt"],
      ["Decrypt", "kms.amazonaws.com", "Decrypt"],
      ["GenerateDataKey", "kms.amazonaws.com", "GenerateDataKey"],
      ["CreateSecret", SM, "CreateSecret"],
      ["GetSecretValue", SM, "GetSecretValue"],
      ["PutSecretValue", SM, "PutSecretValue"],
      ["GetRandomPassword", SM, "GetRandomPassword"],
    ];
    for (const [call, source, name] of calls) {
      const event = only(byRequest(run.ids[call]!).filter((candidate) => candidate.userIdentity.invokedBy === undefined));
      expect(event).toMatchObject({ eventSource: source, eventName: name, sourceIPAddress: "127.0.0.1" });
      expect(event.userAgent).toMatch(/aws-sdk-js/);
      expect(event).not.toHaveProperty("errorCode");
    }
  });

  it("shows KMS requests as CloudTrail does: key id and encryption context, the key as a resource, no response", () => {
    const encrypt = only(byRequest(run.ids.Encrypt!));
    expect(encrypt.requestParameters).toEqual({ keyId: expect.stringMatching(UUID), encryptionContext: { purpose: "audit" } });
    expect(encrypt.responseElements).toBeNull();
    expect(encrypt.readOnly).toBe(true);
    expect(encrypt.resources).toEqual([{ accountId: ACCOUNT, type: "AWS::KMS::Key", ARN: run.keyArn }]);

    const decrypt = only(byRequest(run.ids.Decrypt!));
    // The ciphertext blob is never shown, only what identifies the call.
    expect(decrypt.requestParameters).toEqual({ encryptionContext: { purpose: "audit" } });
    expect(decrypt.resources).toEqual([{ accountId: ACCOUNT, type: "AWS::KMS::Key", ARN: run.keyArn }]);

    const generated = only(byRequest(run.ids.GenerateDataKey!));
    expect(generated.requestParameters).toEqual({ keyId: run.keyArn, keySpec: "AES_256" });
    expect(generated.responseElements).toBeNull();

    const createKey = only(byRequest(run.ids.CreateKey!));
    expect(createKey.readOnly).toBe(false);
    expect(createKey.requestParameters).toEqual({ description: "audited" });
    expect(createKey.responseElements).toMatchObject({ keyMetadata: { arn: run.keyArn, aWSAccountId: ACCOUNT, keyState: "Enabled" } });
  });

  it("shows Secrets Manager requests without their values", () => {
    const create = only(byRequest(run.ids.CreateSecret!).filter((event) => event.eventSource === SM));
    expect(create.readOnly).toBe(false);
    expect(create.requestParameters).toEqual({ name: "audit/app", clientRequestToken: run.secretVersions[0] });
    expect(create.responseElements).toMatchObject({ arn: run.secretArn, name: "audit/app", versionId: run.secretVersions[0] });

    const get = only(byRequest(run.ids.GetSecretValue!).filter((event) => event.eventSource === SM));
    expect(get.requestParameters).toEqual({ secretId: "audit/app" });
    expect(get.responseElements).toBeNull();
    expect(get.readOnly).toBe(true);

    const put = only(byRequest(run.ids.PutSecretValue!).filter((event) => event.eventSource === SM));
    expect(put.requestParameters).toEqual({ secretId: "audit/app", clientRequestToken: run.secretVersions[1] });

    const password = only(byRequest(run.ids.GetRandomPassword!));
    expect(password.requestParameters).toEqual({ passwordLength: 40 });
    expect(password.responseElements).toBeNull();
  });

  it("records the KMS calls Secrets Manager makes, invoked by secretsmanager.amazonaws.com, as requests of their own", () => {
    for (const [call, kmsOperation, versionId] of [
      ["CreateSecret", "GenerateDataKey", run.secretVersions[0]],
      ["GetSecretValue", "Decrypt", run.secretVersions[0]],
      ["PutSecretValue", "GenerateDataKey", run.secretVersions[1]],
    ] as const) {
      const smEvent = only(byRequest(run.ids[call]!));
      const kmsEvent = only(
        invokedBySm().filter(
          (event) =>
            event.eventName === kmsOperation &&
            (event.requestParameters?.encryptionContext as Record<string, string> | undefined)?.SecretVersionId === versionId,
        ),
      );
      expect(kmsEvent).toMatchObject({
        eventSource: "kms.amazonaws.com",
        sourceIPAddress: SM,
        userAgent: SM,
        readOnly: true,
        responseElements: null,
        userIdentity: { accessKeyId: credentials.accessKeyId, accountId: ACCOUNT, invokedBy: SM },
      });
      expect(kmsEvent.requestParameters?.encryptionContext).toEqual({ SecretARN: run.secretArn, SecretVersionId: versionId });
      expect(kmsEvent.resources).toEqual([{ accountId: ACCOUNT, type: "AWS::KMS::Key", ARN: run.managedKeyArn }]);
      // Its own KMS request, not the Secrets Manager one.
      expect(kmsEvent.requestID).not.toBe(smEvent.requestID);
      expect(kmsEvent.requestID).toMatch(UUID);
    }
  });

  it("records a GetSecretValue event for each secret BatchGetSecretValue asks for, failures included", () => {
    const events = byRequest(run.ids.BatchGetSecretValue!);
    const batch = only(events.filter((event) => event.eventName === "BatchGetSecretValue"));
    expect(batch.requestParameters).toEqual({ secretIdList: ["audit/app", "audit/binary", "audit/missing"] });
    expect(batch.responseElements).toBeNull();

    const perSecret = events.filter((event) => event.eventName === "GetSecretValue");
    expect(perSecret.map((event) => event.requestParameters?.secretId).sort()).toEqual(["audit/app", "audit/binary", "audit/missing"]);
    for (const event of perSecret) {
      expect(event).toMatchObject({ eventSource: SM, readOnly: true, responseElements: null, sourceIPAddress: "127.0.0.1" });
      expect(event.eventID).not.toBe(batch.eventID);
    }
    expect(perSecret.find((event) => event.requestParameters?.secretId === "audit/missing")).toMatchObject({
      errorCode: "ResourceNotFoundException",
      errorMessage: "Secrets Manager can't find the specified secret.",
    });
    expect(perSecret.filter((event) => event.errorCode !== undefined)).toHaveLength(1);
    // Each secret it read was opened by a KMS Decrypt that Secrets Manager sent, as a request of its own.
    for (const versionId of [run.secretVersions[1], run.binaryVersion]) {
      const decrypt = only(
        invokedBySm().filter(
          (event) =>
            event.eventName === "Decrypt" &&
            (event.requestParameters?.encryptionContext as Record<string, string> | undefined)?.SecretVersionId === versionId,
        ),
      );
      expect(decrypt.requestID).not.toBe(batch.requestID);
    }
  });

  it("carries errorCode and errorMessage on failed calls", () => {
    const missing = only(byRequest(run.ids.FailedGetSecretValue!));
    expect(missing).toMatchObject({
      eventName: "GetSecretValue",
      errorCode: "ResourceNotFoundException",
      errorMessage: "Secrets Manager can't find the specified secret.",
      requestParameters: { secretId: "audit/missing" },
      responseElements: null,
    });
    const decrypt = only(byRequest(run.ids.FailedDecrypt!));
    expect(decrypt).toMatchObject({ eventName: "Decrypt", errorCode: "InvalidCiphertextException", responseElements: null });
    // AWS sends this error without a message, so the event has none either.
    expect(decrypt).not.toHaveProperty("errorMessage");
  });

  it("uses as requestID the KmsRequestId that GetKeyLastUsage reports, for direct calls and Secrets Manager's", () => {
    // GetKeyLastUsage's KmsRequestId is the KMS request id, which CloudTrail records as requestID.
    expect(run.customerKeyLastUsage).toBe(run.ids.GenerateDataKey);
    expect(only(byRequest(run.customerKeyLastUsage)).eventName).toBe("GenerateDataKey");

    const managed = only(byRequest(run.managedKeyLastUsage));
    expect(managed).toMatchObject({ eventName: "Decrypt", userIdentity: { invokedBy: SM } });
  });

  it("uses as eventID the CloudTrailEventId that GetKeyLastUsage reports", () => {
    expect(only(byRequest(run.customerKeyLastUsage)).eventID).toBe(run.customerKeyEventId);
    expect(only(byRequest(run.managedKeyLastUsage)).eventID).toBe(run.managedKeyEventId);
    // Each event has its own id: the batch's per-secret events do not reuse the request's.
    expect(new Set(run.events.map((event) => event.eventID)).size).toBe(run.events.length);
  });
});

describe("secret material", () => {
  it("never reaches the audit file or the process logs", () => {
    // The searches below mean something only if both hold the calls' identifiers.
    expect(run.auditBytes.includes("audit/binary")).toBe(true);
    expect(run.logBytes.includes(run.ids.GetSecretValue!)).toBe(true);
    for (const { what, bytes } of run.secrets) {
      expect({ what, inAuditLog: run.auditBytes.includes(bytes) }).toEqual({ what, inAuditLog: false });
      expect({ what, inProcessLog: run.logBytes.includes(bytes) }).toEqual({ what, inProcessLog: false });
    }
  });
});

describe("process logs", () => {
  it("have one debug line per request with operation, status, error code and duration, and no bodies", () => {
    const requests = run.logLines.filter((line) => line.msg === "request");
    for (const line of requests) {
      expect(line).toMatchObject({ level: "debug", requestId: expect.stringMatching(UUID), status: expect.any(Number), ms: expect.any(Number) });
      expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(["operation", "requestId", "status", "ms"]));
    }
    const byId = (requestId: string) => requests.filter((line) => line.requestId === requestId);
    expect(byId(run.ids.Encrypt!)).toEqual([expect.objectContaining({ operation: "kms:Encrypt", status: 200 })]);
    expect(byId(run.ids.Encrypt!)[0]).not.toHaveProperty("code");
    expect(byId(run.ids.FailedGetSecretValue!)).toEqual([
      expect.objectContaining({ operation: "secretsmanager:GetSecretValue", status: 400, code: "ResourceNotFoundException" }),
    ]);
    // Every call of the run (and the two GetKeyLastUsage and DescribeKey after them) got exactly one line.
    expect(requests).toHaveLength(Object.keys(run.ids).length + 3);
  });
});
