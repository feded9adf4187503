// The asymmetric, HMAC and key-agreement operations through code nobody here wrote: an `aws` CLI new enough to know
// them, and boto3; what they return is checked with node:crypto.
import { execFileSync } from "node:child_process";
import { constants, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign, verify } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { CLI_TEST_TIMEOUT_MS, runProgram, useCliServer } from "../support/aws-cli";

const spec = useCliServer();

/**
 * CLIs that know KEY_AGREEMENT, DeriveSharedSecret, Ed25519 and ML-DSA: v1 from 1.45, v2 from 2.15 (Debian's v2 2.9
 * predates them). Both places the suite looks: Debian's /usr/bin/aws and a pyenv v1.
 */
const CANDIDATE_CLIS = ["/usr/bin/aws", "/root/.pyenv/shims/aws"].filter((cli) => existsSync(cli));
const cliVersion = (cli: string): string => {
  try {
    return execFileSync(cli, ["--version"], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME } }).trim();
  } catch {
    return "";
  }
};
const newEnough = (version: string): boolean => {
  const match = /^aws-cli\/(\d+)\.(\d+)\./.exec(version);
  if (match === null) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return (major === 1 && minor >= 45) || (major === 2 && minor >= 15) || major > 2;
};
const VERSIONS = CANDIDATE_CLIS.map((cli) => ({ cli, version: cliVersion(cli) }));
const NEW_CLIS = VERSIONS.filter(({ version }) => newEnough(version)).map(({ cli }) => cli);

it("finds an aws CLI that knows the asymmetric KMS operations", () => {
  // Which CLIs were found and their versions, so a failure says what the machine has.
  expect({ found: VERSIONS, newEnough: NEW_CLIS.length > 0 }).toMatchObject({ newEnough: true });
});

/** A fresh P-256 peer for DeriveSharedSecret, its public key as SPKI DER. */
const peer = () => generateKeyPairSync("ec", { namedCurve: "P-256" });

describe.each(NEW_CLIS)("%s", (cli) => {
  const json = <T>(args: readonly string[]) => spec.aws.json<T>(cli, "kms", args);

  it("creates signing, MAC and key-agreement keys, signs, verifies, MACs, derives and makes a data key pair", async () => {
    const message = Buffer.from("signed through the aws CLI");
    const messageFile = spec.aws.file(message);

    const rsa = await json<{ KeyMetadata: { Arn: string; SigningAlgorithms: string[] } }>([
      "create-key", "--key-spec", "RSA_2048", "--key-usage", "SIGN_VERIFY",
    ]);
    expect(rsa.KeyMetadata.SigningAlgorithms).toContain("RSASSA_PSS_SHA_256");
    const signed = await json<{ Signature: string; KeyId: string; SigningAlgorithm: string }>([
      "sign", "--key-id", rsa.KeyMetadata.Arn, "--message", messageFile, "--message-type", "RAW", "--signing-algorithm", "RSASSA_PSS_SHA_256",
    ]);
    expect(signed).toMatchObject({ KeyId: rsa.KeyMetadata.Arn, SigningAlgorithm: "RSASSA_PSS_SHA_256" });
    const { PublicKey } = await json<{ PublicKey: string }>(["get-public-key", "--key-id", rsa.KeyMetadata.Arn]);
    const rsaPublic = createPublicKey({ key: Buffer.from(PublicKey, "base64"), format: "der", type: "spki" });
    const signature = Buffer.from(signed.Signature, "base64");
    expect(verify("sha256", message, { key: rsaPublic, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)).toBe(true);
    const verified = await json<{ SignatureValid: boolean }>([
      "verify", "--key-id", rsa.KeyMetadata.Arn, "--message", messageFile, "--signature", spec.aws.file(signature), "--signing-algorithm", "RSASSA_PSS_SHA_256",
    ]);
    expect(verified.SignatureValid).toBe(true);
    const tampered = await spec.aws.run(cli, "kms", [
      "verify", "--key-id", rsa.KeyMetadata.Arn, "--message", spec.aws.file(Buffer.from("another message")), "--signature", spec.aws.file(signature),
      "--signing-algorithm", "RSASSA_PSS_SHA_256",
    ]);
    expect(tampered.code).not.toBe(0);
    expect(tampered.stderr).toContain("(KMSInvalidSignatureException) when calling the Verify operation");

    const hmac = await json<{ KeyMetadata: { Arn: string } }>(["create-key", "--key-spec", "HMAC_384", "--key-usage", "GENERATE_VERIFY_MAC"]);
    const mac = await json<{ Mac: string }>(["generate-mac", "--key-id", hmac.KeyMetadata.Arn, "--message", messageFile, "--mac-algorithm", "HMAC_SHA_384"]);
    expect(Buffer.from(mac.Mac, "base64")).toHaveLength(48);
    const macValid = await json<{ MacValid: boolean }>([
      "verify-mac", "--key-id", hmac.KeyMetadata.Arn, "--message", messageFile, "--mac", spec.aws.file(Buffer.from(mac.Mac, "base64")), "--mac-algorithm", "HMAC_SHA_384",
    ]);
    expect(macValid.MacValid).toBe(true);

    const agreement = await json<{ KeyMetadata: { Arn: string } }>(["create-key", "--key-spec", "ECC_NIST_P384", "--key-usage", "KEY_AGREEMENT"]);
    const other = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const derived = await json<{ SharedSecret: string; KeyOrigin: string }>([
      "derive-shared-secret", "--key-id", agreement.KeyMetadata.Arn, "--key-agreement-algorithm", "ECDH",
      "--public-key", spec.aws.file(other.publicKey.export({ format: "der", type: "spki" })),
    ]);
    const agreementPublic = await json<{ PublicKey: string }>(["get-public-key", "--key-id", agreement.KeyMetadata.Arn]);
    const expected = diffieHellman({
      privateKey: other.privateKey,
      publicKey: createPublicKey({ key: Buffer.from(agreementPublic.PublicKey, "base64"), format: "der", type: "spki" }),
    });
    expect(Buffer.from(derived.SharedSecret, "base64").equals(expected)).toBe(true);
    expect(derived.KeyOrigin).toBe("AWS_KMS");

    const wrapping = await json<{ KeyMetadata: { Arn: string } }>(["create-key"]);
    const pair = await json<{ PrivateKeyPlaintext: string; PrivateKeyCiphertextBlob: string; PublicKey: string; KeyPairSpec: string }>([
      "generate-data-key-pair", "--key-id", wrapping.KeyMetadata.Arn, "--key-pair-spec", "ECC_NIST_EDWARDS25519",
    ]);
    expect(pair.KeyPairSpec).toBe("ECC_NIST_EDWARDS25519");
    const pairPrivate = createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext, "base64"), format: "der", type: "pkcs8" });
    const pairPublic = createPublicKey({ key: Buffer.from(pair.PublicKey, "base64"), format: "der", type: "spki" });
    expect(verify(null, message, pairPublic, sign(null, message, pairPrivate))).toBe(true);
    const opened = await json<{ Plaintext: string }>(["decrypt", "--ciphertext-blob", spec.aws.file(Buffer.from(pair.PrivateKeyCiphertextBlob, "base64"))]);
    expect(opened.Plaintext).toBe(pair.PrivateKeyPlaintext);
  }, CLI_TEST_TIMEOUT_MS);
});

