// --strict-hsm: CreateKey refuses the key specs whose private keys the key store uses in Node; the start says which they are.
import { CreateKeyCommand, ListKeysCommand, type KeySpec, type KeyUsageType } from "@aws-sdk/client-kms";
import { parseConfig } from "../../src/config";
import { closeCryptoWorkers } from "../../src/crypto/crypto-workers";
import { createLogger } from "../../src/logger";
import { startSecretslite } from "../../src/main";
import { temporaryDirs } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";
import { testSoftHsm } from "../support/softhsm";

const OUTSIDE_TOKEN = ["ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"];

afterAll(closeCryptoWorkers);

describe("CreateKey under --strict-hsm", () => {
  let strict: TestServer;
  let lenient: TestServer;
  beforeAll(async () => {
    [strict, lenient] = await Promise.all([startTestServer({ flags: ["--strict-hsm"] }), startTestServer()]);
  });
  afterAll(async () => {
    await strict?.close();
    await lenient?.close();
  });

  const create = (server: TestServer, KeySpec: KeySpec, KeyUsage: KeyUsageType) => server.kms().send(new CreateKeyCommand({ KeySpec, KeyUsage }));

  it.each([["ECC_NIST_EDWARDS25519"], ["ML_DSA_44"]] as const)("refuses %s with UnsupportedOperationException, and makes no key", async (spec) => {
    const before = (await strict.kms().send(new ListKeysCommand({}))).Keys?.length ?? 0;
    await expect(create(strict, spec, "SIGN_VERIFY")).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: `KeySpec ${spec} is not supported by this key store with --strict-hsm: its private key would be used outside the token.`,
      $metadata: { httpStatusCode: 400 },
    });
    expect((await strict.kms().send(new ListKeysCommand({}))).Keys?.length ?? 0).toBe(before);
  });

  it("makes token-held keys as usual: ECC_NIST_P256, RSA_2048, HMAC_256 and SYMMETRIC_DEFAULT", async () => {
    expect((await create(strict, "ECC_NIST_P256", "SIGN_VERIFY")).KeyMetadata).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyState: "Enabled" });
    expect((await create(strict, "RSA_2048", "ENCRYPT_DECRYPT")).KeyMetadata).toMatchObject({ KeySpec: "RSA_2048", KeyState: "Enabled" });
    expect((await create(strict, "HMAC_256", "GENERATE_VERIFY_MAC")).KeyMetadata).toMatchObject({ KeySpec: "HMAC_256" });
    expect((await strict.kms().send(new CreateKeyCommand({}))).KeyMetadata).toMatchObject({ KeySpec: "SYMMETRIC_DEFAULT" });
  });

  it("CreateKey's own checks still come first: a usage the spec lacks is ValidationException, strict or not", async () => {
    await expect(create(strict, "ECC_NIST_EDWARDS25519", "KEY_AGREEMENT")).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("without --strict-hsm the same specs are made", async () => {
    expect((await create(lenient, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")).KeyMetadata).toMatchObject({ KeySpec: "ECC_NIST_EDWARDS25519", KeyState: "Enabled" });
    expect((await create(lenient, "ML_DSA_44", "SIGN_VERIFY")).KeyMetadata).toMatchObject({ KeySpec: "ML_DSA_44", KeyState: "Enabled" });
  });
});

describe("the start's log line on specs outside the token", () => {
  const tempDir = temporaryDirs("secretslite-strict-hsm-");

  async function startLines(flags: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const token = await testSoftHsm();
    const config = parseConfig(["--port", "0", "--data-dir", tempDir(), "--token-label", token.tokenLabel, `--pin=${token.pin}`, ...flags], {});
    if (config === undefined) throw new Error("unreachable");
    const lines: string[] = [];
    const running = await startSecretslite(config, { logger: createLogger("info", (line) => lines.push(line)) });
    await running.close();
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => "specsOutsideToken" in line);
  }

  it("names them once, at info, saying their private keys are sealed by the root key at rest and used in Node", async () => {
    const lines = await startLines([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", specsOutsideToken: OUTSIDE_TOKEN, strictHsm: false });
    expect(lines[0]?.msg).toMatch(/sealed by the root key at rest and used in Node for each operation/);
  });

  it("under --strict-hsm says they are refused", async () => {
    const lines = await startLines(["--strict-hsm"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", specsOutsideToken: OUTSIDE_TOKEN, strictHsm: true });
    expect(lines[0]?.msg).toMatch(/refused \(--strict-hsm\)/);
  });
});
