// Custom key stores: AWS_CLOUDHSM ones on PKCS#11 tokens and EXTERNAL_KEY_STORE ones behind XKS proxies; records, sealed secrets, connections, keys.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { connectClusterToken, TokenConnectionError, type ClusterToken, type ClusterTokenConnection } from "../../crypto/cluster-token";
import type { BackingKeyRef, KeyStore } from "../../crypto/key-store";
import type { Logger } from "../../logger";
import { GLOBAL, kindRange, recordKey } from "../../storage/keys";
import type { StoredValue, Store } from "../../storage/store";
import { XksCallError, type XksCall } from "../../xks/client";
import type { Scope } from "../scope";
import {
  cloudHsmClusterInUse,
  cloudHsmClusterNotFound,
  customKeyStoreHasKeys,
  customKeyStoreInvalidState,
  customKeyStoreNameInUse,
  customKeyStoreNotFound,
  invalidState,
  unsupportedOperation,
  xksProxyUriInUse,
  xksProxyVpcEndpointServiceInUse,
  xksCreateKeyFailed,
  xksCryptoFailed,
  xksKeyInvalidConfiguration,
  XKS_MESSAGES,
  xksStoreCheckFailed,
} from "./errors";
import type { KeyUse } from "./ciphertext";
import type { KmsKeyRecord } from "./key-record";

export type ConnectionState = "CONNECTED" | "CONNECTING" | "FAILED" | "DISCONNECTED" | "DISCONNECTING";

export interface CustomKeyStoreRecord extends StoredValue {
  readonly v: 1;
  readonly id: string;
  readonly account: string;
  readonly region: string;
  readonly name: string;
  /** Absent on AWS_CLOUDHSM stores (every record written before external key stores existed is one). */
  readonly type?: "EXTERNAL_KEY_STORE";
  /** An external key store's proxy; its RawSecretAccessKey is `password`. */
  readonly xks?: XksProxySettings;
  /** "" for an external key store. */
  readonly clusterId: string;
  readonly trustAnchorCertificate: string;
  readonly createdAt: number;
  /**
   * Where the store was left: CONNECTED stores connect again when secretslite starts, as AWS keeps them connected, and
   * so do CONNECTING ones (a ConnectCustomKeyStore was answered, and a restart must not drop it).
   */
  readonly state: "CONNECTED" | "CONNECTING" | "DISCONNECTED" | "FAILED";
  readonly errorCode?: string;
  /** KeyStorePassword (the token's user PIN), or an external key store's RawSecretAccessKey: AES-256-GCM under a backing key of its own wrapped by the root key. */
  readonly password: { readonly wrapped: string; readonly iv: string; readonly sealed: string };
}

/** What a store shows: its record with the state this process sees now. */
export interface CustomKeyStoreView {
  readonly record: CustomKeyStoreRecord;
  readonly state: ConnectionState;
}

/** A connection under way or made; CONNECTING and DISCONNECTING exist only here, in this process. */
interface Live {
  state: "CONNECTING" | "CONNECTED" | "DISCONNECTING";
  connection: ClusterTokenConnection | undefined;
  settled: Promise<void>;
  /** Once connected: which token, and a keyed digest of the PIN that logged in to it (see checkSamePin). */
  token?: string;
  pinDigest?: Buffer;
  /** Once an external key store is connected: how to call its proxy (the secret opened once, at connect). */
  xksCall?: XksCall;
  /** The store's account and Region (a partition reset closes its connections). */
  readonly scope: { readonly account: string; readonly region: string };
}

export interface XksProxySettings {
  readonly connectivity: "PUBLIC_ENDPOINT" | "VPC_ENDPOINT_SERVICE";
  readonly uriEndpoint: string;
  readonly uriPath: string;
  readonly vpcEndpointServiceName?: string;
  readonly accessKeyId: string;
}

export interface CustomKeyStoreChanges {
  readonly name?: string;
  readonly clusterId?: string;
  /** The PIN, or for an external key store the RawSecretAccessKey. */
  readonly password?: string;
  /** External key stores: the proxy settings to merge in. */
  readonly xks?: Partial<XksProxySettings>;
}

