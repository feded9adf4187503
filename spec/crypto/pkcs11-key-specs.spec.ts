// What only the PKCS#11 store promises for the key specs: where material lives in the token, and that the event loop keeps turning.

import * as graphene from "graphene-pk11";
import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { closeCryptoWorkers } from "../../src/crypto/crypto-workers";
import { KeyStoreIntegrityError, type BackingKeyRef, type BackingKeySpec, type KeyStore, type NewBackingKey } from "../../src/crypto/key-store";
import { BACKING_KEY_SPECS, signingAlgorithmsOf } from "../../src/crypto/key-specs";
import { openPkcs11KeyStore, type Pkcs11KeyStoreOptions } from "../../src/crypto/pkcs11-key-store";
import { verifySignature } from "../../src/crypto/public-key-operations";
import { testSoftHsm } from "../support/softhsm";
import { tokenProbe, type TokenProbe } from "./token-probe";

let options: Pkcs11KeyStoreOptions;
let probe: TokenProbe;
const stores: KeyStore[] = [];
let counter = 0;

const open = async (overrides: Partial<Pkcs11KeyStoreOptions> = {}): Promise<KeyStore> => {
  const store = await openPkcs11KeyStore({ ...options, ...overrides });
  stores.push(store);
  return store;
};
const ref = (spec: BackingKeySpec, key: NewBackingKey): BackingKeyRef => ({ id: `pkcs11-spec-${++counter}`, spec, wrapped: key.wrapped });

const objectCount = (token: boolean): number => probe.withSession((session) => session.find({ token }).length);

/** One use of each token-held key: what leaves an unwrapped key in the handle cache. */
async function useOnce(store: KeyStore, key: BackingKeyRef): Promise<void> {
  const message = randomBytes(32);
  const [algorithm] = signingAlgorithmsOf(key.spec);
  if (algorithm !== undefined) await store.sign(key, algorithm, { messageType: "RAW", message });
  else if (key.spec.startsWith("HMAC_")) await store.generateMac(key, `HMAC_SHA_${key.spec.slice(5)}` as "HMAC_SHA_256", message);
  else store.seal(key, randomBytes(12), Buffer.alloc(0), message);
}

beforeAll(async () => {
  options = await testSoftHsm();
  probe = tokenProbe(options.modulePath, options.tokenLabel);
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(() => closeCryptoWorkers());

test("RSA, EC, HMAC and AES material is used in the token; Ed25519 and ML-DSA seeds in Node; SM2 not at all", async () => {
  const store = await open();
  const node: BackingKeySpec[] = ["ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"];
  for (const spec of BACKING_KEY_SPECS) expect([spec, store.supports(spec)]).toEqual([spec, node.includes(spec) ? "node" : "token"]);
  expect(store.supports("SM2" as BackingKeySpec)).toBeUndefined();
});

test("no per-key objects: generating and using keys of every spec adds nothing to the token, and generating no session object", async () => {
  const store = await open();
  const tokenObjects = objectCount(true);
  const sessionObjects = objectCount(false);
  const keys = await Promise.all(BACKING_KEY_SPECS.map(async (spec) => ref(spec, await store.generate(spec))));
  expect(objectCount(false)).toBe(sessionObjects);
  for (const key of keys) await useOnce(store, key);
  const peer = await store.generate("ECC_NIST_P384");
  await store.deriveSharedSecret(keys.find((key) => key.spec === "ECC_NIST_P384")!, peer.publicKey!);
  const rsa = keys.find((key) => key.spec === "RSA_2048")!;
  await expect(store.decrypt(rsa, "RSAES_OAEP_SHA_256", randomBytes(256))).rejects.toThrow(KeyStoreIntegrityError);
  expect(objectCount(true)).toBe(tokenObjects);
  // What stays is the cached usable copy of each token-held key: no public halves, seeds or derived secrets.
  const tokenHeld = keys.filter((key) => store.supports(key.spec) === "token").length;
  expect(objectCount(false)).toBe(sessionObjects + tokenHeld);
  probe.withSession((session) => {
    for (const objectClass of [graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.SECRET_KEY]) {
      const found = session.find({ class: objectClass, token: false });
      for (let i = 0; i < found.length; i++) {
        expect(found.items(i).getAttribute({ sensitive: null, extractable: null, modifiable: null })).toEqual({
          sensitive: true,
          extractable: false,
          modifiable: false,
        });
      }
    }
    expect(session.find({ class: graphene.ObjectClass.PUBLIC_KEY, token: false }).length).toBe(0);
  });
  store.forgetAll();
  expect(objectCount(false)).toBe(sessionObjects);
});

test("wrapped material opens only under its own root key", async () => {
  const store = await open();
  // Another root key: a store whose root key is a fresh session object.
  const stranger = await open({ ephemeralRootKey: true, rootKeyLabel: "another-root" });
  const message = randomBytes(16);
  for (const spec of ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44"] as const) {
    const key = ref(spec, await store.generate(spec));
    const algorithm = signingAlgorithmsOf(spec)[0]!;
    await expect(stranger.sign(key, algorithm, { messageType: "RAW", message })).rejects.toThrow(KeyStoreIntegrityError);
    expect((await store.sign(key, algorithm, { messageType: "RAW", message })).length).toBeGreaterThan(0);
  }
  const hmac = ref("HMAC_256", await store.generate("HMAC_256"));
  await expect(stranger.generateMac(hmac, "HMAC_SHA_256", message)).rejects.toThrow(KeyStoreIntegrityError);
  const aes = ref("SYMMETRIC_DEFAULT", await stranger.generate("SYMMETRIC_DEFAULT"));
  expect(() => store.seal(aes, randomBytes(12), Buffer.alloc(0), message)).toThrow(KeyStoreIntegrityError);
});

test("a failed token call leaves node:crypto's key parsing working (SoftHSM and Node share OpenSSL's error queue)", async () => {
  const store = await open();
  const stranger = await open({ ephemeralRootKey: true, rootKeyLabel: "another-root" });
  const ed25519 = ref("ECC_NIST_EDWARDS25519", await store.generate("ECC_NIST_EDWARDS25519"));
  const pkcs8 = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "der" });
  const message = randomBytes(16);
  const failures: Array<() => Promise<unknown>> = [
    () => stranger.sign(ed25519, "ED25519_SHA_512", { messageType: "RAW", message }),
    async () => store.seal({ id: `foreign-${++counter}`, spec: "SYMMETRIC_DEFAULT" as const, wrapped: randomBytes(40) }, randomBytes(12), Buffer.alloc(0), message),
    () => store.generateMac({ id: `foreign-${++counter}`, spec: "HMAC_256", wrapped: randomBytes(40) }, "HMAC_SHA_256", message),
  ];
  for (const fail of failures) {
    await expect(fail()).rejects.toThrow(KeyStoreIntegrityError);
    // Each of these threw "Provider routines::cipher operation failed" before the queue was emptied.
    expect(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).asymmetricKeyType).toBe("ed25519");
    expect((await store.sign(ed25519, "ED25519_SHA_512", { messageType: "RAW", message })).length).toBe(64);
  }
});

