// AWS's "Key states and KMS operations" table, every operation × state cell, transcribed here independently of
// src/services/kms/key-states.ts; then one representative row of each state Issue 11 added, through the SDK.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  CancelKeyDeletionCommand,
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyCommand,
  EncryptCommand,
  ListResourceTagsCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UpdatePrimaryRegionCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { initialisePkcs11Token, listPkcs11Tokens } from "../../src/crypto/pkcs11-module";
import type { AwsError } from "../../src/errors";
import { newKeyRecord, type KeyState, type KmsKeyRecord } from "../../src/services/kms/key-record";
import { assertKeyState, stateError, type KeyStateOperation } from "../../src/services/kms/key-states";
import { TestClock } from "../support/clock";
import { temporaryDirs } from "../support/files";
import { describeStore, settled } from "../support/kms";
import { ACCOUNT, startTestServer, type TestServer } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

/** The table's columns, in the order every row below lists its cells. */
const STATES = ["Enabled", "Disabled", "PendingDeletion", "PendingImport", "Creating", "Updating", "PendingReplicaDeletion", "Unavailable"] as const satisfies readonly KeyState[];

/*
 * One cell per state, separated by spaces, in STATES' order:
 *   ✓  the operation proceeds
 *   X  refused with the state's own error (the page's footnotes [1], [3], [5], [11]; see refusalFor)
 *   4  [4] KMSInvalidStateException "<ARN> is not pending deletion."
 *   6  [6] UnsupportedOperationException "<ARN> origin is EXTERNAL which is not valid for this operation."
 *
 * Enabled, Disabled, PendingDeletion, PendingImport and Unavailable are the page's columns, cell for cell as the archived
 * page gives them (awsdocs/aws-kms-developer-guide, doc_source/key-state.md). Its origin footnotes ([7] custom key
 * store or imported material, [9] no imported material: UnsupportedOperationException) are checks made after this
 * table, so a "?" or "X" cell that is only [7] or [9] is ✓ here. The page describes Creating
 * ("you can manage key, but you cannot yet use it in cryptographic operations"), Updating ("you can use the keys in
 * cryptographic operations, but you cannot replicate the new primary key or perform certain management operations,
 * such as enabling or disabling these keys") and PendingReplicaDeletion (a primary waiting for its replicas' deletion)
 * in prose; where it leaves a cell open, the cell is the decision key-states.ts records, cited on the row:
 *   (a) Creating also refuses EnableKey, DisableKey and the rotation changes, so nothing races the state the replica
 *       is headed for;
 *   (b) Updating refuses what changes state, rotation or the key set (ScheduleKeyDeletion, ReplicateKey, the rotation
 *       changes, UpdatePrimaryRegion);
 *   (c) PendingReplicaDeletion is refused as PendingDeletion is, and CancelKeyDeletion applies to it;
 *   (d) a cryptographic operation on a PendingDeletion key answers [3], not the archived page's "[2] or [3]";
 *   (e) operations newer than the page take the row of their nearest kin.
 * Typed as a Record over KeyStateOperation: an operation added to or dropped from the code's table fails to compile.
 */