/** Signed calls to XKS proxies (src/xks/client.ts): a store's proxy and credential, the operation's path, its body. */
export type XksCaller = (call: XksCall, operation: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** ConnectionErrorCode for each way an external key store's health check fails (the model's ConnectionErrorCodeType). */
const XKS_CONNECTION_ERROR: Readonly<Record<string, string>> = {
  UNREACHABLE: "XKS_PROXY_NOT_REACHABLE",
  TLS: "XKS_PROXY_INVALID_TLS_CONFIGURATION",
  TIMEOUT: "XKS_PROXY_TIMED_OUT",
  DependencyTimeoutException: "XKS_PROXY_TIMED_OUT",
  AuthenticationFailedException: "INVALID_CREDENTIALS",
  InvalidUriPathException: "XKS_PROXY_INVALID_CONFIGURATION",
  AccessDeniedException: "XKS_PROXY_ACCESS_DENIED",
};

/** The AES-256-GCM a Ciphertexts instance needs from whatever holds a KMS key's material. */
export type Sealer = Pick<KeyStore, "seal" | "open">;

/**
 * The custom key stores of every account and Region, each record under GLOBAL (account/region/id) so a start finds
 * every store to reconnect in one range. One lock per account and Region covers every change, which keeps names and
 * clusters unique without an index.
 */
export class CustomKeyStores {
  private readonly live = new Map<string, Live>();
  /** Keys the PIN digests: new in every process, so a digest means nothing outside it. */
  private readonly pinDigestKey = randomBytes(32);

  constructor(
    private readonly store: Store,
    private readonly keyStore: KeyStore,
    private readonly clusters: ReadonlyMap<string, ClusterToken>,
    /** Whether any KMS key (pending deletion included) is still in the store: DeleteCustomKeyStore's check. */
    private readonly holdsKeys: (scope: Scope, customKeyStoreId: string) => Promise<boolean>,
    private readonly logger?: Logger,
    private readonly xksCaller?: XksCaller,
  ) {}

  /** Connects, in the background, every store that was CONNECTED when secretslite stopped. */
  async start(): Promise<void> {
    const range = kindRange(GLOBAL, "kms", "kms-custom-key-store");
    for await (const [, record] of this.store.range<CustomKeyStoreRecord>(range)) {
      if (record.state === "CONNECTED" || record.state === "CONNECTING") this.beginConnect(record);
    }
  }

  async create(scope: Scope, now: Date, input: { name: string; clusterId: string; trustAnchorCertificate: string; password: string }): Promise<string> {
    if (!this.clusters.has(input.clusterId)) throw cloudHsmClusterNotFound(input.clusterId);
    return this.insert(scope, now, { name: input.name, clusterId: input.clusterId, trustAnchorCertificate: input.trustAnchorCertificate }, input.password);
  }

  /**
   * An EXTERNAL_KEY_STORE store. With PUBLIC_ENDPOINT KMS calls the proxy's health check first ("this endpoint must be
   * reachable before you create the custom key store", the model); a VPC endpoint service cannot be checked here.
   */
  async createExternal(scope: Scope, now: Date, input: { name: string; xks: XksProxySettings; secretAccessKey: string }): Promise<string> {
    await this.checkProxy(scope.region, input.xks, input.secretAccessKey, "CreateCustomKeyStore");
    return this.insert(scope, now, { name: input.name, clusterId: "", trustAnchorCertificate: "", type: "EXTERNAL_KEY_STORE", xks: input.xks }, input.secretAccessKey);
  }

  private async insert(
    scope: Scope,
    now: Date,
    fields: Pick<CustomKeyStoreRecord, "name" | "clusterId" | "trustAnchorCertificate" | "type" | "xks">,
    secret: string,
  ): Promise<string> {
    // The token call happens before the lock.
    const id = "cks-" + randomBytes(9).toString("hex").slice(0, 17);
    const password = await this.sealPassword(scope, id, secret);
    await this.store.withLock(this.lockName(scope), async () => {
      const record: CustomKeyStoreRecord = { v: 1, id, account: scope.account, region: scope.region, ...fields, createdAt: now.getTime(), state: "DISCONNECTED", password };
      this.checkUnique(record, await this.all(scope));
      await this.store.batch([{ type: "put", key: this.recordName(scope, id), value: record }]);
    });
    return id;
  }

