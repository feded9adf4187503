// Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and GrantTokens on every operation that takes them.
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  CreateAliasCommand,
  type CreateGrantCommandInput,
  type CreateKeyCommandInput,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { AwsError } from "../../src/errors";
import { inputShapes, shapes } from "../../src/generated/kms";
import { kmsOperations } from "../../src/services/kms";
import type { KmsRequestContext, Operation } from "../../src/services/kms/context";
import { CLI_TEST_TIMEOUT_MS, CLIS, useCliServer } from "../support/aws-cli";
import { TestClock } from "../support/clock";
import { DRY_RUN, rawKms, useKmsServer } from "../support/kms";
import { ACCOUNT, REGION, startTestServer, type TestServer } from "../support/server";

const env = useKmsServer();
const GRANTEE = `arn:aws:iam::${ACCOUNT}:role/grantee`;
const RETIRER = `arn:aws:iam::${ACCOUNT}:role/retirer`;

const createKey = async (input: CreateKeyCommandInput = {}, kms: KMSClient = env.kms) => (await kms.send(new CreateKeyCommand(input))).KeyMetadata!;
const grant = (input: Partial<CreateGrantCommandInput> & { KeyId: string }, kms: KMSClient = env.kms) =>
  kms.send(new CreateGrantCommand({ GranteePrincipal: GRANTEE, Operations: ["DescribeKey"], ...input }));
const listGrants = async (KeyId: string, kms: KMSClient = env.kms) => (await kms.send(new ListGrantsCommand({ KeyId }))).Grants ?? [];
const describeWith = (KeyId: string, GrantTokens: string[], kms: KMSClient = env.kms) => kms.send(new DescribeKeyCommand({ KeyId, GrantTokens }));
const INVALID_TOKEN = { name: "InvalidGrantTokenException", message: "The request was rejected because the specified grant token is not valid." };

