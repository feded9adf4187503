// KMS ciphertext blobs: a self-describing, versioned format sealed in the token under a key's backing key.
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { fillIv } from "../../crypto/iv-pool";
import { KeyStoreIntegrityError, type KeyStore } from "../../crypto/key-store";
import { invalidCiphertext } from "./errors";
import { KEY_ID } from "./key-arn";
import { backingKeyOf } from "./key-material";
import type { BackingKeyRecord, KmsKeyRecord } from "./key-record";
import type { CustomKeyStores, ExternalCiphertext, Sealer } from "./custom-key-stores";
import type { RequestContext } from "../request";

/*
 * Layout of format 2, the one written for keys whose material is all in secretslite (everything before the IV is authenticated as AAD, followed by the
 * encryption context):
 *   u8 format (2) | u8 key-id length | key id (ASCII) | 32-byte KeyMaterialId | 4-byte header check | 12-byte IV
 *   | payload | 16-byte tag
 * Format 1 (read only: data keys Secrets Manager stored before format 2) is the same without the header check.
 *
 * The key id and material id make Decrypt work without a KeyId and after rotation, as AWS's does. The header
 * check (the first 4 bytes of SHA-256 over the bytes before it) exists because the key id is read before
 * anything can be authenticated: without it a blob damaged in its key id would name a key that does not
 * exist and get the answer for a destroyed key (AccessDeniedException) instead of the one AWS gives a
 * damaged blob (InvalidCiphertextException).
 *
 * Size: 2 + 36 (uuid or mrk- id) + 32 + 4 + 12 + 16 = 102 bytes of overhead, so the largest plaintext KMS
 * seals (Encrypt's 4,096 bytes) makes a 4,198-byte blob, inside AWS's 6,144-byte CiphertextType.
 *
 * Format 3 is double encryption, for keys in an external key store: format 2's header and IV, then what the store's
 * proxy made of format 2's payload and tag (the outer layer, AES-GCM under the external key):
 *   … 12-byte IV | u8 proxy IV length (12 or 16) | proxy IV | u8 metadata length (0-20) | ciphertextMetadata
 *   | 16-byte proxy tag | proxy ciphertext
 * "KMS will embed all of the fields in the XKS Proxy's encrypt response into the ciphertextBlob" (the XKS proxy API
 * specification). The proxy's AAD is the header, then SHA-256 of format 2's AAD when there is an encryption context:
 * the outer layer is bound to the key and context too, and the proxy never sees the context's text. At most 102 + 54
 * bytes of overhead: 4,252 bytes for 4,096 of plaintext.
 */
const FORMAT_1 = 1;
const FORMAT_2 = 2;
const FORMAT_EXTERNAL = 3;
const MAX_METADATA_BYTES = 20;
const MATERIAL_ID_BYTES = 32;
const CHECK_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type EncryptionContext = Readonly<Record<string, string>> | undefined;

export interface ParsedCiphertext {
  readonly keyId: string;
  readonly keyMaterialId: string;
  /** The authenticated header: every byte before the IV. */
  readonly header: Buffer;
  readonly iv: Buffer;
  /** Format 2's payload and tag; for format 3, the proxy's ciphertext of them. */
  readonly sealed: Buffer;
  /** Format 3 only: the rest of what the external key store's proxy answered. */
  readonly external?: Omit<ExternalCiphertext, "ciphertext">;
}

/** Reads a blob's header without a key: anything malformed is InvalidCiphertextException, as in AWS. */
export function parseCiphertext(blob: Uint8Array): ParsedCiphertext {
  const bytes = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const format = bytes[0];
  if (bytes.length < 2 || (format !== FORMAT_1 && format !== FORMAT_2 && format !== FORMAT_EXTERNAL)) throw invalidCiphertext();
  const keyIdLength = bytes[1] ?? 0;
  const materialStart = 2 + keyIdLength;
  const checkStart = materialStart + MATERIAL_ID_BYTES;
  const ivStart = format === FORMAT_1 ? checkStart : checkStart + CHECK_BYTES;
  const sealedStart = ivStart + IV_BYTES;
  if (bytes.length < sealedStart + TAG_BYTES) throw invalidCiphertext();
  if (format !== FORMAT_1 && !headerCheck(bytes, checkStart).equals(bytes.subarray(checkStart, ivStart))) {
    throw invalidCiphertext();
  }
  const keyId = bytes.toString("latin1", 2, materialStart);
  // Anything but a key id in a blob is damage, and must never reach a storage key.
  if (!KEY_ID.test(keyId)) throw invalidCiphertext();
  const parsed = {
    keyId,
    keyMaterialId: bytes.toString("hex", materialStart, checkStart),
    header: bytes.subarray(0, ivStart),
    iv: bytes.subarray(ivStart, sealedStart),
    sealed: bytes.subarray(sealedStart),
  };
  return format === FORMAT_EXTERNAL ? { ...parsed, ...parseOuterLayer(bytes, sealedStart) } : parsed;
}