  /** Names are unique in the Region; so are clusters among CloudHSM stores and proxies among external ones (the model's *InUse exceptions). */
  private checkUnique(record: CustomKeyStoreRecord, all: readonly CustomKeyStoreRecord[]): void {
    const others = all.filter((other) => other.id !== record.id);
    if (others.some((other) => other.name === record.name)) throw customKeyStoreNameInUse(record.name);
    if (record.xks === undefined) {
      if (others.some((other) => other.xks === undefined && other.clusterId === record.clusterId)) throw cloudHsmClusterInUse(record.clusterId);
      return;
    }
    const { xks } = record;
    const uri = xks.uriEndpoint + xks.uriPath;
    if (others.some((other) => other.xks !== undefined && other.xks.uriEndpoint + other.xks.uriPath === uri)) throw xksProxyUriInUse(uri);
    const service = xks.vpcEndpointServiceName;
    if (service !== undefined && others.some((other) => other.xks?.vpcEndpointServiceName === service)) throw xksProxyVpcEndpointServiceInUse(service);
  }

  /** The proxy's GetHealthStatus, as Create/UpdateCustomKeyStore run it; each failure is the exception the XKS spec's table names. */
  private async checkProxy(region: string, xks: XksProxySettings, secretAccessKey: string, kmsOperation: string): Promise<void> {
    if (xks.connectivity !== "PUBLIC_ENDPOINT") return;
    try {
      await this.callProxy(region, xks, secretAccessKey, kmsOperation);
    } catch (error) {
      if (error instanceof XksCallError) throw xksStoreCheckFailed(error.kind);
      throw error;
    }
  }

  private async callProxy(region: string, xks: XksProxySettings, secretAccessKey: string, kmsOperation: string): Promise<Record<string, unknown>> {
    if (this.xksCaller === undefined) throw new XksCallError("UNREACHABLE", "no XKS proxies are configured (--xks-proxies)");
    return this.xksCaller(this.xksCallOf(region, xks, secretAccessKey), "health", { requestMetadata: { awsPrincipalArn: "AWS Internal", kmsOperation, kmsRequestId: randomUUID() } });
  }

  private xksCallOf(region: string, xks: XksProxySettings, secretAccessKey: string): XksCall {
    return { endpoint: xks.uriEndpoint, uriPath: xks.uriPath, accessKeyId: xks.accessKeyId, secretAccessKey, region };
  }

  /** Every store of the scope in id order, with its state. */
  async list(scope: Scope): Promise<CustomKeyStoreView[]> {
    return (await this.all(scope)).map((record) => this.view(record));
  }

  async describe(scope: Scope, id: string): Promise<CustomKeyStoreView> {
    return this.view(await this.required(scope, id));
  }

  /** ConnectCustomKeyStore: answers at once; the token is logged in to in the background. */
  async connect(scope: Scope, id: string): Promise<void> {
    const record = await this.required(scope, id);
    const state = this.stateOf(record);
    if (state === "FAILED" || state === "DISCONNECTING") {
      throw customKeyStoreInvalidState(
        `Custom key store '${id}' is ${state}: ConnectCustomKeyStore needs it DISCONNECTED` +
          (state === "FAILED" ? " (disconnect it first, fix the cause, then connect)." : "."),
      );
    }
    if (state !== "DISCONNECTED") return;
    // The live entry first (synchronously, so a second Connect sees CONNECTING), then CONNECTING stored before the
    // answer, so a restart before the connection settles still connects the store. The lock queues the connection's
    // own state write after this one.
    this.beginConnect(record);
    await this.setState(scope, id, "CONNECTING", undefined);
  }

  async disconnect(scope: Scope, id: string): Promise<void> {
    const record = await this.required(scope, id);
    const state = this.stateOf(record);
    if (state === "DISCONNECTED" || state === "DISCONNECTING") {
      throw customKeyStoreInvalidState(`Custom key store '${id}' is ${state}: DisconnectCustomKeyStore needs it connected, connecting or failed.`);
    }
    const live = this.live.get(this.recordName(scope, id));
    if (live !== undefined) {
      live.state = "DISCONNECTING";
      await live.settled;
      live.connection?.close();
      this.live.delete(this.recordName(scope, id));
    }
    await this.setState(scope, id, "DISCONNECTED", undefined);
  }

