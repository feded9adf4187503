// The KMS domain objects an operation reaches through its RequestContext, and their start and close.
import type { KeyStore } from "../../crypto/key-store";
import type { Logger } from "../../logger";
import type { Store } from "../../storage/store";
import type { Clock } from "../clock";
import { KmsAliases } from "./aliases";
import { Ciphertexts } from "./ciphertext";
import { KmsGrants } from "./grants";
import { KeyImports } from "./key-import";
import { KeySchedule } from "./key-schedule";
import { KeyUsage } from "./key-usage";
import { KmsKeys, type KmsKeysOptions } from "./key-repository";
import { Macs } from "./macs";
import { SharedSecrets } from "./shared-secrets";
import { Signatures } from "./signatures";
import { RsaCiphertexts } from "./rsa-ciphertext";
import type { ClusterToken } from "../../crypto/cluster-token";
import { CustomKeyStores, type XksCaller } from "./custom-key-stores";

export interface KmsDomain {
  readonly keys: KmsKeys;
  readonly ciphertexts: Ciphertexts;
  readonly macs: Macs;
  readonly sharedSecrets: SharedSecrets;
  readonly signatures: Signatures;
  readonly rsaCiphertexts: RsaCiphertexts;
  readonly aliases: KmsAliases;
  readonly grants: KmsGrants;
  readonly usage: KeyUsage;
  readonly schedule: KeySchedule;
  /** GetParametersForImport's wrapping keys and tokens, and ImportKeyMaterial's unwrapping. */
  readonly imports: KeyImports;
  readonly customKeyStores: CustomKeyStores;
  /** Random bytes from the token's generator, as KMS's GenerateRandom draws them from its HSMs. */
  random(byteCount: number): Buffer;
  /** Stops the schedule and flushes usage; the store and token close after it. */
  close(): Promise<void>;
}

/**
 * Builds the domain and carries out whatever fell due while the server was down (destructions, automatic
 * rotations, expiries of imported material) before it answers a request.
 */
export async function startKmsDomain(
  store: Store,
  keyStore: KeyStore,
  clock: Clock,
  logger?: Logger,
  options: KmsKeysOptions & { readonly cloudHsmClusters?: ReadonlyMap<string, ClusterToken>; readonly xksCaller?: XksCaller } = {},
): Promise<KmsDomain> {
  const usage = new KeyUsage(store, (error) => logger?.warn("key usage could not be stored; it stays pending for the next flush", { cause: error }));
  const customKeyStores: CustomKeyStores = new CustomKeyStores(
    store,
    keyStore,
    options.cloudHsmClusters ?? new Map(),
    (scope, id): Promise<boolean> => keys.holdsCustomKeyStoreKeys(scope, id),
    logger,
    options.xksCaller,
  );
  const keys: KmsKeys = new KmsKeys(store, keyStore, usage, clock, { ...options, customKeyStores });
  const schedule = new KeySchedule(store, keys, clock, logger);
  await schedule.start();
  await customKeyStores.start();
  return {
    keys,
    ciphertexts: new Ciphertexts(keyStore, (key) => customKeyStores.sealerFor(key), customKeyStores),
    macs: new Macs(keyStore),
    sharedSecrets: new SharedSecrets(keyStore),
    signatures: new Signatures(keyStore),
    rsaCiphertexts: new RsaCiphertexts(keyStore),
    aliases: new KmsAliases(store),
    grants: new KmsGrants(store, (byteCount) => keyStore.random(byteCount)),
    usage,
    schedule,
    imports: new KeyImports(keys, keyStore),
    customKeyStores,
    random: (byteCount) => keyStore.random(byteCount),
    close: async () => {
      await schedule.close();
      await usage.close();
      customKeyStores.closeAll();
    },
  };
}
