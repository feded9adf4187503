// What KMS operation specs share: a server and SDK client per file, key material wrapped for import, raw JSON-1.1 calls, a key's last usage, the DryRun answer, a grant token, a stopped server's records, custom key store states.
import { CreateGrantCommand, DescribeCustomKeyStoresCommand, GetKeyLastUsageCommand, type ConnectionStateType, type KMSClient } from "@aws-sdk/client-kms";
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import type { Store } from "../../src/storage/store";
import { openServerStore, rawRequest, startTestServer, type TestServer } from "./server";

export interface KmsSpecServer {
  readonly server: TestServer;
  readonly kms: KMSClient;
}

/** Starts a server before the file's tests and closes it after them; read the fields inside tests only. */
export function useKmsServer(): KmsSpecServer {
  const state: { server?: TestServer; kms?: KMSClient } = {};
  beforeAll(async () => {
    state.server = await startTestServer();
    state.kms = state.server.kms();
  });
  afterAll(() => state.server?.close());
  return {
    get server() {
      if (state.server === undefined) throw new Error("useKmsServer: the server starts in beforeAll");
      return state.server;
    },
    get kms() {
      if (state.kms === undefined) throw new Error("useKmsServer: the server starts in beforeAll");
      return state.kms;
    },
  };
}

export type WrappingAlgorithm = "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" | "RSA_AES_KEY_WRAP_SHA_1" | "RSA_AES_KEY_WRAP_SHA_256";

/** What a user does with the downloaded public key, in Node: OAEP directly, or OAEP of an AES key then RFC 5649 key wrap. */
export function wrapMaterial(publicKey: Uint8Array, algorithm: WrappingAlgorithm, material: Buffer): Buffer {
  const key = createPublicKey({ key: Buffer.from(publicKey), format: "der", type: "spki" });
  const oaep = (data: Buffer) =>
    publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm.endsWith("SHA_1") ? "sha1" : "sha256" }, data);
  if (algorithm.startsWith("RSAES_OAEP")) return oaep(material);
  const aesKey = randomBytes(32);
  const cipher = createCipheriv("id-aes256-wrap-pad", aesKey, Buffer.from("A65959A6", "hex"));
  return Buffer.concat([oaep(aesKey), cipher.update(material), cipher.final()]);
}


/** A raw JSON-1.1 KMS call, SigV4-signed: the status and the decoded body. */
export async function rawKms(
  server: { url: string },
  operation: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await rawRequest(server, { target: `TrentService.${operation}`, body: JSON.stringify(body) });
  return { status: response.status, body: JSON.parse(response.text) as Record<string, unknown> };
}

/** The operation GetKeyLastUsage names for a key, if any. */
export const lastUsage = async (kms: KMSClient, keyId: string): Promise<string | undefined> =>
  (await kms.send(new GetKeyLastUsageCommand({ KeyId: keyId }))).KeyLastUsage?.Operation;

export const DRY_RUN = { name: "DryRunOperationException", message: "The request would have succeeded, but the DryRun option is set." };

/** A live grant token for `keyId` (a DescribeKey grant, which every key type takes): GrantTokens must name real grants. */
export const grantToken = async (kms: KMSClient, keyId: string): Promise<string> =>
  (await kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: "arn:aws:iam::000000000000:role/grantee", Operations: ["DescribeKey"] }))).GrantToken!;

/** Reads records of a stopped server's store (its data dir's LevelDB, or its PostgreSQL database), opened as the server opens it. */
export async function readStore<T>(dataDir: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openServerStore(dataDir);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

export const describeStore = async (client: KMSClient, id: string) =>
  (await client.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores?.[0];

/** A custom key store's state once a connection attempt has ended. */
export async function settled(client: KMSClient, id: string): Promise<ConnectionStateType | undefined> {
  for (let i = 0; i < 200; i++) {
    const state = (await describeStore(client, id))?.ConnectionState;
    if (state !== "CONNECTING") return state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("still CONNECTING");
}
