// An XKS proxy (src/xks/proxy.ts) for specs: on a free port, its keys in this worker's XKS token, served with a fresh
// local CA's certificate, its log lines kept.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connectClusterToken } from "../../src/crypto/cluster-token";
import { initialisePkcs11Token, listPkcs11Tokens } from "../../src/crypto/pkcs11-module";
import { createLogger } from "../../src/logger";
import { ensureLocalCaCertificates } from "../../src/xks/local-ca";
import { startXksProxy, type RunningXksProxy, type XksKey } from "../../src/xks/proxy";
import { temporaryDirs } from "./files";
import { testSoftHsm } from "./softhsm";

// The model: AccessKeyId ^[A-Z2-7]+$, RawSecretAccessKey 43 to 64 characters.
export const XKS_CREDENTIALS = { accessKeyId: "XKSPROXYACCESSKEYIDABCDE", secretAccessKey: "xksProxyRawSecretAccessKey0123456789abcdefGHIJ" };

/** The token every test proxy of this worker keeps its keys in: another slot of the worker's SoftHSM2 (support/softhsm.ts). */
export const XKS_TOKEN_LABEL = "secretslite-spec-xks";
export const XKS_TOKEN_PIN = "xks-spec-pin-1";

const newDir = temporaryDirs("secretslite-xks-support-");

export interface XksTestToken {
  readonly modulePath: string;
  readonly softhsmConfigPath: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

/**
 * The worker's XKS token, made on first use. SoftHSM reads its config once per process, so the proxy's token cannot have
 * a directory of its own here: it is a second token beside the emulator's, made in-process with C_InitToken (as the
 * AWS_CLOUDHSM spec makes its cluster's token), and seen at once by every session of this process.
 */
export async function xksTestToken(): Promise<XksTestToken> {
  const softhsm = await testSoftHsm();
  if (!listPkcs11Tokens(softhsm.modulePath, softhsm.softhsmConfigPath).some((token) => token.label === XKS_TOKEN_LABEL)) {
    initialisePkcs11Token({ modulePath: softhsm.modulePath, softhsmConfigPath: softhsm.softhsmConfigPath, tokenLabel: XKS_TOKEN_LABEL, soPin: "xks-so-pin-1", pin: XKS_TOKEN_PIN });
  }
  return { modulePath: softhsm.modulePath, softhsmConfigPath: softhsm.softhsmConfigPath, tokenLabel: XKS_TOKEN_LABEL, pin: XKS_TOKEN_PIN };
}

export interface TestXksProxy {
  /** Closing it also destroys its keys' token objects and closes its session on the token. */
  readonly proxy: RunningXksProxy;
  /** The local CA's certificate (PEM): what to trust for the proxy. */
  readonly ca: string;
  readonly caFile: string;
  /** The CKA_LABEL of external key `id` in the XKS token (unique per proxy: proxies of one worker share the token). */
  keyLabel(id: string): string;
}

/**
 * A proxy serving `keys` (no path prefix unless given), logging into `lines`. Keys with material are imported into the
 * token (the caller's buffers are left as they are: it may check double encryption with them); keys without are
 * generated there.
 */
export async function startTestXksProxy(keys: readonly XksKey[], lines: string[], pathPrefix?: string): Promise<TestXksProxy> {
  const xksToken = await xksTestToken();
  const certificates = await ensureLocalCaCertificates(newDir(), createLogger("error"));
  const ca = readFileSync(certificates.caFile, "utf8");
  const token = connectClusterToken({ modulePath: xksToken.modulePath, tokenLabel: xksToken.tokenLabel }, xksToken.pin, {
    softhsmConfigPath: xksToken.softhsmConfigPath,
  });
  const prefix = `spec-${randomBytes(6).toString("hex")}/`;
  const keyLabel = (id: string): string => prefix + id;
  const forget = (): void => {
    for (const key of keys) token.destroyKey(keyLabel(key.id));
    token.close();
  };
  let proxy: RunningXksProxy;
  try {
    proxy = await startXksProxy({
      ...XKS_CREDENTIALS,
      pathPrefix,
      // The proxy zeroes the material it imports.
      keys: keys.map((key) => ({ ...key, material: key.material === undefined ? undefined : Buffer.from(key.material) })),
      token,
      keyLabelPrefix: prefix,
      tls: { cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) },
      logger: createLogger("info", (line) => lines.push(line)),
    });
  } catch (error) {
    forget();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const started = proxy;
  const close = (): Promise<void> => {
    // Specs close a proxy early and again in a finally: once is enough.
    closing ??= started.close().then(forget);
    return closing;
  };
  return { proxy: { url: started.url, port: started.port, close }, ca, caFile: certificates.caFile, keyLabel };
}