/** Format 3's outer layer; its lengths are all the blob says about it, so each is checked before it is used. */
function parseOuterLayer(bytes: Buffer, start: number): Pick<ParsedCiphertext, "sealed" | "external"> {
  const ivLength = bytes[start] ?? 0;
  if (ivLength !== 12 && ivLength !== 16) throw invalidCiphertext();
  const metadataAt = start + 1 + ivLength;
  const metadataLength = bytes[metadataAt] ?? MAX_METADATA_BYTES + 1;
  if (metadataLength > MAX_METADATA_BYTES) throw invalidCiphertext();
  const tagAt = metadataAt + 1 + metadataLength;
  const ciphertextAt = tagAt + TAG_BYTES;
  // The outer layer's plaintext is format 2's payload and tag: at least a tag long.
  if (bytes.length < ciphertextAt + TAG_BYTES) throw invalidCiphertext();
  return {
    sealed: bytes.subarray(ciphertextAt),
    external: { iv: bytes.subarray(start + 1, metadataAt), metadata: bytes.subarray(metadataAt + 1, tagAt), tag: bytes.subarray(tagAt, ciphertextAt) },
  };
}

/**
 * Header checks by header bytes. Every blob of one key material has the same header, and a SHA-256 per
 * Encrypt and Decrypt was a measured 3.5 µs (14 µs under load); the lookup is a fraction of that. Bounded:
 * damaged blobs add entries too, and the least recently used go first.
 */
const headerChecks = new LRUCache<string, Buffer>({ max: 4096 });

function headerCheck(bytes: Buffer, length: number): Buffer {
  const header = bytes.toString("latin1", 0, length);
  let check = headerChecks.get(header);
  if (check === undefined) {
    check = createHash("sha256").update(bytes.subarray(0, length)).digest().subarray(0, CHECK_BYTES);
    headerChecks.set(header, check);
  }
  return check;
}

/**
 * The request a seal or open serves. Keys in an external key store tell their proxy who asked, through which KMS
 * operation and request (the XKS API's requestMetadata); every other key ignores it.
 */
export interface KeyUse {
  readonly operation: string;
  readonly requestId: string;
  /** The caller: the account's root until access control knows principals (issue 13). */
  readonly principalArn: string;
  /** The AWS service that called KMS for the caller (kms:ViaService), e.g. Secrets Manager. */
  readonly viaService?: string;
}

export function keyUse(ctx: RequestContext, operation: string): KeyUse {
  return {
    operation,
    requestId: ctx.requestId,
    principalArn: `arn:aws:iam::${ctx.scope.account}:root`,
    ...(ctx.viaService === undefined ? {} : { viaService: ctx.viaService }),
  };
}

export interface Sealed {
  readonly blob: Buffer;
  readonly keyMaterialId: string;
}

export interface Opened {
  readonly plaintext: Buffer;
  readonly keyMaterialId: string;
}

/**
 * Seals and opens ciphertext blobs; the GCM work happens inside the key store, one token call each. Both answer at once
 * (no promise, so the hot path pays no extra turn) unless a key's material is outside secretslite: callers await.
 */
export class Ciphertexts {
  constructor(
    private readonly keyStore: KeyStore,
    /** Keys in a CloudHSM key store seal through their store's token (custom-key-stores.ts). */
    private readonly customSealer?: (key: KmsKeyRecord) => Sealer,
    /** Keys in an external key store: their proxy adds and removes the outer layer (custom-key-stores.ts). */
    private readonly externalLayer?: ExternalLayer,
  ) {}

  private sealerOf(key: KmsKeyRecord): Sealer {
    // A key in an external key store has KMS-side material like any other: the inner layer.
    if (key.customKeyStore === undefined || key.customKeyStore.xksKeyId !== undefined) return this.keyStore;
    if (this.customSealer === undefined) throw new Error(`KMS key ${key.keyId} is in a custom key store, and these ciphertexts have none`);
    return this.customSealer(key);
  }

  /** Encrypts under the key's newest backing key. */
  seal(key: KmsKeyRecord, plaintext: Uint8Array, context: EncryptionContext, use: KeyUse): Sealed | Promise<Sealed> {
    const backingKey = key.backingKeys[key.backingKeys.length - 1];
    if (backingKey === undefined) throw new Error(`KMS key ${key.keyId} has no backing key`);
    const materialStart = 2 + key.keyId.length;
    const checkStart = materialStart + MATERIAL_ID_BYTES;
    const ivStart = checkStart + CHECK_BYTES;
    // Header and IV share one buffer; the AAD is built once, with the context appended.
    const prefix = Buffer.allocUnsafe(ivStart + IV_BYTES);
    const external = key.customKeyStore?.xksKeyId !== undefined;
    prefix[0] = external ? FORMAT_EXTERNAL : FORMAT_2;
    prefix[1] = key.keyId.length;
    prefix.write(key.keyId, 2, "latin1");
    prefix.write(backingKey.id, materialStart, "hex");
    headerCheck(prefix, checkStart).copy(prefix, checkStart);
    fillIv(prefix, ivStart, IV_BYTES);
    const header = prefix.subarray(0, ivStart);
    const iv = prefix.subarray(ivStart);
    const aad = additionalData(header, context);
    const sealed = this.sealerOf(key).seal(backingKeyOf(key, backingKey), iv, aad, plaintext);
    if (external) return this.sealOuterLayer(key, prefix, sealed, outerAad(header, aad), use, backingKey.id);
    return { blob: Buffer.concat([prefix, sealed], prefix.length + sealed.length), keyMaterialId: backingKey.id };
  }

