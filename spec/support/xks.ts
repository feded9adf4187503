// An XKS proxy (src/xks/proxy.ts) for specs: on a free port, with a fresh localhost certificate, its log lines kept.
import { readFileSync } from "node:fs";
import { createLogger } from "../../src/logger";
import { ensureSelfSignedCertificate } from "../../src/tls/self-signed";
import { startXksProxy, type RunningXksProxy, type XksKey } from "../../src/xks/proxy";
import { temporaryDirs } from "./files";

// The model: AccessKeyId ^[A-Z2-7]+$, RawSecretAccessKey 43 to 64 characters.
export const XKS_CREDENTIALS = { accessKeyId: "XKSPROXYACCESSKEYIDABCDE", secretAccessKey: "xksProxyRawSecretAccessKey0123456789abcdefGHIJ" };

const newDir = temporaryDirs("secretslite-xks-support-");

export interface TestXksProxy {
  readonly proxy: RunningXksProxy;
  /** The certificate (PEM) the proxy serves: the CA to trust for it. */
  readonly ca: string;
  readonly caFile: string;
}

/** A proxy serving `keys` (no path prefix unless given), logging into `lines`. */
export async function startTestXksProxy(keys: readonly XksKey[], lines: string[], pathPrefix?: string): Promise<TestXksProxy> {
  const certificate = await ensureSelfSignedCertificate(newDir(), createLogger("error"));
  const ca = readFileSync(certificate.certFile, "utf8");
  const proxy = await startXksProxy({
    ...XKS_CREDENTIALS,
    pathPrefix,
    keys,
    tls: { cert: ca, key: readFileSync(certificate.keyFile) },
    logger: createLogger("info", (line) => lines.push(line)),
  });
  return { proxy, ca, caFile: certificate.certFile };
}
