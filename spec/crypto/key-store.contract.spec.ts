// The KeyStore contract, written once and run against every implementation, then what only PKCS#11 promises.

import * as graphene from "graphene-pk11";
import { randomBytes } from "node:crypto";
import { KeyStoreIntegrityError, type KeyStore, type BackingKeyRef } from "../../src/crypto/key-store";

/** A fresh AES-256 backing key's wrapped bytes: the material every symmetric check here seals under. */
const symmetricMaterial = async (target: KeyStore): Promise<Uint8Array> => (await target.generate("SYMMETRIC_DEFAULT")).wrapped;
import { DEFAULT_ROOT_KEY_LABEL, openPkcs11KeyStore, type Pkcs11KeyStoreOptions } from "../../src/crypto/pkcs11-key-store";
import { testSoftHsm } from "../support/softhsm";
import { tokenProbe, type TokenProbe } from "./token-probe";

interface KeyStoreSubject {
  readonly kind: string;
  /** A new store instance over the same persistent material each time (same token, same root key). */
  open(): Promise<KeyStore>;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function describeKeyStoreContract(name: string, makeSubject: () => Promise<KeyStoreSubject>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let subject: KeyStoreSubject;
    let store: KeyStore;
    const extraStores: KeyStore[] = [];
    let counter = 0;

    const backingKey = async (target: KeyStore = store): Promise<BackingKeyRef> => ({
      id: `contract-${++counter}`,
      spec: "SYMMETRIC_DEFAULT" as const,
      wrapped: await symmetricMaterial(target),
    });

    beforeAll(async () => {
      subject = await makeSubject();
      store = await subject.open();
    });
    afterEach(async () => {
      await Promise.all(extraStores.splice(0).map((extra) => extra.close()));
    });
    afterAll(async () => {
      await store.close();
    });

    test("seals and opens with AAD; the sealed form is ciphertext ‖ 16-byte tag", async () => {
      const key = await backingKey();
      const aad = Buffer.from("aws:kms:encryption-context");
      for (const size of [0, 1, 15, 16, 32, 4096, 65_536]) {
        const plaintext = randomBytes(size);
        const iv = randomBytes(IV_BYTES);
        const sealed = store.seal(key, iv, aad, plaintext);
        expect(sealed.length).toBe(size + TAG_BYTES);
        if (size >= 16) expect(sealed.subarray(0, size).equals(plaintext)).toBe(false);
        expect(store.open(key, iv, aad, sealed).equals(plaintext)).toBe(true);
      }
    });

    test("opens with an empty AAD and takes Uint8Array views at an offset", async () => {
      const key = await backingKey();
      const backing = new Uint8Array(64).fill(7);
      const plaintext = backing.subarray(3, 40);
      const iv = new Uint8Array(randomBytes(IV_BYTES));
      const sealed = store.seal(key, iv, new Uint8Array(0), plaintext);
      const view = new Uint8Array(sealed.length + 5);
      view.set(sealed, 5);
      expect([...store.open(key, iv, new Uint8Array(0), view.subarray(5))]).toEqual([...plaintext]);
    });

    test("refuses a tampered ciphertext, tag, AAD or IV with KeyStoreIntegrityError, and keeps working", async () => {
      const key = await backingKey();
      const plaintext = Buffer.from("the secret value");
      const iv = randomBytes(IV_BYTES);
      const aad = Buffer.from("context");
      const sealed = store.seal(key, iv, aad, plaintext);
      const flip = (bytes: Buffer, at: number): Buffer => {
        const copy = Buffer.from(bytes);
        copy[at] = (copy[at] ?? 0) ^ 0x01;
        return copy;
      };
      expect(() => store.open(key, iv, aad, flip(sealed, 0))).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, iv, aad, flip(sealed, sealed.length - 1))).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, iv, flip(aad, 2), sealed)).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, iv, Buffer.alloc(0), sealed)).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, flip(iv, 11), aad, sealed)).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, iv, aad, sealed.subarray(0, sealed.length - 1))).toThrow(KeyStoreIntegrityError);
      expect(() => store.open(key, iv, aad, sealed.subarray(0, TAG_BYTES - 1))).toThrow(KeyStoreIntegrityError);
      expect(store.open(key, iv, aad, sealed).equals(plaintext)).toBe(true);
    });

    test("two backing keys are independent", async () => {
      const [first, second] = [await backingKey(), await backingKey()];
      expect(Buffer.from(first.wrapped).equals(second.wrapped)).toBe(false);
      const plaintext = Buffer.alloc(32, 1);
      const iv = randomBytes(IV_BYTES);
      const aad = Buffer.alloc(0);
      const underFirst = store.seal(first, iv, aad, plaintext);
      const underSecond = store.seal(second, iv, aad, plaintext);
      expect(underFirst.equals(underSecond)).toBe(false);
      expect(() => store.open(second, iv, aad, underFirst)).toThrow(KeyStoreIntegrityError);
      expect(store.open(second, iv, aad, underSecond).equals(plaintext)).toBe(true);
    });

    test("wrapped backing keys are 40 bytes (AES_KEY_WRAP_PAD of 32)", async () => {
      for (let i = 0; i < 5; i++) expect((await symmetricMaterial(store)).length).toBe(40);
    });

    test("a wrapped backing key outlives its store: a new instance on the same token opens old ciphertext", async () => {
      const key = await backingKey();
      const iv = randomBytes(IV_BYTES);
      const aad = Buffer.from("persistent");
      const sealed = store.seal(key, iv, aad, Buffer.from("written before the restart"));
      await store.close();
      store = await subject.open();
      expect(store.open(key, iv, aad, sealed).toString()).toBe("written before the restart");
    });

    test("forget and forgetAll drop cached keys; the next use unwraps again", async () => {
      const key = await backingKey();
      const other = await backingKey();
      const iv = randomBytes(IV_BYTES);
      const sealed = store.seal(key, iv, Buffer.alloc(0), Buffer.from("x"));
      const otherSealed = store.seal(other, iv, Buffer.alloc(0), Buffer.from("y"));
      store.forget(key.id);
      store.forget(key.id);
      store.forget("never-seen");
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("x");
      store.forgetAll();
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("x");
      expect(store.open(other, iv, Buffer.alloc(0), otherSealed).toString()).toBe("y");
    });

    test("an id reused for other material is not served from the cache", async () => {
      const first = await backingKey();
      const reused: BackingKeyRef = { id: first.id, spec: "SYMMETRIC_DEFAULT" as const, wrapped: await symmetricMaterial(store) };
      const iv = randomBytes(IV_BYTES);
      const sealed = store.seal(first, iv, Buffer.alloc(0), Buffer.from("first"));
      expect(() => store.open(reused, iv, Buffer.alloc(0), sealed)).toThrow(KeyStoreIntegrityError);
      expect(store.open(first, iv, Buffer.alloc(0), sealed).toString()).toBe("first");
    });

    test("a tampered, truncated or foreign wrapped key is a KeyStoreIntegrityError", async () => {
      const good = await symmetricMaterial(store);
      const flipped = Buffer.from(good);
      flipped[17] = (flipped[17] ?? 0) ^ 0x80;
      const iv = randomBytes(IV_BYTES);
      for (const wrapped of [flipped, good.subarray(0, 32), Buffer.concat([good, Buffer.alloc(8)]), randomBytes(40)]) {
        const key = { id: `tampered-${++counter}`, spec: "SYMMETRIC_DEFAULT" as const, wrapped };
        expect(() => store.seal(key, iv, Buffer.alloc(0), Buffer.from("x"))).toThrow(KeyStoreIntegrityError);
        expect(() => store.open(key, iv, Buffer.alloc(0), Buffer.alloc(TAG_BYTES + 1))).toThrow(KeyStoreIntegrityError);
      }
      const sealed = store.seal({ id: "untampered", spec: "SYMMETRIC_DEFAULT" as const, wrapped: good }, iv, Buffer.alloc(0), Buffer.from("ok"));
      expect(store.open({ id: "untampered", spec: "SYMMETRIC_DEFAULT" as const, wrapped: good }, iv, Buffer.alloc(0), sealed).toString()).toBe("ok");
    });

    test("random(n) gives n bytes that do not repeat", () => {
      for (const size of [0, 1, 12, 32, 1000, 65_536]) expect(store.random(size).length).toBe(size);
      const draws = new Set(Array.from({ length: 200 }, () => store.random(16).toString("hex")));
      expect(draws.size).toBe(200);
      expect(store.random(32).equals(store.random(32))).toBe(false);
      expect(() => store.random(-1)).toThrow(RangeError);
      expect(() => store.random(1.5)).toThrow(RangeError);
    });

    test("health reports the kind and a detail; a closed store is not healthy", async () => {
      const health = store.health();
      expect(health).toEqual({ ok: true, kind: subject.kind, detail: expect.any(String) });
      expect(health.detail.length).toBeGreaterThan(0);
      const extra = await subject.open();
      await extra.close();
      expect(extra.health().ok).toBe(false);
    });

    test("close is idempotent and a closed store refuses work", async () => {
      const extra = await subject.open();
      const key: BackingKeyRef = { id: "closing", spec: "SYMMETRIC_DEFAULT" as const, wrapped: await symmetricMaterial(extra) };
      const iv = randomBytes(IV_BYTES);
      const sealed = extra.seal(key, iv, Buffer.alloc(0), Buffer.from("x"));
      await Promise.all([extra.close(), extra.close()]);
      await extra.close();
      expect(() => extra.seal(key, iv, Buffer.alloc(0), Buffer.from("x"))).toThrow(/closed/);
      expect(() => extra.open(key, iv, Buffer.alloc(0), sealed)).toThrow(/closed/);
      expect(() => extra.random(8)).toThrow(/closed/);
      await expect(symmetricMaterial(extra)).rejects.toThrow(/closed/);
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("x");
    });

    test("close waits for backing keys already being made", async () => {
      const extra = await subject.open();
      const pending = Array.from({ length: 20 }, () => symmetricMaterial(extra));
      const closed = extra.close();
      const wrapped = await Promise.all(pending);
      await closed;
      expect(wrapped.every((bytes) => bytes.length === 40)).toBe(true);
      const iv = randomBytes(IV_BYTES);
      const key = { id: "made-while-closing", spec: "SYMMETRIC_DEFAULT" as const, wrapped: wrapped[19] ?? new Uint8Array() };
      const sealed = store.seal(key, iv, Buffer.alloc(0), Buffer.from("z"));
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("z");
    });

    test("many SYMMETRIC_DEFAULT generate calls in parallel all succeed with distinct, usable keys", async () => {
      const wrapped = await Promise.all(Array.from({ length: 200 }, () => symmetricMaterial(store)));
      expect(new Set(wrapped.map((bytes) => Buffer.from(bytes).toString("hex"))).size).toBe(200);
      const iv = randomBytes(IV_BYTES);
      wrapped.forEach((bytes, index) => {
        const key = { id: `parallel-${index}`, spec: "SYMMETRIC_DEFAULT" as const, wrapped: bytes };
        const sealed = store.seal(key, iv, Buffer.alloc(0), Buffer.from(`value ${index}`));
        expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe(`value ${index}`);
      });
    });

    test("two stores open at once both work, and closing one leaves the other working", async () => {
      const second = await subject.open();
      extraStores.push(second);
      const key = await backingKey(second);
      const iv = randomBytes(IV_BYTES);
      const sealed = second.seal(key, iv, Buffer.alloc(0), Buffer.from("shared token"));
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("shared token");
      await second.close();
      const fresh = await backingKey();
      expect(store.open(fresh, iv, Buffer.alloc(0), store.seal(fresh, iv, Buffer.alloc(0), Buffer.from("a"))).toString()).toBe("a");
      expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe("shared token");
      expect(store.health().ok).toBe(true);
    });
  });
}

