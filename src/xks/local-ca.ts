// The XKS proxy's TLS: a small certificate authority made on this machine and a localhost certificate it signs (openssl CLI).
import { randomBytes, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../logger";
import { openssl } from "../tls/openssl";

export interface LocalCaCertificates {
  /** The CA's certificate: what a client (the emulator's --xks-proxies `ca`) trusts. */
  readonly caFile: string;
  /** The proxy's certificate for localhost, signed by the CA, and its key. */
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * The CA outlives many server certificates, so a client configured once keeps trusting the proxy; the server
 * certificate stays within the 825 days some clients cap validity at.
 */
const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 825;
/** Replaced this close to expiry: a certificate about to lapse would stop KMS mid-run. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

// A config of our own, as in src/tls/self-signed.ts: distributions' openssl.cnf differ. The CA may sign server
// certificates only (pathlen:0, no serverAuth of its own); the server certificate is no CA and names localhost.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
O = secretslite xks-proxy
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/**
 * `<dir>/tls/ca.pem` + `ca-key.pem` (the local CA) and `cert.pem` + `key.pem` (the server's, signed by it): reused while
 * valid and chained, made again otherwise (a new CA only when the old one is missing or about to expire, which its
 * clients must then be given again).
 */
export async function ensureLocalCaCertificates(dir: string, logger: Logger, now: Date = new Date()): Promise<LocalCaCertificates> {
  const tlsDir = path.join(dir, "tls");
  const caFile = path.join(tlsDir, "ca.pem");
  const caKeyFile = path.join(tlsDir, "ca-key.pem");
  const certFile = path.join(tlsDir, "cert.pem");
  const keyFile = path.join(tlsDir, "key.pem");
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const scratch = mkdtempSync(path.join(tlsDir, ".new-"));
  try {
    const configFile = path.join(scratch, "openssl.cnf");
    writeFileSync(configFile, OPENSSL_CONFIG);
    const ca = usable(caFile, now) && existsSync(caKeyFile) ? new X509Certificate(readFileSync(caFile)) : undefined;
    if (ca === undefined) {
      if (existsSync(caFile)) logger.warn("xks-proxy TLS: the local CA has expired or is about to: making a new one, which clients must trust again", { caFile });
      const newCaKey = path.join(scratch, "ca-key.pem");
      const newCa = path.join(scratch, "ca.pem");
      await openssl([
        "req", "-x509", "-config", configFile, "-subj", "/CN=secretslite xks-proxy local CA/O=secretslite", "-extensions", "ca_ext",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", newCaKey, "-out", newCa, "-days", String(CA_VALIDITY_DAYS),
      ], "xks-proxy");
      chmodSync(newCaKey, 0o600);
      // Key first: a ca.pem present means a complete pair. The old server certificate chains to the old CA.
      renameSync(newCaKey, caKeyFile);
      renameSync(newCa, caFile);
      rmSync(certFile, { force: true });
    }
    const issuer = ca ?? new X509Certificate(readFileSync(caFile));
    if (usable(certFile, now) && existsSync(keyFile) && new X509Certificate(readFileSync(certFile)).verify(issuer.publicKey)) return { caFile, certFile, keyFile };
    const newKey = path.join(scratch, "key.pem");
    const request = path.join(scratch, "request.pem");
    const newCert = path.join(scratch, "cert.pem");
    await openssl(["req", "-new", "-config", configFile, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", newKey, "-out", request], "xks-proxy");
    await openssl([
      "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKeyFile,
      // A random serial rather than -CAcreateserial: no serial file to keep beside the CA.
      "-set_serial", `0x${randomBytes(16).toString("hex")}`,
      "-extfile", configFile, "-extensions", "server_ext", "-days", String(SERVER_VALIDITY_DAYS), "-out", newCert,
    ], "xks-proxy");
    chmodSync(newKey, 0o600);
    renameSync(newKey, keyFile);
    renameSync(newCert, certFile);
    return { caFile, certFile, keyFile };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function usable(file: string, now: Date): boolean {
  if (!existsSync(file)) return false;
  try {
    return Date.parse(new X509Certificate(readFileSync(file)).validTo) - now.getTime() > RENEW_BEFORE_MS;
  } catch {
    // Not a certificate (a half-written or foreign file): made again.
    return false;
  }
}