  /** UpdateCustomKeyStore: the name in any state, anything else only while DISCONNECTED. */
  async update(scope: Scope, id: string, changes: CustomKeyStoreChanges): Promise<void> {
    if (changes.clusterId !== undefined && !this.clusters.has(changes.clusterId)) throw cloudHsmClusterNotFound(changes.clusterId);
    const before = await this.required(scope, id);
    if (before.xks !== undefined && (changes.xks !== undefined || changes.password !== undefined)) {
      // The proxy is checked with the settings as they will be, the stored secret standing in for one not given.
      if (this.stateOf(before) !== "DISCONNECTED") throw this.notDisconnected(before, "UpdateCustomKeyStore (but for a new name)");
      await this.checkProxy(scope.region, { ...before.xks, ...changes.xks }, changes.password ?? this.openPassword(before), "UpdateCustomKeyStore");
    }
    const password = changes.password === undefined ? undefined : await this.sealPassword(scope, id, changes.password);
    await this.store.withLock(this.lockName(scope), async () => {
      const record = await this.required(scope, id);
      if ((changes.clusterId !== undefined || changes.password !== undefined || changes.xks !== undefined) && this.stateOf(record) !== "DISCONNECTED") {
        throw this.notDisconnected(record, "UpdateCustomKeyStore (but for a new name)");
      }
      const updated: CustomKeyStoreRecord = {
        ...record,
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.clusterId === undefined ? {} : { clusterId: changes.clusterId }),
        ...(changes.xks === undefined || record.xks === undefined ? {} : { xks: { ...record.xks, ...changes.xks } }),
        ...(password === undefined ? {} : { password }),
      };
      this.checkUnique(updated, await this.all(scope));
      await this.store.batch([{ type: "put", key: this.recordName(scope, id), value: updated }]);
    });
  }

  async delete(scope: Scope, id: string): Promise<void> {
    await this.store.withLock(this.lockName(scope), async () => {
      const record = await this.required(scope, id);
      if (this.stateOf(record) !== "DISCONNECTED") throw this.notDisconnected(record, "DeleteCustomKeyStore");
      if (await this.holdsKeys(scope, id)) throw customKeyStoreHasKeys(id);
      await this.store.batch([{ type: "del", key: this.recordName(scope, id) }]);
    });
  }

  /** CreateKey in a store: the store must be CONNECTED; the key's AES-256 material is made as a token object there. */
  async createKeyMaterial(scope: Scope, id: string, keyId: string): Promise<{ id: string; clusterId: string }> {
    const record = await this.required(scope, id);
    if (record.xks !== undefined) {
      throw unsupportedOperation(`Custom key store '${id}' is an external key store: its keys need Origin EXTERNAL_KEY_STORE and an XksKeyId.`);
    }
    const connection = this.live.get(this.recordName(scope, id));
    if (connection?.state !== "CONNECTED" || connection.connection === undefined) throw this.notConnected(record, "CreateKey");
    connection.connection.generateKey(keyId);
    return { id, clusterId: record.clusterId };
  }

  /**
   * CreateKey in an external key store: the store must be CONNECTED and its proxy must vouch for the external key with
   * GetKeyMetadata — "keySpec is not AES_256, keyUsage is missing ENCRYPT or DECRYPT (or both), keyStatus is not
   * ENABLED" each fail CreateKey (the XKS proxy API specification, GetKeyMetadata's KMS considerations).
   */
  async checkExternalKey(scope: Scope, id: string, xksKeyId: string, use: KeyUse | undefined): Promise<void> {
    const record = await this.required(scope, id);
    if (record.xks === undefined) {
      throw unsupportedOperation(`Custom key store '${id}' is a CloudHSM key store: its keys have Origin AWS_CLOUDHSM and no XksKeyId.`);
    }
    const call = this.liveXksCall(record);
    if (call === undefined) throw this.notConnected(record, "CreateKey");
    let answer: Record<string, unknown>;
    try {
      // "KMS will include [kmsKeyArn] when the kmsOperation is DescribeKey but not for CreateKey" (the spec's change log).
      answer = await call.caller(call, `keys/${xksKeyId}/metadata`, { requestMetadata: requestMetadata(use, "CreateKey", undefined) });
    } catch (error) {
      if (error instanceof XksCallError) throw xksCreateKeyFailed(error.kind);
      throw error;
    }
    const { keySpec, keyUsage, keyStatus } = answer;
    const usage = Array.isArray(keyUsage) ? keyUsage : [];
    if (keySpec !== "AES_256" || !usage.includes("ENCRYPT") || !usage.includes("DECRYPT") || keyStatus !== "ENABLED") {
      throw xksKeyInvalidConfiguration(xksKeyId, `keySpec ${String(keySpec)}, keyUsage ${JSON.stringify(usage)}, keyStatus ${String(keyStatus)}`);
    }
  }

  /**
   * The outer layer of double encryption: the proxy's AES-GCM under the key's external key, over what KMS-side material
   * sealed. The response is checked as KMS checks it, its Ciphertext Data Integrity Value included (Appendix C), so a
   * proxy that answers something it could not decrypt again never makes a ciphertext.
   */
  async externalEncrypt(key: KmsKeyRecord, plaintext: Buffer, aad: Buffer, use: KeyUse): Promise<ExternalCiphertext> {
    const answer = await this.callForKey(key, "encrypt", use, {
      plaintext: plaintext.toString("base64"),
      encryptionAlgorithm: "AES_GCM",
      additionalAuthenticatedData: aad.toString("base64"),
      ciphertextDataIntegrityValueAlgorithm: "SHA_256",
    });
    const field = (name: string): Buffer | undefined => (typeof answer[name] === "string" ? Buffer.from(answer[name] as string, "base64") : undefined);
    const ciphertext = field("ciphertext");
    const iv = field("initializationVector");
    const tag = field("authenticationTag");
    const metadata = field("ciphertextMetadata") ?? Buffer.alloc(0);
    const cdiv = field("ciphertextDataIntegrityValue");
    if (ciphertext === undefined || ciphertext.length !== plaintext.length || iv === undefined || (iv.length !== 12 && iv.length !== 16)) throw xksCryptoFailed("MALFORMED");
    if (tag === undefined || tag.length !== 16 || metadata.length > 20 || cdiv === undefined) throw xksCryptoFailed("MALFORMED");
    const expected = createHash("sha256").update(aad).update(metadata).update(iv).update(ciphertext).update(tag).digest();
    if (!cdiv.equals(expected)) throw xksCryptoFailed("MALFORMED");
    return { ciphertext, iv, tag, metadata };
  }

  /** The outer layer's decryption by the proxy: what the KMS-side material then opens. */
  async externalDecrypt(key: KmsKeyRecord, sealed: ExternalCiphertext, aad: Buffer, use: KeyUse): Promise<Buffer> {
    const answer = await this.callForKey(key, "decrypt", use, {
      ciphertext: sealed.ciphertext.toString("base64"),
      ...(sealed.metadata.length === 0 ? {} : { ciphertextMetadata: sealed.metadata.toString("base64") }),
      initializationVector: sealed.iv.toString("base64"),
      authenticationTag: sealed.tag.toString("base64"),
      encryptionAlgorithm: "AES_GCM",
      additionalAuthenticatedData: aad.toString("base64"),
    });
    const plaintext = typeof answer.plaintext === "string" ? Buffer.from(answer.plaintext, "base64") : undefined;
    // "Proxy returns an invalid ciphertext" (the spec's table): KMS-side material would fail to open anything else.
    if (plaintext === undefined || plaintext.length !== sealed.ciphertext.length) throw xksCryptoFailed("InvalidCiphertextException");
    return plaintext;
  }

  private async callForKey(key: KmsKeyRecord, operation: "encrypt" | "decrypt", use: KeyUse, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const live = this.liveOf(key);
    const call = live?.state === "CONNECTED" ? live.xksCall : undefined;
    if (call === undefined || this.xksCaller === undefined) throw invalidState(XKS_MESSAGES.NOT_CONNECTED);
    try {
      return await this.xksCaller(call, `keys/${key.customKeyStore?.xksKeyId ?? ""}/${operation}`, { requestMetadata: requestMetadata(use, use.operation, key.arn), ...body });
    } catch (error) {
      if (error instanceof XksCallError) throw xksCryptoFailed(error.kind);
      throw error;
    }
  }

  private liveXksCall(record: CustomKeyStoreRecord): (XksCall & { caller: XksCaller }) | undefined {
    const live = this.live.get(this.recordName(record, record.id));
    const caller = this.xksCaller;
    return live?.state === "CONNECTED" && live.xksCall !== undefined && caller !== undefined ? { ...live.xksCall, caller } : undefined;
  }

  /** GenerateRandom with a CustomKeyStoreId: bytes from that store's token, CONNECTED only. */
  async random(scope: Scope, id: string, byteCount: number): Promise<Buffer> {
    const record = await this.required(scope, id);
    // The model: UnsupportedOperationException for a CustomKeyStoreId of an external key store.
    if (record.xks !== undefined) throw unsupportedOperation(`GenerateRandom does not draw from external key stores: '${id}' is one.`);
    const live = this.live.get(this.recordName(scope, id));
    if (live?.state !== "CONNECTED" || live.connection === undefined) throw this.notConnected(record, "GenerateRandom");
    return live.connection.random(byteCount);
  }

  /** Whether the key's store is connected now: when not, the key shows Unavailable and refuses cryptography. */
  available(key: KmsKeyRecord): boolean {
    return key.customKeyStore === undefined || this.liveOf(key)?.state === "CONNECTED";
  }

  /** seal and open for a key in a store, through its token object; "<ARN> is unavailable." while disconnected. */
  sealerFor(key: KmsKeyRecord): Sealer {
    const connection = this.connectionOf(key);
    if (connection === undefined) throw invalidState(`${key.arn} is unavailable.`);
    return {
      seal: (_backingKey: BackingKeyRef, iv, aad, plaintext) => connection.seal(key.keyId, iv, aad, plaintext),
      open: (_backingKey: BackingKeyRef, iv, aad, sealed) => connection.open(key.keyId, iv, aad, sealed),
    };
  }

  /**
   * A destroyed key's token object goes with it. AWS: deleting a key of a disconnected store leaves its material in
   * the cluster ("Deleting KMS keys from an AWS CloudHSM key store", KMS developer guide); so does secretslite.
   */
  destroyKeyMaterial(key: KmsKeyRecord): void {
    // An external key stays in its external key manager: KMS never deletes it (the developer guide, "Deleting KMS keys
    // in an external key store"); the KMS-side material went with the record.
    if (key.customKeyStore?.xksKeyId !== undefined) return;
    const connection = this.connectionOf(key);
    if (connection === undefined) {
      this.logger?.warn(`KMS key ${key.keyId} was deleted while its custom key store was disconnected; its token object stays on the token`);
      return;
    }
    connection.destroyKey(key.keyId);
  }

  /** Closes every connection (shutdown, or a full reset that wiped the records). */
  closeAll(): void {
    this.close(() => true);
  }

  /** Closes the connections of the stores of the selected accounts and Regions (a partition reset wiped their records). */
  close(selected: (scope: { account: string; region: string }) => boolean): void {
    for (const [name, live] of this.live) {
      if (!selected(live.scope)) continue;
      live.state = "DISCONNECTING";
      void live.settled.then(() => live.connection?.close());
      this.live.delete(name);
    }
  }

  private liveOf(key: KmsKeyRecord): Live | undefined {
    if (key.customKeyStore === undefined) return undefined;
    return this.live.get(recordKey(GLOBAL, "kms", "kms-custom-key-store", `${key.account}/${key.arn.split(":")[3] ?? ""}/${key.customKeyStore.id}`));
  }

  private connectionOf(key: KmsKeyRecord): ClusterTokenConnection | undefined {
    const live = this.liveOf(key);
    return live?.state === "CONNECTED" ? live.connection : undefined;
  }

  private beginConnect(record: CustomKeyStoreRecord): void {
    const scope = { account: record.account, region: record.region };
    const name = this.recordName(scope, record.id);
    const live: Live = { state: "CONNECTING", connection: undefined, settled: Promise.resolve(), scope };
    this.live.set(name, live);
    live.settled = (async () => {
      // Asynchronous, as AWS's: the request has been answered before the token is touched.
      await new Promise<void>((resolve) => setImmediate(resolve));
      let connection: ClusterTokenConnection | undefined;
      let errorCode: string | undefined;
      try {
        if (record.xks !== undefined) {
          errorCode = await this.connectProxy(record, record.xks);
          if (errorCode === undefined) live.xksCall = this.xksCallOf(record.region, record.xks, this.openPassword(record));
        }
        else connection = this.connectToken(record, live);
      } catch (error) {
        errorCode = error instanceof TokenConnectionError ? error.code : "INTERNAL_ERROR";
        // Worded as AWS's connection failure (aws-samples/aws-cloudhsm-cloudformation-template#12); never the PIN.
        const target = record.xks === undefined ? "CloudHSM cluster" : "external key store proxy";
        this.logger?.warn(`KMS cannot connect the custom key store ${record.id} to its ${target}. Error code: ${errorCode}`, { cause: error });
      }
      if (live.state !== "CONNECTING") {
        // DisconnectCustomKeyStore came meanwhile: it closes what was opened.
        live.connection = connection;
        return;
      }
      if (errorCode !== undefined || (connection === undefined && record.xks === undefined)) {
        // Stored before the live entry goes, so nobody sees the record's old state in between.
        await this.setState(scope, record.id, "FAILED", errorCode);
        this.live.delete(name);
        return;
      }
      live.connection = connection;
      live.state = "CONNECTED";
      await this.setState(scope, record.id, "CONNECTED", undefined);
    })().catch((error: unknown) => this.logger?.error(`custom key store ${record.id}: the connection state could not be stored`, { cause: error }));
  }

  private connectToken(record: CustomKeyStoreRecord, live: Live): ClusterTokenConnection {
    const cluster = this.clusters.get(record.clusterId);
    if (cluster === undefined) throw new TokenConnectionError("CLUSTER_NOT_FOUND", `cluster ${record.clusterId} is not in --cloudhsm-clusters`);
    const pin = this.openPassword(record);
    live.token = JSON.stringify([cluster.modulePath, cluster.tokenLabel ?? null, cluster.slot ?? null]);
    live.pinDigest = createHmac("sha256", this.pinDigestKey).update(pin).digest();
    this.checkSamePin(live);
    return connectClusterToken(cluster, pin);
  }

  /**
   * An external key store connects when its proxy answers GetHealthStatus. A VPC endpoint service cannot exist here, so
   * such a store always fails with XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND. Answers the ConnectionErrorCode, if any.
   */
  private async connectProxy(record: CustomKeyStoreRecord, xks: XksProxySettings): Promise<string | undefined> {
    let errorCode: string | undefined;
    let reason = "";
    if (xks.connectivity === "VPC_ENDPOINT_SERVICE") {
      errorCode = "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND";
      reason = `secretslite has no VPC endpoint service ${xks.vpcEndpointServiceName ?? ""}`;
    } else {
      try {
        await this.callProxy(record.region, xks, this.openPassword(record), "ConnectCustomKeyStore");
      } catch (error) {
        if (!(error instanceof XksCallError)) throw error;
        errorCode = XKS_CONNECTION_ERROR[error.kind] ?? "XKS_PROXY_INVALID_RESPONSE";
        reason = error.message;
      }
    }
    if (errorCode !== undefined) this.logger?.warn(`KMS cannot connect the custom key store ${record.id} to its external key store proxy. Error code: ${errorCode}`, { reason });
    return errorCode;
  }

  /**
   * PKCS#11 login belongs to the application: once one store is logged in to a token, the token answers every other
   * login in this process with CKR_USER_ALREADY_LOGGED_IN without looking at the PIN. So a store whose password differs
   * from that of a store already connected to the same token fails as the token would have made it fail.
   */
  private checkSamePin(live: Live): void {
    for (const other of this.live.values()) {
      if (other === live || other.state !== "CONNECTED" || other.token !== live.token || other.pinDigest === undefined || live.pinDigest === undefined) continue;
      if (!timingSafeEqual(other.pinDigest, live.pinDigest)) {
        throw new TokenConnectionError("INVALID_CREDENTIALS", "another custom key store is logged in to the same token with a different PIN");
      }
    }
  }

  private async setState(scope: Pick<Scope, "account" | "region">, id: string, state: CustomKeyStoreRecord["state"], errorCode: string | undefined): Promise<void> {
    await this.store.withLock(this.lockName(scope), async () => {
      const key = this.recordName(scope, id);
      const record = await this.store.get<CustomKeyStoreRecord>(key);
      if (record === undefined) return;
      const { errorCode: _previous, ...rest } = record;
      const updated: CustomKeyStoreRecord = { ...rest, state, ...(errorCode === undefined ? {} : { errorCode }) };
      await this.store.batch([{ type: "put", key, value: updated }]);
    });
  }

  private stateOf(record: CustomKeyStoreRecord): ConnectionState {
    const live = this.live.get(this.recordName(record, record.id));
    if (live !== undefined) return live.state;
    // CONNECTED without a live connection: the records of a wiped or never-started process; nothing is logged in.
    return record.state === "CONNECTED" || record.state === "CONNECTING" ? "DISCONNECTED" : record.state;
  }

  private view(record: CustomKeyStoreRecord): CustomKeyStoreView {
    return { record, state: this.stateOf(record) };
  }

  private notDisconnected(record: CustomKeyStoreRecord, operation: string) {
    return customKeyStoreInvalidState(`Custom key store '${record.id}' is ${this.stateOf(record)}: ${operation} needs it DISCONNECTED.`);
  }

  private notConnected(record: CustomKeyStoreRecord, operation: string) {
    return customKeyStoreInvalidState(`Custom key store '${record.id}' is ${this.stateOf(record)}: ${operation} needs it CONNECTED.`);
  }

  private async required(scope: Pick<Scope, "account" | "region">, id: string): Promise<CustomKeyStoreRecord> {
    const record = await this.store.get<CustomKeyStoreRecord>(this.recordName(scope, id));
    if (record === undefined) throw customKeyStoreNotFound(id);
    return record;
  }

  private async all(scope: Pick<Scope, "account" | "region">): Promise<CustomKeyStoreRecord[]> {
    const records: CustomKeyStoreRecord[] = [];
    const range = kindRange(GLOBAL, "kms", "kms-custom-key-store", `${scope.account}/${scope.region}/`);
    for await (const [, record] of this.store.range<CustomKeyStoreRecord>(range)) records.push(record);
    return records;
  }

  private recordName(scope: Pick<Scope, "account" | "region">, id: string): string {
    return recordKey(GLOBAL, "kms", "kms-custom-key-store", `${scope.account}/${scope.region}/${id}`);
  }

  private lockName(scope: Pick<Scope, "account" | "region">): string {
    return this.recordName(scope, "");
  }

  /** The password's own backing key is made in the root key's token; the AAD binds the sealed PIN to its store. */
  private async sealPassword(scope: Pick<Scope, "account" | "region">, id: string, password: string): Promise<CustomKeyStoreRecord["password"]> {
    const { wrapped } = await this.keyStore.generate("SYMMETRIC_DEFAULT");
    const iv = this.keyStore.random(12);
    const ref = passwordKey(wrapped);
    const plaintext = Buffer.from(password, "utf8");
    try {
      const sealed = this.keyStore.seal(ref, iv, passwordAad(scope, id), plaintext);
      return { wrapped: Buffer.from(wrapped).toString("base64"), iv: iv.toString("base64"), sealed: sealed.toString("base64") };
    } finally {
      plaintext.fill(0);
      this.keyStore.forget(ref.id);
    }
  }

  private openPassword(record: CustomKeyStoreRecord): string {
    const ref = passwordKey(Buffer.from(record.password.wrapped, "base64"));
    try {
      const plaintext = this.keyStore.open(ref, Buffer.from(record.password.iv, "base64"), passwordAad(record, record.id), Buffer.from(record.password.sealed, "base64"));
      const pin = plaintext.toString("utf8");
      plaintext.fill(0);
      return pin;
    } finally {
      this.keyStore.forget(ref.id);
    }
  }
}

