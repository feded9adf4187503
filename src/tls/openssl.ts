// The openssl command, which makes secretslite's local certificates (node:crypto reads certificates but cannot make them).
import { execFile } from "node:child_process";

/**
 * Runs `openssl <args>`. `who` names the feature that needs it (`--tls`, `xks-proxy`) and `missingHint` what else the
 * user can do when openssl is not installed, so the error says what to do rather than "ENOENT".
 */
export function openssl(args: readonly string[], who: string, missingHint = ""): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return reject(new Error(`${who} makes its certificates with the openssl command, which is not installed (Debian: apt-get install openssl)${missingHint}`));
      }
      reject(new Error(`${who}: openssl could not make the certificate: ${stderr.trim() || error.message}`));
    });
  });
}