//                                         Enabled Disabled PendDel PendImp Creating Updating PendRepl Unavail
const CRYPTO = "✓ X X X X ✓ X X"; // only Enabled, or Updating ("you can use the keys in cryptographic operations"); (d)
const EXPECTED: Record<KeyStateOperation, string> = {
  CancelKeyDeletion: "4 4 ✓ 4 4 4 ✓ 4", // (c)
  CreateAlias: "✓ ✓ X ✓ ✓ ✓ X ✓",
  // The page: [1] disabled, [3] pending deletion, [5] pending import; its Unavailable column allows it.
  CreateGrant: "✓ X X X X ✓ X ✓",
  Decrypt: CRYPTO,
  DeleteAlias: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  // The archived page marks PendingDeletion "X [9]"; key-states.ts follows the model's "When the specified KMS key is in
  // the PendingDeletion state, this operation does not change the KMS key's state", i.e. it proceeds.
  DeleteImportedKeyMaterial: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  DeriveSharedSecret: CRYPTO, // (e)
  DescribeKey: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  DisableKey: "✓ ✓ X X X X X ✓", // (a) (b)
  DisableKeyRotation: "✓ X X 6 X X X ✓", // the page: Disabled "[1] or [7]", PendingDeletion "[3] or [7]"; (a) (b)
  EnableKey: "✓ ✓ X X X X X ✓", // (a) (b)
  EnableKeyRotation: "✓ X X 6 X X X ✓", // (a) (b)
  Encrypt: CRYPTO,
  GenerateDataKey: CRYPTO,
  GenerateDataKeyWithoutPlaintext: CRYPTO,
  GenerateDataKeyPair: CRYPTO,
  GenerateDataKeyPairWithoutPlaintext: CRYPTO,
  GenerateMac: CRYPTO,
  GetKeyLastUsage: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓", // (e): read like DescribeKey
  GetKeyPolicy: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  GetKeyRotationStatus: "✓ ✓ ✓ 6 ✓ ✓ ✓ ✓", // the page's PendingDeletion "? [7]": a key pending deletion answers
  GetParametersForImport: "✓ ✓ X ✓ ✓ ✓ X ✓",
  GetPublicKey: CRYPTO,
  ImportKeyMaterial: "✓ ✓ X ✓ ✓ ✓ X ✓",
  ListGrants: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  ListKeyPolicies: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  ListKeyRotations: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓", // (e): lists a PendingImport key's material as PENDING_IMPORT
  ListResourceTags: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  PutKeyPolicy: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  ReEncrypt: CRYPTO,
  ReplicateKey: "✓ ✓ X ✓ ✓ X X ✓", // (b): "you cannot replicate the new primary key"
  RetireGrant: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  RevokeGrant: "✓ ✓ ✓ ✓ ✓ ✓ ✓ ✓",
  RotateKeyOnDemand: "✓ X X 6 X X X ✓", // (e): EnableKeyRotation's row
  ScheduleKeyDeletion: "✓ ✓ X ✓ ✓ X X ✓", // (b) (c)
  Sign: CRYPTO,
  TagResource: "✓ ✓ X ✓ ✓ ✓ X ✓",
  UntagResource: "✓ ✓ X ✓ ✓ ✓ X ✓",
  UpdateAlias: "✓ ✓ X ✓ ✓ ✓ X ✓", // for the target key
  UpdateKeyDescription: "✓ ✓ X ✓ ✓ ✓ X ✓",
  // Both keys Enabled (the model lists DisabledException); (a) (b).
  UpdatePrimaryRegion: "✓ X X X X X X ✓",
  Verify: CRYPTO,
  VerifyMac: CRYPTO,
};

const scope = { account: "111122223333", region: "us-west-2", partition: "aws" };
const recordIn = (keyState: KeyState): KmsKeyRecord => ({
  ...newKeyRecord(scope, new Date("2026-01-01T00:00:00Z"), {}, [{ id: "c".repeat(64), wrapped: "", createdAt: 0 }]),
  keyState,
});

/** The state's own refusal: the page's footnotes, and the texts recorded or chosen for the multi-Region states. */
function refusalFor(state: KeyState, arn: string): { code: string; message: string } {
  switch (state) {
    case "Disabled":
      return { code: "DisabledException", message: `${arn} is disabled.` }; // [1]
    case "PendingDeletion":
      return { code: "KMSInvalidStateException", message: `${arn} is pending deletion.` }; // [3]
    case "PendingImport":
      return { code: "KMSInvalidStateException", message: `${arn} is pending import.` }; // [5]
    case "Unavailable":
      return { code: "KMSInvalidStateException", message: `${arn} is unavailable.` }; // [11]
    case "Creating":
      return { code: "KMSInvalidStateException", message: `${arn} is creating.` }; // recorded from AWS
    case "Updating":
      return { code: "KMSInvalidStateException", message: `${arn} is updating.` }; // worded as the others
    case "PendingReplicaDeletion":
      return { code: "KMSInvalidStateException", message: `${arn} is pending replica deletion.` }; // worded as the others
    case "Enabled":
      throw new Error("an Enabled key has no state refusal of its own");
  }
}

