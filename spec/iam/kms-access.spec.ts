// --enforce-auth for KMS: key policies, IAM, grants, cross-account keys, aliases, key policy checks, AWS managed keys.
// Every case goes through the SDK, each principal with its own client, on one started server.
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListGrantsCommand,
  ListRetirableGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient, UpdateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { temporaryDirs } from "../support/files";
import { REGION, startTestServer, type TestServer } from "../support/server";
import { errorOf } from "../support/errors";

const newDir = temporaryDirs("secretslite-kms-access-spec-");

const A = "111122223333";
const B = "444455556666";

interface Who {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly arn: string;
  readonly policies?: readonly object[];
}

const allow = (Action: string | string[], Resource: string | string[] = "*", Condition?: object) => ({ Effect: "Allow", Action, Resource, ...(Condition === undefined ? {} : { Condition }) });
const deny = (Action: string | string[], Resource: string | string[] = "*") => ({ Effect: "Deny", Action, Resource });
const policy = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });

let keyCounter = 0;
const who = (arn: string, ...policies: object[]): Who => {
  keyCounter++;
  const id = `AKIATEST${String(keyCounter).padStart(12, "0")}`;
  return { accessKeyId: id, secretAccessKey: `secret-${id}`, arn, policies };
};

const ADMIN = who(`arn:aws:iam::${A}:user/admin`, policy(allow(["kms:*", "secretsmanager:*"])));
// No identity policies: only what a key policy names it for, or a grant.
const ALICE = who(`arn:aws:iam::${A}:user/alice`);
// IAM allows every KMS action: enough only where a key policy delegates to the account.
const BOB = who(`arn:aws:iam::${A}:user/bob`, policy(allow("kms:*")));
const CAROL = who(`arn:aws:iam::${A}:user/carol`, policy(deny("kms:Decrypt")));
const APP = who(`arn:aws:iam::${A}:user/app`, policy(allow("secretsmanager:*")));
const EC = who(
  `arn:aws:iam::${A}:user/ec`,
  policy(
    allow("kms:Encrypt", "*", { StringEquals: { "kms:EncryptionContext:Department": "IT" } }),
    allow("kms:GenerateDataKey", "*", { "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["Department", "Project"] } }),
  ),
);
const GINA = who(`arn:aws:iam::${A}:user/gina`, policy(allow("kms:Encrypt", "*", { StringEquals: { "kms:RequestAlias": "alias/gina-key" } })));
const HANK = who(`arn:aws:iam::${A}:user/hank`, policy(allow("kms:CreateAlias", [`arn:aws:kms:${REGION}:${A}:alias/hank-*`, `arn:aws:kms:${REGION}:${A}:key/*`])));
const JANE = who(`arn:aws:iam::${A}:user/jane`, policy(allow("kms:Encrypt", "*", { "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/finance-key" } })));
const FRANK = who(`arn:aws:iam::${A}:user/frank`, policy(allow("kms:RetireGrant")));
const IVAN = who(`arn:aws:iam::${A}:user/ivan`, policy(allow("kms:CreateKey")));
const WORKER = who(`arn:aws:sts::${A}:assumed-role/worker/session-1`);
const ROOT_B = who(`arn:aws:iam::${B}:root`);
const DAVE = who(`arn:aws:iam::${B}:user/dave`, policy(allow("kms:*")));
const ERIN = who(`arn:aws:iam::${B}:user/erin`);

const EVERYONE = [ADMIN, ALICE, BOB, CAROL, APP, EC, GINA, HANK, JANE, FRANK, IVAN, WORKER, ROOT_B, DAVE, ERIN];

function principalsFile(): string {
  const file = path.join(newDir(), "principals.json");
  const principals = EVERYONE.map(({ accessKeyId, secretAccessKey, arn, policies }) => ({ accessKeyId, secretAccessKey, arn, policies }));
  writeFileSync(file, JSON.stringify({ principals }));
  return file;
}

const denied = (principal: Who, action: string, resource: string, because: "identity-based" | "resource-based") => ({
  name: "AccessDeniedException",
  message: `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource} because no ${because} policy allows the ${action} action`,
});

const explicitlyDenied = (principal: Who, action: string, resource: string) => ({
  name: "AccessDeniedException",
  message: `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in an identity-based policy`,
});

const rootDelegation = (account: string) => ({ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" });
const naming = (principals: string | string[], Action: string | string[], Condition?: object) => ({
  Effect: "Allow",
  Principal: { AWS: principals },
  Action,
  Resource: "*",
  ...(Condition === undefined ? {} : { Condition }),
});

describe("--enforce-auth: KMS access", () => {
  let server: TestServer;
  const kms = (as: Who) => new KMSClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const sm = (as: Who) => new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: as, maxAttempts: 1 });
  const createKey = async (as: Who, keyPolicy?: object): Promise<{ id: string; arn: string }> => {
    const created = await kms(as).send(new CreateKeyCommand(keyPolicy === undefined ? {} : { Policy: JSON.stringify(keyPolicy) }));
    return { id: created.KeyMetadata?.KeyId ?? "", arn: created.KeyMetadata?.Arn ?? "" };
  };
  const encrypt = (as: Who, KeyId: string, EncryptionContext?: Record<string, string>) =>
    kms(as).send(new EncryptCommand({ KeyId, Plaintext: Buffer.from("data"), ...(EncryptionContext === undefined ? {} : { EncryptionContext }) }));

  beforeAll(async () => {
    server = await startTestServer({ flags: ["--enforce-auth", "--principals", principalsFile()] });
  });
  afterAll(() => server.close());

  describe("key policies", () => {
    let key: { id: string; arn: string };
    beforeAll(async () => {
      // No root delegation: only admin and alice are named.
      key = await createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*"), naming(ALICE.arn, ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]), naming(CAROL.arn, ["kms:Encrypt", "kms:Decrypt"])));
    });

    it("a key policy naming a user lets it in without any IAM policy", async () => {
      expect((await encrypt(ALICE, key.id)).KeyId).toBe(key.arn);
      expect((await kms(ALICE).send(new DescribeKeyCommand({ KeyId: key.id }))).KeyMetadata?.Arn).toBe(key.arn);
    });

    it("without root delegation an IAM Allow is not enough", async () => {
      expect(await errorOf(kms(BOB).send(new DescribeKeyCommand({ KeyId: key.id })))).toEqual(denied(BOB, "kms:DescribeKey", key.arn, "resource-based"));
      expect(await errorOf(encrypt(BOB, key.id))).toEqual(denied(BOB, "kms:Encrypt", key.arn, "resource-based"));
    });

    it("an action the key policy does not name for the user is denied", async () => {
      expect(await errorOf(kms(ALICE).send(new ScheduleKeyDeletionCommand({ KeyId: key.id })))).toEqual(denied(ALICE, "kms:ScheduleKeyDeletion", key.arn, "resource-based"));
    });

    it("an IAM explicit Deny works without delegation", async () => {
      const sealed = await encrypt(CAROL, key.id);
      expect(await errorOf(kms(CAROL).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })))).toEqual(explicitlyDenied(CAROL, "kms:Decrypt", key.arn));
    });
  });

  describe("encryption context conditions", () => {
    let key: { id: string; arn: string };
    beforeAll(async () => {
      key = await createKey(ADMIN);
    });

    it("kms:EncryptionContext:<key> matches the context key in any case, and the value as the operator says", async () => {
      expect((await encrypt(EC, key.id, { Department: "IT" })).KeyId).toBe(key.arn);
      expect((await encrypt(EC, key.id, { department: "IT" })).KeyId).toBe(key.arn);
      expect(await errorOf(encrypt(EC, key.id, { Department: "it" }))).toEqual(denied(EC, "kms:Encrypt", key.arn, "identity-based"));
      expect(await errorOf(encrypt(EC, key.id))).toEqual(denied(EC, "kms:Encrypt", key.arn, "identity-based"));
    });

    it("ForAllValues on kms:EncryptionContextKeys: every key listed, and an empty context matches", async () => {
      const generate = (EncryptionContext?: Record<string, string>) => kms(EC).send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: "AES_256", ...(EncryptionContext === undefined ? {} : { EncryptionContext }) }));
      expect((await generate({ Department: "IT", Project: "x" })).KeyId).toBe(key.arn);
      expect((await generate()).KeyId).toBe(key.arn);
      expect(await errorOf(generate({ Department: "IT", Other: "x" }))).toEqual(denied(EC, "kms:GenerateDataKey", key.arn, "identity-based"));
    });
  });

  describe("kms:ViaService", () => {
    it("a key policy requiring Secrets Manager: direct use is denied, GetSecretValue through Secrets Manager works", async () => {
      const key = await createKey(
        ADMIN,
        policy(rootDelegation(A), naming(APP.arn, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } })),
      );
      await sm(APP).send(new CreateSecretCommand({ Name: "via/app", SecretString: "through-sm", KmsKeyId: key.arn }));
      expect((await sm(APP).send(new GetSecretValueCommand({ SecretId: "via/app" }))).SecretString).toBe("through-sm");
      expect(await errorOf(encrypt(APP, key.arn))).toEqual(denied(APP, "kms:Encrypt", key.arn, "identity-based"));
    });

    it("a user the key policy does not name gets Secrets Manager's own KMS denial", async () => {
      const key = await createKey(ADMIN, policy(rootDelegation(A)));
      await sm(ADMIN).send(new CreateSecretCommand({ Name: "via/admin", SecretString: "admin-only", KmsKeyId: key.arn }));
      expect(await errorOf(sm(APP).send(new GetSecretValueCommand({ SecretId: "via/admin" })))).toEqual({ name: "AccessDeniedException", message: "Access to KMS is not allowed" });
    });
  });

  describe("grants", () => {
    let key: { id: string; arn: string };
    beforeAll(async () => {
      key = await createKey(ADMIN);
    });
    const grant = async (GranteePrincipal: string, Operations: string[], extra: object = {}) =>
      kms(ADMIN).send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal, Operations: Operations as never, ...extra }));

    it("allows its operations to its grantee, honouring an EncryptionContextSubset constraint", async () => {
      expect(await errorOf(encrypt(ALICE, key.id, { purpose: "test" }))).toEqual(denied(ALICE, "kms:Encrypt", key.arn, "identity-based"));
      await grant(ALICE.arn, ["Encrypt", "Decrypt"], { Constraints: { EncryptionContextSubset: { purpose: "test" } } });
      const sealed = await encrypt(ALICE, key.id, { purpose: "test", extra: "more" });
      expect(sealed.KeyId).toBe(key.arn);
      const opened = await kms(ALICE).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { purpose: "test", extra: "more" } }));
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("data");
      expect(await errorOf(encrypt(ALICE, key.id, { purpose: "other" }))).toEqual(denied(ALICE, "kms:Encrypt", key.arn, "identity-based"));
      expect(await errorOf(kms(ALICE).send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: "AES_256", EncryptionContext: { purpose: "test" } })))).toEqual(
        denied(ALICE, "kms:GenerateDataKey", key.arn, "identity-based"),
      );
    });

    it("a grant to a role covers its sessions, with EncryptionContextEquals exactly", async () => {
      await grant(`arn:aws:iam::${A}:role/worker`, ["Decrypt"], { Constraints: { EncryptionContextEquals: { job: "1" } } });
      const exact = await encrypt(ADMIN, key.id, { job: "1" });
      const wider = await encrypt(ADMIN, key.id, { job: "1", step: "2" });
      const opened = await kms(WORKER).send(new DecryptCommand({ CiphertextBlob: exact.CiphertextBlob, EncryptionContext: { job: "1" } }));
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("data");
      expect(await errorOf(kms(WORKER).send(new DecryptCommand({ CiphertextBlob: wider.CiphertextBlob, EncryptionContext: { job: "1", step: "2" } })))).toEqual(
        denied(WORKER, "kms:Decrypt", key.arn, "identity-based"),
      );
    });

    it("a grant for another account's principal works by key ARN, without IAM there", async () => {
      expect(await errorOf(encrypt(ERIN, key.arn))).toEqual(denied(ERIN, "kms:Encrypt", key.arn, "resource-based"));
      await grant(ERIN.arn, ["Encrypt", "DescribeKey"]);
      expect((await encrypt(ERIN, key.arn)).KeyId).toBe(key.arn);
      expect((await kms(ERIN).send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.Arn).toBe(key.arn);
      // A key id alone is looked for in the caller's own account.
      expect(await errorOf(encrypt(ERIN, key.id))).toEqual(denied(ERIN, "kms:Encrypt", `arn:aws:kms:${REGION}:${B}:key/${key.id}`, "identity-based"));
    });

    it("a grant with CreateGrant lets its grantee make grants with no more operations", async () => {
      await grant(ALICE.arn, ["Encrypt", "CreateGrant"]);
      const made = await kms(ALICE).send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: `arn:aws:iam::${A}:role/worker`, Operations: ["Encrypt"] }));
      expect(made.GrantId).toMatch(/^[0-9a-f]{64}$/);
      expect(await errorOf(kms(ALICE).send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: `arn:aws:iam::${A}:role/worker`, Operations: ["GenerateDataKey"] })))).toEqual(
        denied(ALICE, "kms:CreateGrant", key.arn, "identity-based"),
      );
      expect((await encrypt(WORKER, key.arn)).KeyId).toBe(key.arn);
    });

    it("a grant to an account delegates to it: its root, and its users whose IAM policies allow", async () => {
      const fresh = await createKey(ADMIN);
      await kms(ADMIN).send(new CreateGrantCommand({ KeyId: fresh.id, GranteePrincipal: `arn:aws:iam::${B}:root`, Operations: ["Encrypt"] }));
      expect((await encrypt(ROOT_B, fresh.arn)).KeyId).toBe(fresh.arn);
      expect((await encrypt(DAVE, fresh.arn)).KeyId).toBe(fresh.arn);
      expect(await errorOf(encrypt(ERIN, fresh.arn))).toEqual(denied(ERIN, "kms:Encrypt", fresh.arn, "resource-based"));
    });

    it("an explicit Deny beats a grant", async () => {
      await grant(CAROL.arn, ["Decrypt"]);
      const sealed = await encrypt(ADMIN, key.id);
      expect(await errorOf(kms(CAROL).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })))).toEqual(explicitlyDenied(CAROL, "kms:Decrypt", key.arn));
    });
  });

  describe("RetireGrant and RevokeGrant", () => {
    let key: { id: string; arn: string };
    beforeAll(async () => {
      key = await createKey(ADMIN);
    });
    const grant = (extra: object) => kms(ADMIN).send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: ALICE.arn, Operations: ["Encrypt"], ...extra }));
    const grantIds = async () => ((await kms(ADMIN).send(new ListGrantsCommand({ KeyId: key.id }))).Grants ?? []).map((g) => g.GrantId);

    it("the retiring principal (of another account) may retire; the grantee without RetireGrant may not", async () => {
      const { GrantId } = await grant({ RetiringPrincipal: ERIN.arn });
      expect(await errorOf(kms(ALICE).send(new RetireGrantCommand({ KeyId: key.id, GrantId })))).toEqual(denied(ALICE, "kms:RetireGrant", key.arn, "identity-based"));
      await kms(ERIN).send(new RetireGrantCommand({ KeyId: key.arn, GrantId }));
      expect(await grantIds()).not.toContain(GrantId);
    });

    it("ListRetirableGrants: IAM in the caller's account only, and it lists grants on other accounts' keys", async () => {
      expect(await errorOf(kms(ERIN).send(new ListRetirableGrantsCommand({ RetiringPrincipal: ERIN.arn })))).toEqual({
        name: "AccessDeniedException",
        message: `User: ${ERIN.arn} is not authorized to perform: kms:ListRetirableGrants because no identity-based policy allows the kms:ListRetirableGrants action`,
      });
      const { GrantId } = await grant({ RetiringPrincipal: DAVE.arn });
      const own = await createKey(ROOT_B);
      const inB = await kms(ROOT_B).send(new CreateGrantCommand({ KeyId: own.id, GranteePrincipal: ERIN.arn, RetiringPrincipal: DAVE.arn, Operations: ["Encrypt"] }));
      // Account order: A's key first, then DAVE's own account's.
      const first = await kms(DAVE).send(new ListRetirableGrantsCommand({ RetiringPrincipal: DAVE.arn, Limit: 1 }));
      expect(first.Grants?.map((g) => [g.GrantId, g.KeyId])).toEqual([[GrantId, key.arn]]);
      expect(first.Truncated).toBe(true);
      const second = await kms(DAVE).send(new ListRetirableGrantsCommand({ RetiringPrincipal: DAVE.arn, Limit: 1, Marker: first.NextMarker }));
      expect(second.Grants?.map((g) => [g.GrantId, g.KeyId])).toEqual([[inB.GrantId, own.arn]]);
      expect(second.Truncated).toBe(false);
    });

    it("the grantee may retire with the grant's token when the grant includes RetireGrant", async () => {
      const { GrantId, GrantToken } = await kms(ADMIN).send(new CreateGrantCommand({ KeyId: key.id, GranteePrincipal: ALICE.arn, Operations: ["Encrypt", "RetireGrant"] }));
      await kms(ALICE).send(new RetireGrantCommand({ GrantToken }));
      expect(await grantIds()).not.toContain(GrantId);
    });

    it("the issuing account may retire through kms:RetireGrant in IAM; another account's IAM Allow is not effective", async () => {
      const { GrantId } = await grant({});
      expect(await errorOf(kms(DAVE).send(new RetireGrantCommand({ KeyId: key.arn, GrantId })))).toEqual(denied(DAVE, "kms:RetireGrant", key.arn, "resource-based"));
      await kms(FRANK).send(new RetireGrantCommand({ KeyId: key.id, GrantId }));
      expect(await grantIds()).not.toContain(GrantId);
    });

    it("a token that names no grant is the operation's error, not a denial", async () => {
      expect((await errorOf(kms(ALICE).send(new RetireGrantCommand({ GrantToken: "not-a-grant-token" })))).name).toBe("InvalidGrantTokenException");
    });

    it("RevokeGrant needs kms:RevokeGrant", async () => {
      const { GrantId } = await grant({});
      expect(await errorOf(kms(ALICE).send(new RevokeGrantCommand({ KeyId: key.id, GrantId })))).toEqual(denied(ALICE, "kms:RevokeGrant", key.arn, "identity-based"));
      await kms(BOB).send(new RevokeGrantCommand({ KeyId: key.id, GrantId }));
      expect(await grantIds()).not.toContain(GrantId);
    });
  });

  describe("another account's key", () => {
    let shared: { id: string; arn: string };
    let unshared: { id: string; arn: string };
    beforeAll(async () => {
      shared = await createKey(ROOT_B, policy(rootDelegation(B), naming(A, ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey", "kms:GenerateDataKey", "kms:CreateGrant", "kms:ScheduleKeyDeletion"])));
      unshared = await createKey(ROOT_B);
      await kms(ROOT_B).send(new CreateAliasCommand({ AliasName: "alias/shared", TargetKeyId: shared.id }));
    });

    it("both sides allow: the key policy names the account and the caller's IAM allows", async () => {
      const sealed = await encrypt(BOB, shared.arn);
      expect(sealed.KeyId).toBe(shared.arn);
      // The ciphertext names its key: Decrypt finds it in its account without a KeyId.
      const opened = await kms(BOB).send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
      expect(opened.KeyId).toBe(shared.arn);
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("data");
    });

    it("by alias ARN too", async () => {
      expect((await encrypt(BOB, `arn:aws:kms:${REGION}:${B}:alias/shared`)).KeyId).toBe(shared.arn);
    });

    it("one side only is denied", async () => {
      expect(await errorOf(encrypt(ALICE, shared.arn))).toEqual(denied(ALICE, "kms:Encrypt", shared.arn, "identity-based"));
      expect(await errorOf(encrypt(BOB, unshared.arn))).toEqual(denied(BOB, "kms:Encrypt", unshared.arn, "resource-based"));
    });

    it("a grant made by the other account's principal: issued by its account, used by its grantee", async () => {
      const { GrantId } = await kms(BOB).send(new CreateGrantCommand({ KeyId: shared.arn, GranteePrincipal: ALICE.arn, Operations: ["Encrypt"] }));
      expect((await encrypt(ALICE, shared.arn)).KeyId).toBe(shared.arn);
      const listed = (await kms(ROOT_B).send(new ListGrantsCommand({ KeyId: shared.id }))).Grants?.find((g) => g.GrantId === GrantId);
      expect(listed?.IssuingAccount).toBe(`arn:aws:iam::${A}:root`);
      await kms(ROOT_B).send(new RevokeGrantCommand({ KeyId: shared.id, GrantId }));
      expect(await errorOf(encrypt(ALICE, shared.arn))).toEqual(denied(ALICE, "kms:Encrypt", shared.arn, "identity-based"));
    });

    it("management operations do not reach another account's key, whatever the policies say", async () => {
      expect(await errorOf(kms(BOB).send(new ScheduleKeyDeletionCommand({ KeyId: shared.arn })))).toEqual({ name: "NotFoundException", message: `Key '${shared.arn}' does not exist` });
    });

    it("Secrets Manager uses another account's customer key when both sides allow", async () => {
      await sm(ADMIN).send(new CreateSecretCommand({ Name: "cross/key", SecretString: "under-b", KmsKeyId: shared.arn }));
      expect((await sm(ADMIN).send(new GetSecretValueCommand({ SecretId: "cross/key" }))).SecretString).toBe("under-b");
    });

    it("ReEncrypt between the caller's key and another account's, both ways", async () => {
      const own = await createKey(ADMIN);
      const sealed = await encrypt(BOB, own.arn, { step: "1" });
      const moved = await kms(BOB).send(new ReEncryptCommand({ CiphertextBlob: sealed.CiphertextBlob, SourceEncryptionContext: { step: "1" }, DestinationKeyId: shared.arn }));
      expect([moved.SourceKeyId, moved.KeyId]).toEqual([own.arn, shared.arn]);
      const back = await kms(BOB).send(new ReEncryptCommand({ CiphertextBlob: moved.CiphertextBlob, DestinationKeyId: own.id, DestinationEncryptionContext: { step: "2" } }));
      expect([back.SourceKeyId, back.KeyId]).toEqual([shared.arn, own.arn]);
      const opened = await kms(BOB).send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, EncryptionContext: { step: "2" } }));
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("data");
    });

    it("Secrets Manager moves a secret to another account's key (ReEncrypt from the default key)", async () => {
      await sm(ADMIN).send(new CreateSecretCommand({ Name: "cross/rekey", SecretString: "moved" }));
      await sm(ADMIN).send(new UpdateSecretCommand({ SecretId: "cross/rekey", KmsKeyId: shared.arn }));
      expect((await sm(ADMIN).send(new GetSecretValueCommand({ SecretId: "cross/rekey" }))).SecretString).toBe("moved");
    });

    it("an AWS managed key is never usable from another account", async () => {
      const managed = await kms(ROOT_B).send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }));
      const arn = managed.KeyMetadata?.Arn ?? "";
      expect(await errorOf(encrypt(BOB, arn))).toEqual(denied(BOB, "kms:Encrypt", arn, "resource-based"));
    });
  });

  describe("aliases", () => {
    let key: { id: string; arn: string };
    let locked: { id: string; arn: string };
    beforeAll(async () => {
      key = await createKey(ADMIN);
      locked = await createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*")));
      await kms(ADMIN).send(new CreateAliasCommand({ AliasName: "alias/gina-key", TargetKeyId: key.id }));
      await kms(ADMIN).send(new CreateAliasCommand({ AliasName: "alias/gina-other", TargetKeyId: key.id }));
    });

    it("a request by alias is authorized on the key ARN, with kms:RequestAlias", async () => {
      expect((await encrypt(GINA, "alias/gina-key")).KeyId).toBe(key.arn);
      expect(await errorOf(encrypt(GINA, "alias/gina-other"))).toEqual(denied(GINA, "kms:Encrypt", key.arn, "identity-based"));
      expect(await errorOf(encrypt(GINA, key.id))).toEqual(denied(GINA, "kms:Encrypt", key.arn, "identity-based"));
    });

    it("kms:ResourceAliases holds the key's aliases, whatever the request named it by", async () => {
      const other = await createKey(ADMIN);
      await kms(ADMIN).send(new CreateAliasCommand({ AliasName: "alias/finance-key", TargetKeyId: key.id }));
      expect((await encrypt(JANE, key.id)).KeyId).toBe(key.arn);
      expect((await encrypt(JANE, "alias/gina-other")).KeyId).toBe(key.arn);
      expect(await errorOf(encrypt(JANE, other.id))).toEqual(denied(JANE, "kms:Encrypt", other.arn, "identity-based"));
    });

    it("CreateAlias needs the permission on the alias and on the key", async () => {
      expect(await errorOf(kms(HANK).send(new CreateAliasCommand({ AliasName: "alias/other-1", TargetKeyId: key.id })))).toEqual(
        denied(HANK, "kms:CreateAlias", `arn:aws:kms:${REGION}:${A}:alias/other-1`, "identity-based"),
      );
      expect(await errorOf(kms(HANK).send(new CreateAliasCommand({ AliasName: "alias/hank-2", TargetKeyId: locked.id })))).toEqual(denied(HANK, "kms:CreateAlias", locked.arn, "resource-based"));
      await kms(HANK).send(new CreateAliasCommand({ AliasName: "alias/hank-1", TargetKeyId: key.id }));
      expect((await kms(ADMIN).send(new DescribeKeyCommand({ KeyId: "alias/hank-1" }))).KeyMetadata?.Arn).toBe(key.arn);
    });
  });

  describe("key policy checks at CreateKey and PutKeyPolicy", () => {
    const malformed = (message: string) => ({ name: "MalformedPolicyDocumentException", message });

    it("principals must exist: unknown users are refused, known users, role ARNs of sessions and accounts are accepted", async () => {
      expect(await errorOf(createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*"), naming(`arn:aws:iam::${A}:user/ghost`, "kms:Encrypt"))))).toEqual(
        malformed("Policy contains a statement with one or more invalid principals."),
      );
      expect(await errorOf(createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*"), naming(`arn:aws:iam::${A}:role/nobody`, "kms:Encrypt"))))).toEqual(
        malformed("Policy contains a statement with one or more invalid principals."),
      );
      const ok = await createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*"), naming([`arn:aws:iam::${A}:role/worker`, ALICE.arn, "999988887777"], "kms:Encrypt")));
      expect(ok.arn).toMatch(/:key\//);
    });

    it("a statement without a principal is refused", async () => {
      expect(await errorOf(createKey(ADMIN, policy(naming(ADMIN.arn, "kms:*"), { Effect: "Allow", Action: "kms:Encrypt", Resource: "*" })))).toEqual(
        malformed("Policy contains a statement with no principal."),
      );
    });

    it("the lockout check evaluates the new policy for the real caller, unless bypassed", async () => {
      const key = await createKey(ADMIN);
      const aliceOnly = JSON.stringify(policy(naming(ALICE.arn, "kms:*")));
      expect(await errorOf(kms(ADMIN).send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: aliceOnly })))).toEqual(
        malformed("The new key policy will not allow you to update the key policy in the future."),
      );
      // Naming the admin directly keeps it in charge, root delegation or not.
      await kms(ADMIN).send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: JSON.stringify(policy(naming(ADMIN.arn, "kms:PutKeyPolicy"))) }));
      await kms(ADMIN).send(new PutKeyPolicyCommand({ KeyId: key.id, Policy: aliceOnly, BypassPolicyLockoutSafetyCheck: true }));
      expect(await errorOf(kms(ADMIN).send(new DescribeKeyCommand({ KeyId: key.id })))).toEqual(denied(ADMIN, "kms:DescribeKey", key.arn, "resource-based"));
    });

    it("root delegation keeps only a caller whose IAM policies allow kms:PutKeyPolicy", async () => {
      expect(await errorOf(createKey(IVAN, policy(rootDelegation(A))))).toEqual(malformed("The new key policy will not allow you to update the key policy in the future."));
      expect((await createKey(IVAN)).arn).toMatch(/:key\//);
    });
  });

  describe("AWS managed keys", () => {
    it("direct use is denied by the fixed key policy, which GetKeyPolicy shows; Secrets Manager may use it", async () => {
      const managed = await kms(ADMIN).send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }));
      const arn = managed.KeyMetadata?.Arn ?? "";
      expect(await errorOf(encrypt(ADMIN, "alias/aws/secretsmanager"))).toEqual(denied(ADMIN, "kms:Encrypt", arn, "resource-based"));
      const fixed = JSON.parse((await kms(ADMIN).send(new GetKeyPolicyCommand({ KeyId: arn }))).Policy ?? "{}");
      expect(fixed.Statement[0].Condition.StringEquals).toEqual({ "kms:CallerAccount": A, "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` });
      await sm(APP).send(new CreateSecretCommand({ Name: "managed/app", SecretString: "default-key" }));
      expect((await sm(APP).send(new GetSecretValueCommand({ SecretId: "managed/app" }))).SecretString).toBe("default-key");
    });

    it("management is refused naming the real caller", async () => {
      const managed = await kms(ADMIN).send(new DescribeKeyCommand({ KeyId: "alias/aws/secretsmanager" }));
      const arn = managed.KeyMetadata?.Arn ?? "";
      expect(await errorOf(kms(ADMIN).send(new ScheduleKeyDeletionCommand({ KeyId: arn })))).toEqual(denied(ADMIN, "kms:ScheduleKeyDeletion", arn, "resource-based"));
    });
  });
});
