// The AWS endpoint on its own node:http server, over this worker's token and a memory store, with a call listener:
// what startTestServer cannot give (its endpoint takes no onCall), for the console's calls and pages specs.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { KeyStore } from "../../src/crypto/key-store";
import { openPkcs11KeyStore } from "../../src/crypto/pkcs11-key-store";
import type { Principals } from "../../src/iam/principals-file";
import { createLogger } from "../../src/logger";
import { createAwsEndpoint, type AnsweredCall } from "../../src/protocol/json11";
import type { Domains } from "../../src/protocol/context";
import { systemClock } from "../../src/services/clock";
import { startKmsDomain, type KmsDomain } from "../../src/services/kms/domain";
import { startSecretsDomain, type SecretsDomain } from "../../src/services/secretsmanager/domain";
import { openMemoryStore } from "../../src/storage/level-store";
import type { Store } from "../../src/storage/store";
import { credentials, REGION } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

export const ACCOUNT = "000000000000";

export interface EndpointServer {
  readonly url: string;
  readonly store: Store;
  readonly keyStore: KeyStore;
  readonly kms: KmsDomain;
  readonly secrets: SecretsDomain;
  readonly domains: Domains;
  kmsClient(region?: string): KMSClient;
  secretsClient(region?: string): SecretsManagerClient;
  close(): Promise<void>;
}

export async function startEndpoint(onCall: (call: AnsweredCall) => void, extra: { readonly principals?: Principals } = {}): Promise<EndpointServer> {
  const token = await testSoftHsm();
  const store = await openMemoryStore();
  const keyStore = await openPkcs11KeyStore({ modulePath: token.modulePath, tokenLabel: token.tokenLabel, pin: token.pin, ephemeralRootKey: true });
  const logger = createLogger("error");
  const kms = await startKmsDomain(store, keyStore, systemClock, logger);
  const secrets = await startSecretsDomain(store, systemClock, logger);
  const domains = { kms, secrets };
  const endpoint = createAwsEndpoint({ maxBodyBytes: 1024 * 1024, defaultAccount: ACCOUNT, verifier: undefined, clock: systemClock, domains, logger, onCall, principals: extra.principals });
  const server = http.createServer(endpoint);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: Array<{ destroy(): void }> = [];
  const config = (region = REGION) => ({ endpoint: url, region, credentials, maxAttempts: 1 });
  return {
    url,
    store,
    keyStore,
    kms,
    secrets,
    domains,
    kmsClient: (region) => {
      const client = new KMSClient(config(region));
      clients.push(client);
      return client;
    },
    secretsClient: (region) => {
      const client = new SecretsManagerClient(config(region));
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await secrets.close();
      await kms.close();
      await keyStore.close();
      await store.close();
    },
  };
}
