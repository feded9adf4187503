// The --cloudhsm-clusters file: which PKCS#11 token each CloudHSM cluster id of an AWS_CLOUDHSM custom key store names.
import path from "node:path";
import type { ClusterToken } from "../../crypto/cluster-token";
import { readMappingFile } from "../../mapping-file";

/** CloudHsmClusterIdType's pattern in the model. */
export const CLUSTER_ID = /^cluster-[2-7a-zA-Z]{11,16}$/;

export class ClusterFileError extends Error {
  override readonly name = "ClusterFileError";
}

/**
 * Reads `{ <cluster id>: { pkcs11Module?, tokenLabel } | { pkcs11Module?, slot } }` (YAML, or JSON for `.json`);
 * pkcs11Module defaults to `defaultModulePath` (--pkcs11-module). Every mistake is named, file and cluster id first.
 * No PIN belongs here: a store's KeyStorePassword is the token's user PIN.
 */
export function readClusterFile(file: string, defaultModulePath: string): ReadonlyMap<string, ClusterToken> {
  const { source, document } = readMappingFile(
    file,
    "CloudHSM clusters file",
    "cluster ids to { pkcs11Module, tokenLabel } or { pkcs11Module, slot }",
    (message) => new ClusterFileError(message),
  );
  const clusters = new Map<string, ClusterToken>();
  const mistakes: string[] = [];
  for (const [clusterId, entry] of Object.entries(document)) {
    const where = `${source}: ${clusterId}`;
    if (!CLUSTER_ID.test(clusterId)) mistakes.push(`${where}: a cluster id is 'cluster-' and 11 to 16 of 2-7, a-z, A-Z`);
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      mistakes.push(`${where}: must be { pkcs11Module, tokenLabel } or { pkcs11Module, slot }`);
      continue;
    }
    const { pkcs11Module, tokenLabel, slot, ...others } = entry as Record<string, unknown>;
    for (const other of Object.keys(others)) mistakes.push(`${where}.${other}: unknown field (pkcs11Module, tokenLabel, slot)`);
    if (pkcs11Module !== undefined && (typeof pkcs11Module !== "string" || pkcs11Module === "")) mistakes.push(`${where}.pkcs11Module: must be a file path`);
    if ((tokenLabel === undefined) === (slot === undefined)) mistakes.push(`${where}: needs tokenLabel or slot, not both`);
    if (tokenLabel !== undefined && (typeof tokenLabel !== "string" || tokenLabel === "" || Buffer.byteLength(tokenLabel) > 32)) {
      mistakes.push(`${where}.tokenLabel: must be a token label of 1 to 32 bytes`);
    }
    if (slot !== undefined && (typeof slot !== "number" || !Number.isSafeInteger(slot) || slot < 0)) mistakes.push(`${where}.slot: must be a slot id (a whole number)`);
    clusters.set(clusterId, {
      modulePath: typeof pkcs11Module === "string" ? path.resolve(path.dirname(file), pkcs11Module) : defaultModulePath,
      ...(typeof tokenLabel === "string" ? { tokenLabel } : {}),
      ...(typeof slot === "number" ? { slot } : {}),
    });
  }
  if (mistakes.length > 0) throw new ClusterFileError(mistakes.join("\n"));
  return clusters;
}
