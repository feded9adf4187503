// `secretslite xks-proxy`: runs the XKS proxy of proxy.ts, its keys in a PKCS#11 token, until SIGINT or SIGTERM.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectClusterToken, TokenConnectionError, type ClusterToken, type ClusterTokenConnection } from "../crypto/cluster-token";
import { DEFAULT_SOFTHSM_MODULE_PATH, ensureSoftHsmToken, readPin } from "../crypto/softhsm-bootstrap";
import { createLogger } from "../logger";
import { ensureLocalCaCertificates } from "./local-ca";
import { loadXksKeysFile, startXksProxy } from "./proxy";

/** The label of the SoftHSM2 token the proxy makes for itself in DIR/token. */
export const XKS_PROXY_TOKEN_LABEL = "secretslite-xks";

export const xksProxyUsage = `Usage: secretslite xks-proxy --keys FILE --tls-dir DIR [--port P] [--host H] [--path-prefix /PREFIX]
                           [--pkcs11-module LIB (--token-label LABEL | --slot N) [--pin-file FILE]]
       (SECRETSLITE_XKS_ACCESS_KEY_ID and SECRETSLITE_XKS_SECRET_ACCESS_KEY: the credential KMS signs with)

  Serves AWS's XKS proxy API v1 (POST [PREFIX]/kms/xks/v1/health, keys/ID/metadata|encrypt|decrypt) over HTTPS. DIR/tls
  holds a local CA made on first start (trust DIR/tls/ca.pem as the \`ca\` in --xks-proxies) and the localhost
  certificate it signs. The keys are non-extractable AES token objects labelled with their id; AES-GCM runs in the
  token. By default the token is a SoftHSM2 token the proxy makes in DIR/token (its PIN in DIR/token/pin: back up
  DIR/token whole). With --pkcs11-module, it is that library's token (for SoftHSM2, set SOFTHSM2_CONF), its user PIN
  in SECRETSLITE_XKS_PIN or in --pin-file, never on the command line.
  FILE lists the keys: {"keys": [{"id": "…", "material"?: "<base64, 32 bytes>", "status"?: "ENABLED"|"DISABLED",
  "usage"?: ["ENCRYPT","DECRYPT"]}]}. A key without material is generated in the token on first start; one with
  material is imported once (the material can then leave FILE). Status and usage are read from FILE at every start.
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
        "pkcs11-module": { type: "string" },
        "token-label": { type: "string" },
        slot: { type: "string" },
        "pin-file": { type: "string" },
        // Known only to be refused with a reason: a PIN in argv is visible to every user of the machine (ps).
        pin: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(xksProxyUsage);
    return 0;
  }
  if (values.pin !== undefined) return usageError("the PIN is never taken from the command line: set SECRETSLITE_XKS_PIN or give --pin-file");
  const accessKeyId = env.SECRETSLITE_XKS_ACCESS_KEY_ID;
  const secretAccessKey = env.SECRETSLITE_XKS_SECRET_ACCESS_KEY;
  const port = Number(values.port ?? "0");
  const dir = values["tls-dir"];
  if (values.keys === undefined || dir === undefined || accessKeyId === undefined || secretAccessKey === undefined || !Number.isInteger(port)) {
    return usageError("--keys, --tls-dir and both SECRETSLITE_XKS_* variables are required");
  }
  const modulePath = values["pkcs11-module"];
  const tokenLabel = values["token-label"];
  const slot = values.slot === undefined ? undefined : Number(values.slot);
  if (slot !== undefined && (!/^\d+$/.test(values.slot ?? "") || !Number.isSafeInteger(slot))) return usageError("--slot must be a slot id (a non-negative integer)");
  if (modulePath === undefined && (tokenLabel !== undefined || slot !== undefined || values["pin-file"] !== undefined)) {
    return usageError("--token-label, --slot and --pin-file choose a token of --pkcs11-module; without it the proxy uses its own SoftHSM2 token in DIR/token");
  }
  if (modulePath !== undefined && (tokenLabel === undefined) === (slot === undefined)) return usageError("--pkcs11-module needs one of --token-label and --slot");

  const logger = createLogger("info");
  let token: ClusterTokenConnection | undefined;
  try {
    const keys = loadXksKeysFile(values.keys);
    const certificates = await ensureLocalCaCertificates(dir, logger);
    token =
      modulePath === undefined
        ? await openOwnToken(path.join(dir, "token"))
        : openToken({ modulePath, tokenLabel, slot }, pinOf(values["pin-file"], env), undefined);
    logger.info("xks-proxy token", { token: token.description, keys: keys.length });
    const proxy = await startXksProxy({
      host: values.host,
      port,
      pathPrefix: values["path-prefix"],
      accessKeyId,
      secretAccessKey,
      keys,
      token,
      tls: { cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) },
      logger,
    });
    process.stdout.write(`secretslite xks-proxy listening on ${proxy.url}\nsecretslite xks-proxy CA ${certificates.caFile}\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await proxy.close();
    return 0;
  } catch (error) {
    process.stderr.write(`secretslite xks-proxy: could not start: ${(error as Error).message}\n`);
    return 1;
  } finally {
    token?.close();
  }
}

function usageError(message: string): number {
  process.stderr.write(`secretslite xks-proxy: ${message}\n\n${xksProxyUsage}`);
  return 2;
}

/** The PIN of a configured token: SECRETSLITE_XKS_PIN or the --pin-file, as the server's --token-label takes it. */
function pinOf(pinFile: string | undefined, env: NodeJS.ProcessEnv): { readonly pin: string; readonly source: string } {
  const fromEnv = env.SECRETSLITE_XKS_PIN;
  if (fromEnv === undefined && pinFile === undefined) throw new Error("--pkcs11-module needs the token's user PIN: set SECRETSLITE_XKS_PIN or give --pin-file");
  return { pin: readPin({ pin: fromEnv, pinFile }), source: pinFile ?? "SECRETSLITE_XKS_PIN" };
}

/**
 * The proxy's own SoftHSM2 token, made on first start exactly as the server makes its own (ensureSoftHsmToken: config,
 * token directory, a random PIN file, the token through C_InitToken, under the directory's lock).
 */
async function openOwnToken(tokenDir: string): Promise<ClusterTokenConnection> {
  const softhsm = await ensureSoftHsmToken(tokenDir, { tokenLabel: XKS_PROXY_TOKEN_LABEL, modulePath: DEFAULT_SOFTHSM_MODULE_PATH });
  return openToken(
    { modulePath: softhsm.modulePath, tokenLabel: softhsm.tokenLabel },
    { pin: softhsm.pin, source: path.join(tokenDir, "pin") },
    softhsm.softhsmConfigPath,
  );
}

function openToken(target: ClusterToken, pin: { readonly pin: string; readonly source: string }, softhsmConfigPath: string | undefined): ClusterTokenConnection {
  try {
    return connectClusterToken(target, pin.pin, { softhsmConfigPath });
  } catch (error) {
    // The connection error names the token and the CKR code, never the PIN; say where the PIN came from.
    if (error instanceof TokenConnectionError && error.code === "INVALID_CREDENTIALS") {
      const which = target.slot !== undefined ? `in slot ${target.slot}` : `labelled '${target.tokenLabel ?? ""}'`;
      const ckr = /CKR_\w+/.exec(error.message)?.[0] ?? "refused";
      throw new Error(`Cannot log in to the PKCS#11 token ${which} of ${target.modulePath}: ${ckr}; the PIN from ${pin.source} is wrong`);
    }
    throw error;
  }
}
