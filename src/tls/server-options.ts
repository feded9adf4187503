// HTTPS settings from the --tls* flags: certificate and key, mutual TLS, key-exchange groups, TLS 1.2 minimum.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import type { TlsConfig } from "../config";
import type { Logger } from "../logger";
import { ensureSelfSignedCertificate } from "./self-signed";

export interface ServerTls {
  readonly options: tls.TlsOptions;
  /** The certificate `--tls` made or reused, which clients must trust; undefined with --tls-cert. */
  readonly selfSignedCertFile: string | undefined;
  /** Removes the temporary certificate of an --in-memory --tls start; nothing otherwise. */
  release(): void;
}

/**
 * Reads and checks everything before the server listens, so a bad file or group stops the start with its name.
 * `dataDir` undefined (--in-memory): a --tls certificate goes in a temporary dir, removed by release() or at exit.
 */
export async function serverTls(config: TlsConfig, dataDir: string | undefined, logger: Logger): Promise<ServerTls> {
  const groups = config.groups === undefined ? undefined : checkGroups(config.groups);
  let certFile = config.certFile;
  let keyFile = config.keyFile;
  let selfSignedCertFile: string | undefined;
  let release = (): void => {};
  if (config.selfSigned) {
    let certDir = dataDir;
    if (certDir === undefined) {
      const temporary = mkdtempSync(path.join(os.tmpdir(), "secretslite-tls-"));
      release = () => {
        rmSync(temporary, { recursive: true, force: true });
        process.off("exit", release);
      };
      process.once("exit", release);
      certDir = temporary;
    }
    const made = await ensureSelfSignedCertificate(certDir, logger).catch((error: unknown) => {
      release();
      throw error;
    });
    certFile = made.certFile;
    keyFile = made.keyFile;
    selfSignedCertFile = made.certFile;
    logger.info(made.created ? "TLS: made a self-signed certificate for localhost" : "TLS: using the self-signed certificate made earlier", { certFile });
  }
  if (certFile === undefined || keyFile === undefined) throw new Error("HTTPS needs --tls, or --tls-cert with --tls-key");
  try {
    return { ...readServerOptions(certFile, keyFile, config.caFile, groups), selfSignedCertFile, release };
  } catch (error) {
    release();
    throw error;
  }
}

function readServerOptions(certFile: string, keyFile: string, caFile: string | undefined, groups: string | undefined): { options: tls.TlsOptions } {
  const cert = readPem(certFile, "--tls-cert");
  const key = readPem(keyFile, "--tls-key");
  const ca = caFile === undefined ? undefined : readPem(caFile, "--tls-ca");
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      throw new Error(`--tls-ca ${caFile}: not a PEM certificate`);
    }
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(`--tls-cert ${certFile} with --tls-key ${keyFile}: ${(error as Error).message}`);
  }
  return {
    options: {
      cert,
      key,
      // TLS 1.0 and 1.1 are deprecated (RFC 8996), and AWS's endpoints refuse them too.
      minVersion: "TLSv1.2",
      ...(ca === undefined ? {} : { ca, requestCert: true, rejectUnauthorized: true }),
      ...(groups === undefined ? {} : { ecdhCurve: groups }),
    },
  };
}

/** Node only says "Failed to set ECDH curve": name the groups its OpenSSL lacks, and the version that has them. */
function checkGroups(groups: string): string {
  const unknown = groups.split(":").filter((group) => group !== "" && !groupSupported(group));
  if (unknown.length > 0) {
    const postQuantum = unknown.some((group) => /MLKEM|KYBER/i.test(group));
    throw new Error(
      `--tls-groups: ${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not known to this Node's OpenSSL ` +
        `(Node ${process.version} has OpenSSL ${process.versions.openssl}).` +
        (postQuantum ? " Hybrid post-quantum groups such as X25519MLKEM768 need OpenSSL 3.5 or later: run secretslite on a Node built with it." : ""),
    );
  }
  if (!groupSupported(groups)) throw new Error(`--tls-groups: OpenSSL refuses the list '${groups}' (groups are separated by ':')`);
  return groups;
}

function groupSupported(groups: string): boolean {
  try {
    tls.createSecureContext({ ecdhCurve: groups });
    return true;
  } catch {
    return false;
  }
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}