test("keys evicted from a one-entry cache while operations use them are destroyed only afterwards", async () => {
  const store = await open({ handleCacheSize: 1 });
  const before = objectCount(false);
  const specs = ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P521"] as const;
  const keys = await Promise.all(specs.flatMap((spec) => [0, 1].map(async () => ({ key: ref(spec, await store.generate(spec)), spec }))));
  const publicKeys = new Map<string, Buffer>();
  const message = randomBytes(64);
  const results = await Promise.all(
    Array.from({ length: 60 }, async (_, index) => {
      const { key } = keys[index % keys.length]!;
      const generated = await store.generate(key.spec);
      const fresh = ref(key.spec, generated);
      publicKeys.set(fresh.id, generated.publicKey!);
      const algorithm = signingAlgorithmsOf(key.spec)[0]!;
      const input = { messageType: "RAW", message } as const;
      return verifySignature(generated.publicKey!, key.spec, algorithm, input, await store.sign(fresh, algorithm, input));
    }),
  );
  expect(results.every(Boolean)).toBe(true);
  expect(objectCount(false)).toBeLessThanOrEqual(before + 1);
});

test("the event loop keeps turning while RSA-4096 keys are made and ML-DSA-87 and RSA-4096 keys sign", async () => {
  const store = await open();
  const mlDsa = ref("ML_DSA_87", await store.generate("ML_DSA_87"));
  const rsa = ref("RSA_4096", await store.generate("RSA_4096"));
  await store.sign(mlDsa, "ML_DSA_SHAKE_256", { messageType: "RAW", message: Buffer.from("warm the workers") });
  const message = randomBytes(4096);
  // Whether other callbacks run while the slow work is pending, counted rather than timed (a loaded machine makes any
  // time bound flaky): a keygen or signature on the event loop itself would let no tick in before it finished.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const ticksWhenGenerated: number[] = [];
  const generated = () => store.generate("RSA_4096").finally(() => ticksWhenGenerated.push(ticks));
  let ticksWhenSigned = 0;
  try {
    await Promise.all([
      generated(),
      generated(),
      Promise.all([
        ...Array.from({ length: 40 }, () => store.sign(mlDsa, "ML_DSA_SHAKE_256", { messageType: "RAW", message })),
        ...Array.from({ length: 40 }, () => store.sign(rsa, "RSASSA_PSS_SHA_512", { messageType: "RAW", message })),
      ]).finally(() => (ticksWhenSigned = ticks)),
    ]);
  } finally {
    clearInterval(timer);
  }
  // Each RSA-4096 key (seconds of work) and the 80 signatures together let the timer run before they were done.
  expect(Math.min(...ticksWhenGenerated)).toBeGreaterThan(0);
  expect(ticksWhenSigned).toBeGreaterThan(0);
});