  private async sealOuterLayer(key: KmsKeyRecord, prefix: Buffer, inner: Buffer, aad: Buffer, use: KeyUse, keyMaterialId: string): Promise<Sealed> {
    if (this.externalLayer === undefined) throw new Error(`KMS key ${key.keyId} is in an external key store, and these ciphertexts have none`);
    const outer = await this.externalLayer.externalEncrypt(key, inner, aad, use);
    const lengths = (length: number) => Buffer.of(length);
    const blob = Buffer.concat([prefix, lengths(outer.iv.length), outer.iv, lengths(outer.metadata.length), outer.metadata, outer.tag, outer.ciphertext]);
    return { blob, keyMaterialId };
  }

  /** Decrypts a parsed blob with the key it names; any mismatch is InvalidCiphertextException. */
  open(key: KmsKeyRecord, parsed: ParsedCiphertext, context: EncryptionContext, use: KeyUse): Opened | Promise<Opened> {
    const backingKey: BackingKeyRecord | undefined = key.backingKeys.find((b) => b.id === parsed.keyMaterialId);
    if (backingKey === undefined) throw invalidCiphertext();
    // A blob of one layer for a key of two, or the reverse, was not made by this key.
    if ((parsed.external !== undefined) !== (key.customKeyStore?.xksKeyId !== undefined)) throw invalidCiphertext();
    const aad = additionalData(parsed.header, context);
    if (parsed.external !== undefined) return this.openOuterLayer(key, backingKey, parsed, aad, use);
    return this.openInner(key, backingKey, parsed.iv, aad, parsed.sealed);
  }

  private async openOuterLayer(key: KmsKeyRecord, backingKey: BackingKeyRecord, parsed: ParsedCiphertext, aad: Buffer, use: KeyUse): Promise<Opened> {
    if (this.externalLayer === undefined || parsed.external === undefined) throw new Error(`KMS key ${key.keyId} is in an external key store, and these ciphertexts have none`);
    const inner = await this.externalLayer.externalDecrypt(key, { ...parsed.external, ciphertext: parsed.sealed }, outerAad(parsed.header, aad), use);
    return this.openInner(key, backingKey, parsed.iv, aad, inner);
  }

  private openInner(key: KmsKeyRecord, backingKey: BackingKeyRecord, iv: Buffer, aad: Buffer, sealed: Buffer): Opened {
    try {
      const plaintext = this.sealerOf(key).open(backingKeyOf(key, backingKey), iv, aad, sealed);
      return { plaintext, keyMaterialId: backingKey.id };
    } catch (error) {
      if (error instanceof KeyStoreIntegrityError) throw invalidCiphertext();
      throw error;
    }
  }
}

/** The outer layer's AAD: the header, and a digest of the context part of format 2's AAD when there is one (see above). */
function outerAad(header: Buffer, innerAad: Buffer): Buffer {
  if (innerAad.length === header.length) return header;
  return Buffer.concat([header, createHash("sha256").update(innerAad.subarray(header.length)).digest()]);
}

/** What Ciphertexts needs from custom-key-stores.ts for keys in an external key store. */
export type ExternalLayer = Pick<CustomKeyStores, "externalEncrypt" | "externalDecrypt">;

/**
 * The AAD: the header, then the encryption context as pairs sorted by key and length-prefixed, so
 * `{a:"b"}` and `{"ab":""}` differ and the order the caller sent them in does not matter (AWS ignores it
 * too). Built in one allocation. Format 1 blobs were sealed with exactly these bytes; they must not change.
 */
export function additionalData(header: Buffer, context: EncryptionContext): Buffer {
  if (context === undefined) return header;
  const names = Object.keys(context);
  if (names.length === 0) return header;
  names.sort();
  let length = header.length;
  for (const name of names) length += 8 + Buffer.byteLength(name, "utf8") + Buffer.byteLength(context[name] ?? "", "utf8");
  const out = Buffer.allocUnsafe(length);
  let at = header.copy(out, 0);
  for (const name of names) {
    const lengths = at;
    at += 8;
    const nameBytes = out.write(name, at, "utf8");
    at += nameBytes;
    const valueBytes = out.write(context[name] ?? "", at, "utf8");
    at += valueBytes;
    out.writeUInt32BE(nameBytes, lengths);
    out.writeUInt32BE(valueBytes, lengths + 4);
  }
  return out;
}