describe("behaviour", () => {
  it("creates a grant with a 64-hex GrantId and an opaque token, and lists it with every field", async () => {
    const key = await createKey();
    const created = await grant({
      KeyId: key.Arn!,
      RetiringPrincipal: RETIRER,
      Operations: ["Encrypt", "Decrypt", "DescribeKey"],
      Constraints: { EncryptionContextSubset: { app: "billing" } },
      Name: "billing-grant",
    });
    expect(created.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(created.GrantToken).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(await listGrants(key.KeyId!)).toEqual([
      {
        KeyId: key.Arn,
        GrantId: created.GrantId,
        Name: "billing-grant",
        CreationDate: expect.any(Date),
        GranteePrincipal: GRANTEE,
        RetiringPrincipal: RETIRER,
        IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
        Operations: ["Encrypt", "Decrypt", "DescribeKey"],
        Constraints: { EncryptionContextSubset: { app: "billing" } },
      },
    ]);
    // Key id or key ARN only (AWS's answer for an alias is quoted in boto/boto#3202).
    await env.kms.send(new CreateAliasCommand({ AliasName: "alias/granted", TargetKeyId: key.KeyId }));
    const aliasRefusal = { name: "InvalidArnException", message: "Key Aliases are not supported for this operation." };
    await expect(grant({ KeyId: "alias/granted" })).rejects.toMatchObject(aliasRefusal);
    await expect(env.kms.send(new ListGrantsCommand({ KeyId: "alias/granted" }))).rejects.toMatchObject(aliasRefusal);
    const missing = "11111111-2222-3333-4444-555555555555";
    await expect(grant({ KeyId: missing })).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`,
    });
  });

  it("allows only the operations each key type supports", async () => {
    const symmetric = await createKey();
    const rsa = await createKey({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" });
    const signing = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    const hmac = await createKey({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" });
    const agreement = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "KEY_AGREEMENT" });
    const everyKey = ["DescribeKey", "CreateGrant", "RetireGrant"] as const;
    const allowed = [
      [symmetric, ["Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo"]],
      [rsa, ["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"]],
      [signing, ["Sign", "Verify", "GetPublicKey"]],
      [hmac, ["GenerateMac", "VerifyMac"]],
      [agreement, ["DeriveSharedSecret", "GetPublicKey"]],
    ] as const;
    for (const [key, operations] of allowed) {
      const created = await grant({ KeyId: key.KeyId!, Operations: [...operations, ...everyKey] });
      expect(created.GrantId).toMatch(/^[0-9a-f]{64}$/);
    }
    const refused = [
      [symmetric, "Sign", `${symmetric.Arn} key usage is ENCRYPT_DECRYPT which is not valid for grant operation Sign.`],
      [symmetric, "GetPublicKey", `${symmetric.Arn} key spec is SYMMETRIC_DEFAULT which is not valid for grant operation GetPublicKey.`],
      [rsa, "GenerateDataKey", `${rsa.Arn} key spec is RSA_2048 which is not valid for grant operation GenerateDataKey.`],
      [rsa, "Sign", `${rsa.Arn} key usage is ENCRYPT_DECRYPT which is not valid for grant operation Sign.`],
      [signing, "Encrypt", `${signing.Arn} key usage is SIGN_VERIFY which is not valid for grant operation Encrypt.`],
      [hmac, "GetPublicKey", `${hmac.Arn} key spec is HMAC_256 which is not valid for grant operation GetPublicKey.`],
      [agreement, "Sign", `${agreement.Arn} key usage is KEY_AGREEMENT which is not valid for grant operation Sign.`],
    ] as const;
    for (const [key, operation, message] of refused) {
      await expect(grant({ KeyId: key.KeyId!, Operations: ["DescribeKey", operation] })).rejects.toMatchObject({ name: "ValidationException", message });
    }
    // Recorded AWS answer (ansible/ansible#31960).
    await expect(grant({ KeyId: symmetric.KeyId!, Operations: ["CreateGrant"] })).rejects.toMatchObject({
      name: "ValidationException",
      message: "Grants must not contain only the CreateGrant operation.",
    });
    await expect(grant({ KeyId: symmetric.KeyId!, Operations: [] })).rejects.toMatchObject({ name: "ValidationException" });
    // The model's enum comes first.
    const unknown = await rawKms(env.server, "CreateGrant", { KeyId: symmetric.KeyId, GranteePrincipal: GRANTEE, Operations: ["Encapsulate"] });
    expect(unknown.body.__type).toBe("ValidationException");
  });

  it("takes encryption context constraints only on symmetric encryption keys, up to 8 pairs of values up to 384 characters", async () => {
    const symmetric = await createKey();
    const rsa = await createKey({ KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" });
    const equals = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, "v".repeat(384)]));
    const created = await grant({ KeyId: symmetric.KeyId!, Operations: ["Decrypt", "DescribeKey"], Constraints: { EncryptionContextEquals: equals } });
    const [listed] = (await env.kms.send(new ListGrantsCommand({ KeyId: symmetric.KeyId, GrantId: created.GrantId }))).Grants!;
    expect(listed?.Constraints).toEqual({ EncryptionContextEquals: equals });
    const refusals: Array<[Partial<CreateGrantCommandInput> & { KeyId: string }, string]> = [
      [{ KeyId: rsa.KeyId!, Operations: ["Decrypt"], Constraints: { EncryptionContextSubset: { a: "b" } } }, "Grant constraints are supported only on grants for symmetric encryption KMS keys."],
      [{ KeyId: symmetric.KeyId!, Operations: ["DescribeKey", "RetireGrant"], Constraints: { EncryptionContextSubset: { a: "b" } } }, "Grant constraints require an operation that takes an encryption context; DescribeKey, CreateGrant and RetireGrant do not."],
      [{ KeyId: symmetric.KeyId!, Operations: ["Decrypt"], Constraints: { EncryptionContextSubset: { ...equals, k8: "v" } } }, "A grant constraint can include up to 8 encryption context pairs."],
      [{ KeyId: symmetric.KeyId!, Operations: ["Decrypt"], Constraints: { EncryptionContextEquals: { a: "v".repeat(385) } } }, "Encryption context values in a grant constraint cannot exceed 384 characters."],
    ];
    for (const [input, message] of refusals) await expect(grant(input)).rejects.toMatchObject({ name: "ValidationException", message });
    // Empty constraints constrain nothing and are not listed.
    const empty = await grant({ KeyId: rsa.KeyId!, Operations: ["Decrypt"], Constraints: { EncryptionContextSubset: {} } });
    const [plain] = (await env.kms.send(new ListGrantsCommand({ KeyId: rsa.KeyId, GrantId: empty.GrantId }))).Grants!;
    expect(plain?.Constraints).toBeUndefined();
  });

  it("is idempotent with a Name: the same GrantId with a new token, and every token of the grant works", async () => {
    const key = await createKey();
    const first = await grant({ KeyId: key.KeyId!, Name: "retry-me", Operations: ["Encrypt", "Decrypt"], Constraints: { EncryptionContextSubset: { a: "1", b: "2" } } });
    const retried = await grant({ KeyId: key.Arn!, Name: "retry-me", Operations: ["Decrypt", "Encrypt"], Constraints: { EncryptionContextSubset: { b: "2", a: "1" } } });
    expect(retried.GrantId).toBe(first.GrantId);
    expect(retried.GrantToken).not.toBe(first.GrantToken);
    expect(await listGrants(key.KeyId!)).toHaveLength(1);
    // Another parameter, or no Name: another grant.
    const other = await grant({ KeyId: key.KeyId!, Name: "retry-me", Operations: ["Encrypt"] });
    expect(other.GrantId).not.toBe(first.GrantId);
    const unnamed = [await grant({ KeyId: key.KeyId! }), await grant({ KeyId: key.KeyId! })];
    expect(unnamed[0]!.GrantId).not.toBe(unnamed[1]!.GrantId);
    expect(await listGrants(key.KeyId!)).toHaveLength(4);

    await describeWith(key.KeyId!, [first.GrantToken!, retried.GrantToken!]);
    await env.kms.send(new RetireGrantCommand({ GrantToken: retried.GrantToken }));
    await expect(describeWith(key.KeyId!, [first.GrantToken!])).rejects.toMatchObject(INVALID_TOKEN);
  });

  it("lists a key's grants in pages of Limit (default 50) in grant id order, filtered by GrantId or GranteePrincipal", async () => {
    const key = await createKey();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await grant({ KeyId: key.KeyId!, GranteePrincipal: i < 2 ? RETIRER : GRANTEE })).GrantId!);
    ids.sort();
    const pages: string[][] = [];
    let Marker: string | undefined;
    do {
      const page = await env.kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Limit: 2, Marker }));
      pages.push(page.Grants!.map((entry) => entry.GrantId!));
      expect(page.Truncated).toBe(page.NextMarker !== undefined);
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    expect((await env.kms.send(new ListGrantsCommand({ KeyId: key.Arn, GrantId: ids[3] }))).Grants!.map((entry) => entry.GrantId)).toEqual([ids[3]]);
    expect((await env.kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GranteePrincipal: RETIRER }))).Grants).toHaveLength(2);
    expect((await env.kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: "0".repeat(64) }))).Grants).toEqual([]);
    await expect(env.kms.send(new ListGrantsCommand({ KeyId: key.KeyId, GrantId: "not-a-grant-id" }))).rejects.toMatchObject({
      name: "InvalidGrantIdException",
      message: "Invalid grant ID 'not-a-grant-id'",
    });
    await expect(env.kms.send(new ListGrantsCommand({ KeyId: key.KeyId, Marker: "bogus" }))).rejects.toMatchObject({ name: "InvalidMarkerException" });
  });

  it("lists the grants a principal can retire across the account's keys in this Region", async () => {
    const principal = `arn:aws:iam::${ACCOUNT}:role/retirable-${Date.now()}`;
    const keys = [await createKey(), await createKey()];
    const expected = [
      (await grant({ KeyId: keys[0]!.KeyId!, RetiringPrincipal: principal })).GrantId,
      (await grant({ KeyId: keys[1]!.KeyId!, RetiringPrincipal: principal })).GrantId,
      (await grant({ KeyId: keys[1]!.KeyId!, RetiringPrincipal: principal })).GrantId,
    ];
    await grant({ KeyId: keys[0]!.KeyId!, RetiringPrincipal: RETIRER });
    const seen: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await env.kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: principal, Limit: 1, Marker }));
      expect(page.Grants!.every((entry) => entry.RetiringPrincipal === principal)).toBe(true);
      seen.push(...page.Grants!.map((entry) => entry.GrantId!));
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    expect(seen.sort()).toEqual([...expected].sort());
    // Another region's grants are not this region's.
    const west = env.server.kms({ region: "us-west-2" });
    expect((await west.send(new ListRetirableGrantsCommand({ RetiringPrincipal: principal }))).Grants).toEqual([]);
  });

  it("retires by token or by key and grant id, revokes by key and grant id, and refuses unknown or malformed ids", async () => {
    const key = await createKey();
    const [byToken, byId, revoked] = [await grant({ KeyId: key.KeyId! }), await grant({ KeyId: key.KeyId! }), await grant({ KeyId: key.KeyId! })];
    await env.kms.send(new RetireGrantCommand({ GrantToken: byToken.GrantToken }));
    await env.kms.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: byId.GrantId }));
    await env.kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: revoked.GrantId }));
    expect(await listGrants(key.KeyId!)).toEqual([]);
    for (const token of [byToken, byId, revoked].map((created) => created.GrantToken!)) {
      await expect(describeWith(key.KeyId!, [token])).rejects.toMatchObject(INVALID_TOKEN);
    }
    await expect(env.kms.send(new RetireGrantCommand({ GrantToken: byToken.GrantToken }))).rejects.toMatchObject(INVALID_TOKEN);
    await expect(env.kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: revoked.GrantId }))).rejects.toMatchObject({
      name: "NotFoundException",
      message: `Grant '${revoked.GrantId}' does not exist for key '${key.Arn}'`,
    });
    await expect(env.kms.send(new RetireGrantCommand({ KeyId: key.KeyId, GrantId: "0123" }))).rejects.toMatchObject({ name: "InvalidGrantIdException" });
    await expect(env.kms.send(new RetireGrantCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({
      name: "ValidationException",
      message: "Either GrantToken, or both KeyId and GrantId, must be specified.",
    });
    // A grant id belongs to its key: another key does not have it.
    const live = await grant({ KeyId: key.KeyId! });
    const other = await createKey();
    await expect(env.kms.send(new RevokeGrantCommand({ KeyId: other.KeyId, GrantId: live.GrantId }))).rejects.toMatchObject({ name: "NotFoundException" });
    // RevokeGrant has no GrantToken member: a token cannot revoke.
    const withToken = await rawKms(env.server, "RevokeGrant", { GrantToken: live.GrantToken });
    expect(withToken.body.__type).toBe("ValidationException");
    expect(await listGrants(key.KeyId!)).toHaveLength(1);
  });

  it("answers DryRun on CreateGrant, RetireGrant and RevokeGrant after every other check, and changes nothing", async () => {
    const key = await createKey();
    await expect(grant({ KeyId: key.KeyId!, DryRun: true })).rejects.toMatchObject(DRY_RUN);
    await expect(grant({ KeyId: key.KeyId!, Operations: ["Sign"], DryRun: true })).rejects.toMatchObject({ name: "ValidationException" });
    expect(await listGrants(key.KeyId!)).toEqual([]);
    const created = await grant({ KeyId: key.KeyId! });
    await expect(env.kms.send(new RetireGrantCommand({ GrantToken: created.GrantToken, DryRun: true }))).rejects.toMatchObject(DRY_RUN);
    await expect(env.kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: created.GrantId, DryRun: true }))).rejects.toMatchObject(DRY_RUN);
    await expect(env.kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: "f".repeat(64), DryRun: true }))).rejects.toMatchObject({ name: "NotFoundException" });
    expect(await listGrants(key.KeyId!)).toHaveLength(1);
    await describeWith(key.KeyId!, [created.GrantToken!]);
  });

  it("follows the key-state table: CreateGrant on an enabled key only; the rest in every state", async () => {
    const key = await createKey();
    const [kept, revoked] = [await grant({ KeyId: key.KeyId!, Operations: ["Encrypt"] }), await grant({ KeyId: key.KeyId! })];
    await env.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expect(grant({ KeyId: key.KeyId! })).rejects.toMatchObject({ name: "DisabledException", message: `${key.Arn} is disabled.` });
    await env.kms.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: revoked.GrantId }));
    await env.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await expect(grant({ KeyId: key.KeyId! })).rejects.toMatchObject({ name: "KMSInvalidStateException", message: `${key.Arn} is pending deletion.` });
    expect((await listGrants(key.KeyId!)).map((entry) => entry.GrantId)).toEqual([kept.GrantId]);
    await describeWith(key.KeyId!, [kept.GrantToken!]);
    await env.kms.send(new RetireGrantCommand({ KeyId: key.KeyId, GrantId: kept.GrantId }));
  });

  it("refuses malformed, altered or unknown GrantTokens with InvalidGrantTokenException on operations that take them", async () => {
    const key = await createKey();
    const signing = await createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    const { GrantToken: token } = await grant({ KeyId: key.KeyId! });
    const altered = token!.slice(0, 40) + (token![40] === "A" ? "B" : "A") + token!.slice(41);
    const forged = Buffer.concat([Buffer.from([1]), Buffer.alloc(200, 7)]).toString("base64url");
    const { CiphertextBlob } = await env.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), GrantTokens: [token!] }));
    for (const bad of ["not a token", altered, forged, token!.slice(0, -2)]) {
      const GrantTokens = [token!, bad];
      for (const call of [
        () => env.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from("x"), GrantTokens })),
        () => env.kms.send(new DecryptCommand({ CiphertextBlob, GrantTokens })),
        () => env.kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: "AES_256", GrantTokens })),
        () => env.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId, GrantTokens })),
        () => env.kms.send(new SignCommand({ KeyId: signing.KeyId, Message: Buffer.from("m"), SigningAlgorithm: "ECDSA_SHA_256", GrantTokens })),
        () => env.kms.send(new GetPublicKeyCommand({ KeyId: signing.KeyId, GrantTokens })),
        () => grant({ KeyId: key.KeyId!, GrantTokens }),
      ]) {
        await expect(call()).rejects.toMatchObject(INVALID_TOKEN);
      }
    }
    // A live grant's token is valid with any key: which key it may be used for is for access control to decide.
    await env.kms.send(new GetPublicKeyCommand({ KeyId: signing.KeyId, GrantTokens: [token!] }));
  });

  it("refuses a grantee principal's 501st grant on a key with LimitExceededException (AWS's quota: 500)", async () => {
    const key = await createKey();
    const named = await grant({ KeyId: key.KeyId!, Operations: ["Encrypt"], Name: "first" });
    for (let i = 1; i < 500; i++) await grant({ KeyId: key.KeyId!, Operations: ["Encrypt"] });
    await expect(grant({ KeyId: key.KeyId!, Operations: ["Encrypt"] })).rejects.toMatchObject({
      name: "LimitExceededException",
      message: `The KMS key ${key.Arn} already has 500 grants for ${GRANTEE}, the quota per grantee principal.`,
    });
    // A retry by Name of a grant that exists still answers; another grantee still gets grants.
    expect((await grant({ KeyId: key.KeyId!, Operations: ["Encrypt"], Name: "first" })).GrantId).toBe(named.GrantId);
    await grant({ KeyId: key.KeyId!, GranteePrincipal: RETIRER, Operations: ["Encrypt"] });
  }, 60_000);

  it("checks GrantTokens before every operation of the table whose request has them", async () => {
    const refusal = new AwsError("InvalidGrantTokenException", "checked");
    const ctx = { kms: { grants: { assertTokens: () => Promise.reject(refusal) } } };
    const withTokens = Object.entries(inputShapes).filter(([, shape]) => shapes[shape]?.members?.GrantTokens !== undefined).map(([operation]) => operation);
    expect(withTokens.length).toBeGreaterThanOrEqual(15);
    const table: Record<string, Operation> = kmsOperations;
    for (const operation of withTokens) {
      const run = table[operation];
      expect({ operation, implemented: run !== undefined }).toEqual({ operation, implemented: true });
      await expect(run!({ GrantTokens: ["t"] }, ctx as unknown as KmsRequestContext)).rejects.toBe(refusal);
    }
  });
});

describe("lifetime", () => {
  let clock: TestClock;
  let server: TestServer;
  let kms: KMSClient;
  beforeEach(async () => {
    clock = new TestClock(Date.UTC(2031, 0, 1, 12));
    server = await startTestServer({ clock });
    kms = server.kms();
  });
  afterEach(() => server.close());

  it("keeps grants and their tokens across a restart", async () => {
    const key = await createKey({}, kms);
    const created = await grant({ KeyId: key.KeyId!, RetiringPrincipal: RETIRER, Name: "durable" }, kms);
    await server.stop();
    server = await startTestServer({ clock, dataDir: server.dataDir });
    kms = server.kms();
    expect((await listGrants(key.KeyId!, kms)).map((entry) => [entry.GrantId, entry.Name])).toEqual([[created.GrantId, "durable"]]);
    await describeWith(key.KeyId!, [created.GrantToken!], kms);
    await kms.send(new RetireGrantCommand({ GrantToken: created.GrantToken }));
  });

  it("destroys a key's grants with the key, and their tokens stop working", async () => {
    const key = await createKey({}, kms);
    const kept = await createKey({}, kms);
    const doomed = await grant({ KeyId: key.KeyId!, RetiringPrincipal: RETIRER }, kms);
    const survivor = await grant({ KeyId: kept.KeyId!, RetiringPrincipal: RETIRER }, kms);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    clock.ms += 8 * 86_400_000;
    await expect(describeWith(kept.KeyId!, [doomed.GrantToken!], kms)).rejects.toMatchObject(INVALID_TOKEN);
    const retirable = (await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: RETIRER }))).Grants!;
    expect(retirable.map((entry) => entry.GrantId)).toEqual([survivor.GrantId]);
    await expect(kms.send(new ListGrantsCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("keeps grant tokens out of the audit log, grant ids in", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "secretslite-grant-audit-"));
    const auditFile = path.join(dir, "audit.jsonl");
    await server.close();
    server = await startTestServer({ clock, flags: ["--audit-log", auditFile] });
    kms = server.kms();
    const key = await createKey({}, kms);
    const created = await grant({ KeyId: key.KeyId! }, kms);
    await describeWith(key.KeyId!, [created.GrantToken!], kms);
    await kms.send(new RetireGrantCommand({ GrantToken: created.GrantToken }));
    await server.stop();
    const audit = readFileSync(auditFile, "utf8");
    rmSync(dir, { recursive: true, force: true });
    expect(audit).toContain(created.GrantId!);
    expect(audit).not.toContain(created.GrantToken!.slice(0, 40));
    server = await startTestServer({ clock, dataDir: server.dataDir });
  });

  it("lets reset wipe grants with everything else", async () => {
    const key = await createKey({}, kms);
    const created = await grant({ KeyId: key.KeyId!, RetiringPrincipal: RETIRER }, kms);
    expect((await request(server.url).post("/_secretslite/reset")).status).toBe(200);
    expect((await kms.send(new ListRetirableGrantsCommand({ RetiringPrincipal: RETIRER }))).Grants).toEqual([]);
    const fresh = await createKey({}, kms);
    await expect(describeWith(fresh.KeyId!, [created.GrantToken!], kms)).rejects.toMatchObject(INVALID_TOKEN);
  });
});

describe("serialization", () => {
  it("sends CreationDate as epoch seconds and leaves out what a grant does not have", async () => {
    const key = await createKey();
    const created = await grant({ KeyId: key.KeyId! });
    const listed = await rawKms(env.server, "ListGrants", { KeyId: key.KeyId });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      Grants: [
        {
          KeyId: key.Arn,
          GrantId: created.GrantId,
          CreationDate: expect.any(Number),
          GranteePrincipal: GRANTEE,
          IssuingAccount: `arn:aws:iam::${ACCOUNT}:root`,
          Operations: ["DescribeKey"],
        },
      ],
      Truncated: false,
    });
  });
});

describe.each(CLIS)("%s", (cli) => {
  const spec = useCliServer();
  const json = <T>(args: readonly string[]) => spec.aws.json<T>(cli, "kms", args);

  it(
    "creates, lists, retires and revokes grants",
    async () => {
      const { KeyMetadata } = await json<{ KeyMetadata: { KeyId: string; Arn: string } }>(["create-key"]);
      const made = await json<{ GrantId: string; GrantToken: string }>([
        "create-grant",
        "--key-id", KeyMetadata.KeyId,
        "--grantee-principal", GRANTEE,
        "--retiring-principal", RETIRER,
        "--operations", "Encrypt", "Decrypt",
        "--name", "cli-grant",
      ]);
      const second = await json<{ GrantId: string }>(["create-grant", "--key-id", KeyMetadata.Arn, "--grantee-principal", GRANTEE, "--operations", "DescribeKey"]);
      const listed = await json<{ Grants: Array<{ GrantId: string; Name?: string; Operations: string[] }> }>(["list-grants", "--key-id", KeyMetadata.KeyId]);
      expect(listed.Grants.map((entry) => entry.GrantId).sort()).toEqual([made.GrantId, second.GrantId].sort());
      expect(listed.Grants.find((entry) => entry.GrantId === made.GrantId)).toMatchObject({ Name: "cli-grant", Operations: ["Encrypt", "Decrypt"] });
      const retirable = await json<{ Grants: Array<{ GrantId: string }> }>(["list-retirable-grants", "--retiring-principal", RETIRER]);
      expect(retirable.Grants.map((entry) => entry.GrantId)).toEqual([made.GrantId]);
      await json(["retire-grant", "--grant-token", made.GrantToken]);
      await json(["revoke-grant", "--key-id", KeyMetadata.KeyId, "--grant-id", second.GrantId]);
      expect((await json<{ Grants: unknown[] }>(["list-grants", "--key-id", KeyMetadata.KeyId])).Grants).toEqual([]);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
