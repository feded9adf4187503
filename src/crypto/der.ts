// The little DER this key store writes and reads itself: ECDSA signatures, EC points from the token, ML-DSA public keys.

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

export function derElement(tag: number, ...contents: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.of(tag), encodeLength(body.length), body]);
}

export const derSequence = (...contents: readonly Uint8Array[]): Buffer => derElement(SEQUENCE, ...contents);

/** A BIT STRING of whole bytes (no unused bits). */
export const derBitString = (bytes: Uint8Array): Buffer => derElement(BIT_STRING, Buffer.of(0), bytes);

/**
 * Reads one element's header at `at`, insisting on DER's minimal length forms; undefined when malformed.
 * Lengths past 0xffff never occur in what is read here.
 */
function readHeader(bytes: Uint8Array, at: number, tag: number): { readonly start: number; readonly end: number } | undefined {
  if (bytes[at] !== tag) return undefined;
  const first = bytes[at + 1];
  if (first === undefined) return undefined;
  let length = first;
  let start = at + 2;
  if (first >= 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 2) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = bytes[start + i];
      if (byte === undefined || (i === 0 && byte === 0)) return undefined;
      length = length * 256 + byte;
    }
    if (length < 0x80) return undefined;
    start += count;
  }
  const end = start + length;
  return end <= bytes.length ? { start, end } : undefined;
}

/** An unsigned big-endian integer as a minimal DER INTEGER (a 0x00 first when the top bit is set). */
function derUnsignedInteger(value: Uint8Array): Buffer {
  let first = 0;
  while (first < value.length - 1 && value[first] === 0) first++;
  const digits = value.subarray(first);
  return derElement(INTEGER, (digits[0] ?? 0) >= 0x80 ? Buffer.of(0) : Buffer.alloc(0), digits);
}

/** PKCS#11 CKM_ECDSA output (r ‖ s, IEEE P1363) as the DER X9.62 Ecdsa-Sig-Value KMS returns. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  return derSequence(derUnsignedInteger(raw.subarray(0, half)), derUnsignedInteger(raw.subarray(half)));
}

/**
 * A DER Ecdsa-Sig-Value as r ‖ s of `coordinateBytes` each; undefined for anything that is not exactly one
 * canonical SEQUENCE of two positive INTEGERs that fit (raw r ‖ s, BER forms, trailing bytes, zero or negative).
 */
export function ecdsaDerToRaw(der: Uint8Array, coordinateBytes: number): Buffer | undefined {
  const sequence = readHeader(der, 0, SEQUENCE);
  if (sequence === undefined || sequence.end !== der.length) return undefined;
  const raw = Buffer.alloc(2 * coordinateBytes);
  let at = sequence.start;
  for (let part = 0; part < 2; part++) {
    const integer = readHeader(der, at, INTEGER);
    if (integer === undefined || integer.end === integer.start) return undefined;
    let digits = der.subarray(integer.start, integer.end);
    const [first = 0, second = 0] = digits;
    if (first >= 0x80) return undefined;
    if (first === 0) {
      // A leading zero is allowed only to keep a high bit from reading as a sign.
      if (digits.length === 1 || second < 0x80) return undefined;
      digits = digits.subarray(1);
    }
    if (digits.length > coordinateBytes) return undefined;
    raw.set(digits, (part + 1) * coordinateBytes - digits.length);
    at = integer.end;
  }
  if (at !== sequence.end) return undefined;
  const zero = (from: number): boolean => raw.subarray(from, from + coordinateBytes).every((byte) => byte === 0);
  return zero(0) || zero(coordinateBytes) ? undefined : raw;
}

/** The contents of a DER OCTET STRING spanning all of `bytes`: SoftHSM hands CKA_EC_POINT over wrapped in one. */
export function derOctetStringContents(bytes: Uint8Array): Buffer | undefined {
  const header = readHeader(bytes, 0, OCTET_STRING);
  return header === undefined || header.end !== bytes.length ? undefined : Buffer.from(bytes.subarray(header.start, header.end));
}
