// The `--tls` certificate: a self-signed localhost certificate made once with the openssl CLI and reused.
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../logger";
import { openssl } from "./openssl";

export interface SelfSignedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly created: boolean;
}

/** Long enough to forget about, short enough for clients that cap validity (825 days is Apple's limit). */
const VALIDITY_DAYS = 825;
/** Replaced this close to expiry, so a long-running dev stack does not start with a certificate about to lapse. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

// A config of our own rather than the system openssl.cnf: distributions' defaults differ, and -addext
// fails on an extension the system file already sets. CA:TRUE because clients trust this certificate
// as its own CA (AWS_CA_BUNDLE, an https agent's `ca`); serverAuth and the SANs make it valid as a server's.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = localhost
O = secretslite
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** `<dir>/tls/cert.pem` and `key.pem`: reused while valid, made (or remade) with `openssl req -x509` otherwise. */
export async function ensureSelfSignedCertificate(dir: string, logger: Logger, now: Date = new Date()): Promise<SelfSignedCertificate> {
  const tlsDir = path.join(dir, "tls");
  const certFile = path.join(tlsDir, "cert.pem");
  const keyFile = path.join(tlsDir, "key.pem");
  if (existsSync(certFile) && existsSync(keyFile)) {
    const validTo = Date.parse(new X509Certificate(readFileSync(certFile)).validTo);
    if (validTo - now.getTime() > RENEW_BEFORE_MS) return { certFile, keyFile, created: false };
    logger.warn("TLS: the self-signed certificate has expired or is about to: making a new one", { certFile });
  }
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  // Made in a scratch dir and renamed into place, key first: a cert.pem present means a complete pair.
  const scratch = mkdtempSync(path.join(tlsDir, ".new-"));
  try {
    const configFile = path.join(scratch, "openssl.cnf");
    writeFileSync(configFile, OPENSSL_CONFIG);
    const newKey = path.join(scratch, "key.pem");
    const newCert = path.join(scratch, "cert.pem");
    await openssl([
      "req", "-x509", "-config", configFile,
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", newKey, "-out", newCert, "-days", String(VALIDITY_DAYS),
    ], "--tls", "; or give --tls-cert and --tls-key");
    chmodSync(newKey, 0o600);
    renameSync(newKey, keyFile);
    renameSync(newCert, certFile);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { certFile, keyFile, created: true };
}