function expectedAnswer(cell: string, state: KeyState, arn: string): "ok" | { code: string; message: string } {
  switch (cell) {
    case "✓":
      return "ok";
    case "X":
      return refusalFor(state, arn);
    case "4":
      return { code: "KMSInvalidStateException", message: `${arn} is not pending deletion.` };
    case "6":
      return { code: "UnsupportedOperationException", message: `${arn} origin is EXTERNAL which is not valid for this operation.` };
    default:
      throw new Error(`unknown cell '${cell}'`);
  }
}

function actualAnswer(operation: KeyStateOperation, key: KmsKeyRecord): "ok" | { code: string; message: string } {
  try {
    assertKeyState(operation, key);
    return "ok";
  } catch (error) {
    const refused = error as AwsError;
    // assertKeyState throws exactly what stateError answers.
    expect(stateError(operation, key)).toMatchObject({ code: refused.code, message: refused.message });
    return { code: refused.code, message: refused.message };
  }
}

const cells = Object.entries(EXPECTED).flatMap(([operation, row]) => {
  const answers = row.split(" ");
  if (answers.length !== STATES.length) throw new Error(`${operation}: ${answers.length} cells, not ${STATES.length}`);
  return STATES.map((state, i) => [operation as KeyStateOperation, state, answers[i] ?? ""] as const);
});

describe("the key-state table, cell by cell", () => {
  it("has a row of 8 cells for each of the code's 43 operations", () => {
    expect(Object.keys(EXPECTED)).toHaveLength(43);
    expect(cells).toHaveLength(43 * 8);
  });

  it.each(cells)("%s on a %s key: %s", (operation, state, cell) => {
    const key = recordIn(state);
    expect(actualAnswer(operation, key)).toEqual(expectedAnswer(cell, state, key.arn));
  });
});