/** What an external key store's proxy answered for the outer layer; the blob carries every field (ciphertext.ts). */
export interface ExternalCiphertext {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  /** The proxy's optional ciphertextMetadata (at most 20 bytes), empty when it sent none. */
  readonly metadata: Buffer;
}

/** The XKS API's requestMetadata for a KMS request (its fields for GetKeyMetadata, Encrypt and Decrypt). */
function requestMetadata(use: KeyUse | undefined, kmsOperation: string, kmsKeyArn: string | undefined): Record<string, string> {
  return {
    awsPrincipalArn: use?.principalArn ?? "AWS Internal",
    kmsOperation,
    kmsRequestId: use?.requestId ?? randomUUID(),
    ...(kmsKeyArn === undefined ? {} : { kmsKeyArn }),
    ...(use?.viaService === undefined ? {} : { kmsViaService: use.viaService }),
  };
}

const passwordKey = (wrapped: Uint8Array): BackingKeyRef => ({
  id: "custom-key-store-password/" + Buffer.from(wrapped).subarray(0, 16).toString("hex"),
  spec: "SYMMETRIC_DEFAULT",
  wrapped,
});

const passwordAad = (scope: Pick<Scope, "account" | "region">, id: string): Buffer =>
  Buffer.from(`secretslite custom key store password\0${scope.account}/${scope.region}/${id}`, "utf8");
