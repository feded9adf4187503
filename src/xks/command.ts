// `secretslite xks-proxy`: runs the XKS proxy of proxy.ts from a keys file until SIGINT or SIGTERM.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger } from "../logger";
import { ensureSelfSignedCertificate } from "../tls/self-signed";
import { loadXksKeysFile, startXksProxy } from "./proxy";

export const xksProxyUsage = `Usage: secretslite xks-proxy --keys FILE --tls-dir DIR [--port P] [--host H] [--path-prefix /PREFIX]
       (SECRETSLITE_XKS_ACCESS_KEY_ID and SECRETSLITE_XKS_SECRET_ACCESS_KEY: the credential KMS signs with)

  Serves AWS's XKS proxy API v1 (POST [PREFIX]/kms/xks/v1/health, keys/ID/metadata|encrypt|decrypt) over HTTPS with a
  self-signed localhost certificate kept in DIR/tls (trust DIR/tls/cert.pem as the CA in --xks-proxies). The keys
  live in memory, read from FILE: {"keys": [{"id": "…", "material": "<base64, 32 bytes>", "status"?, "usage"?}]}.
  Every request is logged (operation, key, KMS operation and request id; never plaintext).
`;

/** The exit code once the proxy stops (0), or at once on a usage (2) or start (1) error. */
export async function xksProxyCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        keys: { type: "string" },
        "tls-dir": { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "path-prefix": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`secretslite xks-proxy: ${(error as Error).message}\n\n${xksProxyUsage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(xksProxyUsage);
    return 0;
  }
  const accessKeyId = env.SECRETSLITE_XKS_ACCESS_KEY_ID;
  const secretAccessKey = env.SECRETSLITE_XKS_SECRET_ACCESS_KEY;
  const port = Number(values.port ?? "0");
  if (values.keys === undefined || values["tls-dir"] === undefined || accessKeyId === undefined || secretAccessKey === undefined || !Number.isInteger(port)) {
    process.stderr.write(`secretslite xks-proxy: --keys, --tls-dir and both SECRETSLITE_XKS_* variables are required\n\n${xksProxyUsage}`);
    return 2;
  }
  const logger = createLogger("info");
  try {
    const certificate = await ensureSelfSignedCertificate(values["tls-dir"], logger);
    const proxy = await startXksProxy({
      host: values.host,
      port,
      pathPrefix: values["path-prefix"],
      accessKeyId,
      secretAccessKey,
      keys: loadXksKeysFile(values.keys),
      tls: { cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) },
      logger,
    });
    process.stdout.write(`secretslite xks-proxy listening on ${proxy.url}\nsecretslite xks-proxy certificate ${certificate.certFile}\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await proxy.close();
    return 0;
  } catch (error) {
    process.stderr.write(`secretslite xks-proxy: could not start: ${(error as Error).message}\n`);
    return 1;
  }
}
