// What of a request or a response an audit event may show: all but secret material, in CloudTrail's member casing.
import { models } from "../generated";

/**
 * Members whose values are data with their own keys (encryption contexts, version-to-stage maps): CloudTrail
 * keeps those keys as sent, while it lowers the first letter of every member name.
 */
const MAP_MEMBERS = new Set<string>();

/**
 * Members never shown, wherever they appear: every blob of the models (plaintexts, ciphertexts, key material,
 * messages, signatures) and every member they mark sensitive (secret values, passwords, rotation tokens). CloudTrail
 * leaves all of them out too: its KMS Decrypt event shows the encryption context, never the ciphertext.
 */
const WITHHELD = new Set<string>([
  // Response members the input models do not declare.
  "Plaintext",
  "SecretString",
  "SecretBinary",
  "RandomPassword",
  "SharedSecret",
  "PrivateKeyPlaintext",
  "CiphertextBlob",
  "CiphertextForRecipient",
  // Grant tokens are bearer credentials for their grant (RetireGrant takes one alone). CloudTrail's CreateGrant
  // example shows only the grantId in responseElements.
  "GrantToken",
  "GrantTokens",
]);

for (const model of [models.kms, models.secretsmanager]) {
  for (const shape of Object.values(model.shapes)) {
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const target = model.shapes[ref.shape];
      if (target === undefined) continue;
      if (target.type === "blob" || target.sensitive === true || ref.sensitive === true) WITHHELD.add(name);
      else if (target.type === "map") MAP_MEMBERS.add(name);
    }
  }
}

/** `KeyId` → `keyId`, `ARN` → `arn`; `AWSAccountId` → `aWSAccountId`, as CloudTrail prints KMS key metadata. */
const memberName = (name: string): string =>
  /^[A-Z0-9]+$/.test(name) ? name.toLowerCase() : name.charAt(0).toLowerCase() + name.slice(1);

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Dates inside requestParameters and responseElements read as CloudTrail prints them: "Jun 9, 2023, 6:11:34 PM" (UTC). */
function trailDate(date: Date): string {
  const hours = date.getUTCHours();
  const twoDigits = (n: number): string => String(n).padStart(2, "0");
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${hours % 12 || 12}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())} ${hours < 12 ? "AM" : "PM"}`;
}

function shown(value: unknown, keepKeys: boolean): unknown {
  if (value === null || typeof value !== "object") return value;
  // Bytes are never shown, whatever member holds them.
  if (value instanceof Uint8Array) return undefined;
  if (value instanceof Date) return trailDate(value);
  if (Array.isArray(value)) return value.map((item) => shown(item, false)).filter((item) => item !== undefined);
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    if (member === undefined) continue;
    if (keepKeys) {
      const kept = shown(member, false);
      if (kept !== undefined) out[name] = kept;
      continue;
    }
    if (WITHHELD.has(name)) continue;
    const converted = shown(member, MAP_MEMBERS.has(name));
    if (converted !== undefined) out[memberName(name)] = converted;
  }
  return out;
}

/** A request or response as CloudTrail shows it; null when nothing is left (CloudTrail's null, too). */
export function trailElements(value: unknown): Record<string, unknown> | null {
  const converted = shown(value, false);
  if (converted === null || typeof converted !== "object" || Array.isArray(converted)) return null;
  return Object.keys(converted).length === 0 ? null : (converted as Record<string, unknown>);
}