const importsNewBoto3 = (python: string): boolean => {
  try {
    execFileSync(python, ["-c", "import boto3; assert hasattr(boto3.client('kms', region_name='us-east-1'), 'derive_shared_secret')"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
/** Debian's python3-boto3 (botocore 1.29) predates DeriveSharedSecret; a pyenv python3 with a current boto3 knows it. */
const PYTHONS = ["/usr/bin/python3", "/root/.pyenv/shims/python3"].filter((python) => existsSync(python) && importsNewBoto3(python));

it("finds a boto3 that knows DeriveSharedSecret", () => {
  expect(PYTHONS.length).toBeGreaterThan(0);
});

describe.each(PYTHONS)("boto3 under %s", (python) => {
  it("signs, verifies, MACs, derives and makes a data key pair, and node:crypto agrees with what it got", async () => {
    const other = peer();
    const peerSpki = other.publicKey.export({ format: "der", type: "spki" }).toString("base64");
    const result = await runProgram(python, [path.join(__dirname, "..", "support", "boto3-asymmetric.py"), spec.server.url, peerSpki]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const got = JSON.parse(result.stdout) as Record<string, string> & { signingAlgorithms: string[] };
    const der = (field: string) => Buffer.from(got[field] ?? "", "base64");
    const signingPublic = createPublicKey({ key: der("signingPublicKey"), format: "der", type: "spki" });
    expect(got.signingAlgorithms).toEqual(["ECDSA_SHA_256"]);
    // KMS returns ECDSA signatures as DER, which is node:crypto's default encoding.
    expect(verify("sha256", der("message"), signingPublic, der("signature"))).toBe(true);
    const agreementPublic = createPublicKey({ key: der("agreementPublicKey"), format: "der", type: "spki" });
    expect(der("sharedSecret").equals(diffieHellman({ privateKey: other.privateKey, publicKey: agreementPublic }))).toBe(true);
    const pairPrivate = createPrivateKey({ key: der("pairPrivateKey"), format: "der", type: "pkcs8" });
    expect(createPublicKey(pairPrivate).export({ format: "der", type: "spki" }).equals(der("pairPublicKey"))).toBe(true);
  }, CLI_TEST_TIMEOUT_MS);
});