// End to end: the SDK against a started server, one representative row per state Issue 11 added.
const EAST = "us-east-1";
const WEST = "us-west-2";
const TRANSIENT_MS = 5_000;
const CLUSTER = "cluster-234567abcdeks";
const TOKEN_LABEL = "secretslite-spec-key-states";
const PIN = "kmsuser-pin-states";
const TRUST_ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const arnIn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`;
const tempDir = temporaryDirs("secretslite-key-states-");

const refusal = (promise: Promise<unknown>): Promise<{ name: string; message: string }> =>
  promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: { name: string; message: string }) => ({ name: error.name, message: error.message }),
  );

describe("the key states Issue 11 added, through the SDK", () => {
  const clock = new TestClock(Date.UTC(2031, 5, 1, 8));
  let server: TestServer;
  let east: KMSClient;
  let west: KMSClient;

  beforeAll(async () => {
    const clusters = path.join(tempDir(), "clusters.yaml");
    writeFileSync(clusters, `${CLUSTER}: { tokenLabel: ${TOKEN_LABEL} }\n`);
    server = await startTestServer({ clock, flags: ["--transient-state-ms", String(TRANSIENT_MS), "--cloudhsm-clusters", clusters] });
    east = server.kms({ region: EAST });
    west = server.kms({ region: WEST });
    // A token of this file's own on the worker's SoftHSM2, made while the server holds the library (as custom-key-stores.spec.ts does).
    const softhsm = await testSoftHsm();
    if (!listPkcs11Tokens(softhsm.modulePath, softhsm.softhsmConfigPath).some((token) => token.label === TOKEN_LABEL)) {
      initialisePkcs11Token({ modulePath: softhsm.modulePath, softhsmConfigPath: softhsm.softhsmConfigPath, tokenLabel: TOKEN_LABEL, soPin: "so-pin-1234", pin: PIN });
    }
  });
  afterAll(() => server?.close());

  const multiRegionPrimary = async (): Promise<string> =>
    (await east.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata?.KeyId ?? "";
  const stateOf = async (client: KMSClient, keyId: string) => (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;

  it("Creating: Encrypt and EnableKey refused; DescribeKey and TagResource allowed", async () => {
    const keyId = await multiRegionPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
    expect(await stateOf(west, keyId)).toBe("Creating");
    const arn = arnIn(WEST, keyId);
    expect(await refusal(west.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arn} is creating.`,
    });
    expect(await refusal(west.send(new EnableKeyCommand({ KeyId: keyId })))).toEqual({ name: "KMSInvalidStateException", message: `${arn} is creating.` });
    await west.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "while", TagValue: "creating" }] }));
    expect((await west.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: "while", TagValue: "creating" }]);
    expect(await stateOf(west, keyId)).toBe("Creating");
    clock.ms += TRANSIENT_MS;
    expect(await stateOf(west, keyId)).toBe("Enabled");
  });

  it("Updating: EnableKey and ScheduleKeyDeletion refused; Encrypt and TagResource allowed", async () => {
    const keyId = await multiRegionPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
    clock.ms += TRANSIENT_MS;
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: WEST }));
    expect(await stateOf(east, keyId)).toBe("Updating");
    const arn = arnIn(EAST, keyId);
    expect(await refusal(east.send(new EnableKeyCommand({ KeyId: keyId })))).toEqual({ name: "KMSInvalidStateException", message: `${arn} is updating.` });
    expect(await refusal(east.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arn} is updating.`,
    });
    expect((await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") }))).KeyId).toBe(arn);
    await east.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "while", TagValue: "updating" }] }));
    clock.ms += TRANSIENT_MS;
    expect(await stateOf(east, keyId)).toBe("Enabled");
  });

  it("PendingReplicaDeletion: Encrypt and TagResource refused; CancelKeyDeletion allowed", async () => {
    const keyId = await multiRegionPrimary();
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: WEST }));
    clock.ms += TRANSIENT_MS;
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(await stateOf(east, keyId)).toBe("PendingReplicaDeletion");
    const arn = arnIn(EAST, keyId);
    const pending = { name: "KMSInvalidStateException", message: `${arn} is pending replica deletion.` };
    expect(await refusal(east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toEqual(pending);
    expect(await refusal(east.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "k", TagValue: "v" }] })))).toEqual(pending);
    expect((await east.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).KeyId).toBe(arn);
    // A cancelled deletion leaves the key Disabled, as it does a PendingDeletion key.
    expect(await stateOf(east, keyId)).toBe("Disabled");
  });

  it("Unavailable: CreateGrant and TagResource allowed; Encrypt refused with '<ARN> is unavailable.'", async () => {
    const storeId =
      (await east.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: "key-states", CloudHsmClusterId: CLUSTER, TrustAnchorCertificate: TRUST_ANCHOR, KeyStorePassword: PIN })))
        .CustomKeyStoreId ?? "";
    await east.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect(await settled(east, storeId)).toBe("CONNECTED");
    const created = (await east.send(new CreateKeyCommand({ CustomKeyStoreId: storeId, Origin: "AWS_CLOUDHSM" }))).KeyMetadata;
    const keyId = created?.KeyId ?? "";
    const arn = created?.Arn ?? "";
    await east.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    expect((await describeStore(east, storeId))?.ConnectionState).toBe("DISCONNECTED");
    expect(await stateOf(east, keyId)).toBe("Unavailable");

    const grant = await east.send(
      new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: `arn:aws:iam::${ACCOUNT}:role/reader`, Operations: ["Decrypt"] }),
    );
    expect(grant.GrantId).toMatch(/^[0-9a-f]{64}$/);
    await east.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "while", TagValue: "unavailable" }] }));
    expect(await refusal(east.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("x") })))).toEqual({
      name: "KMSInvalidStateException",
      message: `${arn} is unavailable.`,
    });
  });
});