describeKeyStoreContract("PKCS#11 on SoftHSM2", async () => {
  const token = await testSoftHsm();
  return { kind: "pkcs11", open: () => openPkcs11KeyStore(token) };
});

describe("PKCS#11 key store on SoftHSM2", () => {
  let options: Pkcs11KeyStoreOptions;
  let probe: TokenProbe;
  const stores: KeyStore[] = [];
  const open = async (overrides: Partial<Pkcs11KeyStoreOptions> = {}): Promise<KeyStore> => {
    const store = await openPkcs11KeyStore({ ...options, ...overrides });
    stores.push(store);
    return store;
  };
  const libraryInitialised = (): boolean => {
    try {
      probe.module.lib.C_GetInfo();
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("CKR_CRYPTOKI_NOT_INITIALIZED")) return false;
      throw error;
    }
  };
  const withProbeSession = <T>(use: (session: graphene.Session) => T): T => probe.withSession(use);
  const sessionKeyCount = (): number =>
    withProbeSession((session) => session.find({ class: graphene.ObjectClass.SECRET_KEY, token: false }).length);

  beforeAll(async () => {
    options = await testSoftHsm();
    probe = tokenProbe(options.modulePath, options.tokenLabel);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  test("the root key is in the token, private, sensitive and never extractable", async () => {
    await open();
    withProbeSession((session) => {
      const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, label: DEFAULT_ROOT_KEY_LABEL });
      expect(found.length).toBe(1);
      const rootKey = found.items(0).toType<graphene.SecretKey>();
      expect(
        rootKey.getAttribute({ token: null, private: null, sensitive: null, extractable: null, neverExtractable: null, modifiable: null }),
      ).toEqual({ token: true, private: true, sensitive: true, extractable: false, neverExtractable: true, modifiable: false });
      expect(() => rootKey.getAttribute({ value: null })).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      expect(() => session.wrapKey("AES_KEY_WRAP_PAD", rootKey, rootKey)).toThrow(/CKR_KEY_UNEXTRACTABLE/);
    });
  });

  test("health names the token, its slot and the root key", async () => {
    const store = await open();
    expect(store.health()).toEqual({
      ok: true,
      kind: "pkcs11",
      detail: expect.stringMatching(/^SoftHSM token 'secretslite-spec' \(slot \d+\), root key present$/),
    });
  });

  test("stores share one module initialisation; the last close finalizes, the next open initialises again", async () => {
    expect(libraryInitialised()).toBe(false);
    const first = await open();
    const second = await open();
    expect(libraryInitialised()).toBe(true);
    await first.close();
    expect(libraryInitialised()).toBe(true);
    const key = { id: "after-first-closed", spec: "SYMMETRIC_DEFAULT" as const, wrapped: await symmetricMaterial(second) };
    const iv = randomBytes(IV_BYTES);
    expect(second.open(key, iv, Buffer.alloc(0), second.seal(key, iv, Buffer.alloc(0), Buffer.from("still here"))).toString()).toBe(
      "still here",
    );
    await second.close();
    expect(libraryInitialised()).toBe(false);
    const third = await open();
    expect(third.health().ok).toBe(true);
  });

  test("a second SoftHSM config while the module is initialised fails clearly and takes no reference", async () => {
    const store = await open();
    await expect(open({ softhsmConfigPath: "/elsewhere/softhsm2.conf" })).rejects.toThrow(
      /already initialised .* SoftHSM config .*softhsm2\.conf.*\/elsewhere\/softhsm2\.conf/,
    );
    expect(store.health().ok).toBe(true);
    await store.close();
    expect(libraryInitialised()).toBe(false);
  });

  test("a wrong PIN, an unknown token or a bad module fail clearly and leave nothing initialised", async () => {
    await expect(open({ pin: "wrong-pin" })).rejects.toThrow(/Cannot log in to PKCS#11 token 'secretslite-spec': CKR_PIN_INCORRECT/);
    expect(libraryInitialised()).toBe(false);
    await expect(open({ tokenLabel: "no-such-token" })).rejects.toThrow(/No PKCS#11 token labelled 'no-such-token'/);
    expect(libraryInitialised()).toBe(false);
    await expect(open({ modulePath: "/nonexistent/libpkcs11.so" })).rejects.toThrow(/Cannot load the PKCS#11 module/);
    await expect(open({ handleCacheSize: 0 })).rejects.toThrow(RangeError);
  });

  test("the handle cache is bounded: evicted and forgotten keys leave the token", async () => {
    const store = await open({ handleCacheSize: 2 });
    const before = sessionKeyCount();
    const keys = await Promise.all(
      Array.from({ length: 5 }, async (_, index) => ({ id: `lru-${index}`, spec: "SYMMETRIC_DEFAULT" as const, wrapped: await symmetricMaterial(store) })),
    );
    expect(sessionKeyCount()).toBe(before);
    const iv = randomBytes(IV_BYTES);
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        const sealed = store.seal(key, iv, Buffer.alloc(0), Buffer.from(key.id));
        expect(store.open(key, iv, Buffer.alloc(0), sealed).toString()).toBe(key.id);
        expect(sessionKeyCount()).toBeLessThanOrEqual(before + 2);
      }
    }
    expect(sessionKeyCount()).toBe(before + 2);
    // What the cache holds in the token can encrypt and decrypt, and never leave it.
    withProbeSession((session) => {
      const unwrapped = session.find({ class: graphene.ObjectClass.SECRET_KEY, token: false });
      for (let i = 0; i < unwrapped.length; i++) {
        expect(unwrapped.items(i).getAttribute({ sensitive: null, extractable: null, encrypt: null, wrap: null, modifiable: null })).toEqual({
          sensitive: true,
          extractable: false,
          encrypt: true,
          wrap: false,
          modifiable: false,
        });
      }
    });
    store.forget("lru-4");
    expect(sessionKeyCount()).toBe(before + 1);
    store.forgetAll();
    expect(sessionKeyCount()).toBe(before);
  });

  test("closing a store takes its unwrapped keys out of the token", async () => {
    const keeper = await open();
    const before = sessionKeyCount();
    const store = await open();
    const iv = randomBytes(IV_BYTES);
    for (let i = 0; i < 3; i++) {
      const key = { id: `closing-${i}`, spec: "SYMMETRIC_DEFAULT" as const, wrapped: await symmetricMaterial(store) };
      store.seal(key, iv, Buffer.alloc(0), Buffer.from("x"));
    }
    expect(sessionKeyCount()).toBe(before + 3);
    await store.close();
    expect(sessionKeyCount()).toBe(before);
    expect(keeper.health().ok).toBe(true);
  });
});
