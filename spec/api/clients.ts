// SDK v3 clients built from nothing but what start() returns, as a user's test suite builds them.
import { KMSClient } from "@aws-sdk/client-kms";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Emulator } from "../../src";

export interface EmulatorClients {
  readonly kms: KMSClient;
  readonly secretsManager: SecretsManagerClient;
  destroy(): void;
}

export function clientsFor(emulator: Emulator): EmulatorClients {
  const settings = { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials, maxAttempts: 1 };
  const kms = new KMSClient(settings);
  const secretsManager = new SecretsManagerClient(settings);
  return {
    kms,
    secretsManager,
    destroy: () => {
      kms.destroy();
      secretsManager.destroy();
    },
  };
}
