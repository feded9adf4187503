// Signatures of asymmetric signing keys: the message rules of Sign and Verify, signing in the key store, verifying with the stored public key.
import type { MessageType, SigningAlgorithmSpec } from "@aws-sdk/client-kms";
import type { BackingKeySpec, KeyStore, SignInput, SigningAlgorithmSpec as BackingSigningAlgorithm } from "../../crypto/key-store";
import { verifySignature } from "../../crypto/public-key-operations";
import { digestLength, externalMuLength, messageTypeNotValid } from "./errors";
import { currentBackingKeyOf } from "./key-material";
import type { KmsKeyRecord } from "./key-record";
import { SIGNING_ALGORITHMS } from "./key-specs";

/**
 * The message as Sign and Verify take it, after the key checks: a MessageType the algorithm takes (RAW by default, as
 * the model says), a DIGEST of exactly the hash's length, a 64-byte EXTERNAL_MU. RAW's 4,096-byte bound is the model's
 * Message constraint, checked before any operation runs.
 */
export function signInput(algorithm: SigningAlgorithmSpec, messageType: MessageType | undefined, message: Uint8Array): SignInput {
  const type = messageType ?? "RAW";
  const lengths = SIGNING_ALGORITHMS[algorithm].messages;
  const allowed = (Object.keys(lengths) as MessageType[]).filter((name) => lengths[name] !== undefined);
  const rule = lengths[type];
  if (rule === undefined) throw messageTypeNotValid(algorithm, type, allowed);
  if ("exact" in rule && message.length !== rule.exact) throw type === "DIGEST" ? digestLength(algorithm) : externalMuLength(algorithm);
  return { messageType: type, message };
}

/** Signs in the key store (the token, or Node for Ed25519 and ML-DSA) and verifies against the public key kept in the key record. */
export class Signatures {
  constructor(private readonly keyStore: KeyStore) {}

  /** ECDSA as DER, the others as their raw signature bytes: what AWS's SignResponse.Signature holds. */
  sign(key: KmsKeyRecord, algorithm: SigningAlgorithmSpec, input: SignInput): Promise<Buffer> {
    // usable() has matched the algorithm to the key spec, and SM2 keys are never made, so SM2DSA never gets here.
    return this.keyStore.sign(currentBackingKeyOf(key), algorithm as BackingSigningAlgorithm, input);
  }

  /** Whether `signature` verifies; a malformed one (raw r ‖ s for ECDSA, wrong length) is false, never an error. */
  verify(key: KmsKeyRecord, algorithm: SigningAlgorithmSpec, input: SignInput, signature: Uint8Array): Promise<boolean> {
    const publicKey = key.backingKeys[key.backingKeys.length - 1]?.publicKey;
    if (publicKey === undefined) throw new Error(`KMS key ${key.keyId} has no public key`);
    // SM2 is the one KMS spec without a backing key spec, and CreateKey never makes an SM2 key.
    return verifySignature(Buffer.from(publicKey, "base64"), key.keySpec as BackingKeySpec, algorithm as BackingSigningAlgorithm, input, signature);
  }
}
