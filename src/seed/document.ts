// Seed documents: YAML or JSON read once at start, checked entry by entry, and turned into a plan of API requests.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { AwsError } from "../errors";
import { decodeInput } from "../protocol/validate";
import { type Scope, partitionOf } from "../services/scope";
import { assertNewAliasName, assertNotReserved } from "../services/kms/aliases";
import { assertValidPolicy } from "../services/kms/key-policy";
import { KeyStoreUsageError, type BackingKeySpec } from "../crypto/key-store";
import { privateKeyOfPkcs8 } from "../crypto/imported-keys";
import { checkKeyKind } from "../services/kms/create-key";
import { KEY_ID } from "../services/kms/key-arn";
import { KEY_SPECS, type KmsKeySpec, type KmsKeyUsage } from "../services/kms/key-specs";
import { assertValidTags, toKeyTags } from "../services/kms/tags";
import { checkRotationRules } from "../services/secretsmanager/rotation-rules";
import { AWSCURRENT } from "../services/secretsmanager/secret";
import { checkAddedTags, MAX_TAGS } from "../services/secretsmanager/tags";

/** A bad seed: every line names the source, the entry and the field, e.g. `fixtures/seed.yaml: kms.keys[2].keySpec: …`. */
export class SeedError extends Error {
  override readonly name = "SeedError";
}

export const DEFAULT_SEED_REGION = "us-east-1";

/** Where an entry came from, for messages: the file as given (or `options.seed`) and the entry's path in it. */
export interface SeedOrigin {
  readonly source: string;
  readonly path: string;
}

export interface SeedKey extends SeedOrigin {
  readonly scope: Scope;
  readonly keyId: string;
  /** CreateKey's members as the SDK would send them (wire JSON); the key id is the fixed one above. */
  readonly createKey: Readonly<Record<string, unknown>>;
  /**
   * Fixed key material, kept for re-seeding after a reset: 32 bytes imported into an Origin EXTERNAL symmetric key;
   * for other specs the material of an AWS_KMS key in importBackingKey's form (raw HMAC bytes, PKCS#8 DER).
   */
  readonly material: Buffer | undefined;
  readonly enabled: boolean;
  /** RotationPeriodInDays when automatic rotation is on. */
  readonly rotationPeriodInDays: number | undefined;
}

export interface SeedAlias extends SeedOrigin {
  readonly scope: Scope;
  readonly aliasName: string;
  readonly targetKeyId: string;
}

export interface SeedVersion {
  readonly versionId: string;
  /** SecretString or SecretBinary (base64), as the SDK would send it. */
  readonly value: { readonly SecretString: string } | { readonly SecretBinary: string };
  /** Undefined when the entry names none: the version then gets what PutSecretValue gives it. */
  readonly stages: readonly string[] | undefined;
}

export interface SeedSecret extends SeedOrigin {
  readonly scope: Scope;
  readonly name: string;
  /** CreateSecret's members other than the value and the token (wire JSON). */
  readonly createSecret: Readonly<Record<string, unknown>>;
  /** Oldest first; the first one is CreateSecret's. */
  readonly versions: readonly SeedVersion[];
  readonly rotation: { readonly lambdaArn: string; readonly rules: Readonly<Record<string, unknown>> } | undefined;
}

export interface SeedPlan {
  readonly keys: readonly SeedKey[];
  readonly aliases: readonly SeedAlias[];
  readonly secrets: readonly SeedSecret[];
}

export const emptySeedPlan: SeedPlan = Object.freeze({ keys: [], aliases: [], secrets: [] });

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const KEY_MATERIAL_BYTES = 32;
/** PEM of an unencrypted PKCS#8 PrivateKeyInfo (RFC 7468 "PRIVATE KEY"); the body is group 1. */
const PKCS8_PEM = /^\s*-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]*)-----END PRIVATE KEY-----\s*$/;
/** The asymmetric specs whose fixed material is a PKCS#8 private key (the key store takes no ML-DSA material). */
const PKCS8_SPECS: readonly KmsKeySpec[] = ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"];

/** Reads and checks a seed file: `.json` files as JSON, anything else as YAML. Throws SeedError. */
export function readSeedFile(file: string, defaultAccount: string): SeedPlan {
  const source = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SeedError(`${source}: cannot read the seed file: ${(error as Error).message}`);
  }
  let document: unknown;
  if (file.toLowerCase().endsWith(".json")) {
    try {
      document = JSON.parse(text);
    } catch (error) {
      // V8's message quotes the text around the mistake, which may be a secret value: give only where it is,
      // as the YAML parser (JSON is YAML) locates it.
      void error;
      throw new SeedError(`${source}: not valid JSON${jsonErrorLocation(text)}`);
    }
  } else {
    try {
      document = parseYaml(text, { uniqueKeys: true });
    } catch (error) {
      throw new SeedError(`${source}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  return checkSeed(document, source, defaultAccount);
}

/** Checks a parsed seed document (a file's, or one passed in-process) and plans it. Throws SeedError naming every mistake. */
export function checkSeed(document: unknown, source: string, defaultAccount: string): SeedPlan {
  const checker = new Checker(source);
  const plan = checker.document(document, defaultAccount);
  if (checker.problems.length > 0) {
    const shown = checker.problems.slice(0, 20);
    const more = checker.problems.length - shown.length;
    throw new SeedError(shown.join("\n") + (more > 0 ? `\n(and ${more} more)` : ""));
  }
  return plan;
}

/** Plans of several sources, applied in order (the file first, then an in-process document). */
export function concatPlans(plans: readonly SeedPlan[]): SeedPlan {
  return {
    keys: plans.flatMap((plan) => plan.keys),
    aliases: plans.flatMap((plan) => plan.aliases),
    secrets: plans.flatMap((plan) => plan.secrets),
  };
}

/** A stable version id for a version the seed gives none, so every machine and every re-seed gets the same one. */
export function seedVersionId(scope: Scope, secretName: string, index: number): string {
  const hash = createHash("sha256").update(`secretslite seed\0${scope.account}\0${scope.region}\0${secretName}\0${index}`).digest();
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x80;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.toString("hex", 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

type Json = Record<string, unknown>;

/** Thrown inside one field's check to stop checking that entry; the problem is already recorded. */
class Skip extends Error {}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a mapping" : `a ${typeof value}`);

const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a mapping" : `the ${typeof value} ${JSON.stringify(value)}`;

/** What an AWS error from a model or service check says, without the code when the message says enough. */
const awsText = (error: AwsError): string => (error.message === "" ? error.code : `${error.message} (${error.code})`);

class Checker {
  readonly problems: string[] = [];

  constructor(private readonly source: string) {}

  private problem(where: string, message: string): void {
    this.problems.push(`${this.source}: ${where}: ${message}`);
  }

  private fail(where: string, message: string): never {
    this.problem(where, message);
    throw new Skip();
  }

  /** Runs one entry's checks; a Skip ends that entry only, so one run reports every bad entry. */
  private entry<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (error instanceof Skip) return undefined;
      throw error;
    }
  }

  private fields(where: string, value: unknown, allowed: readonly string[]): Json {
    if (!isObject(value)) this.fail(where, `must be a mapping, not ${describe(value)}`);
    for (const name of Object.keys(value)) {
      if (!allowed.includes(name)) this.fail(`${where}.${name}`, `unknown field; ${where === "(top level)" ? "the top level" : "this entry"} takes ${allowed.join(", ")}`);
    }
    return value;
  }

  private list(where: string, value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(where, `must be a list, not ${describe(value)}`);
    return value;
  }

  /** `secret`: the value is a secret or key material, so the message names its type only, never the value. */
  private string(where: string, value: unknown, secret = false): string {
    if (typeof value !== "string") this.fail(where, `must be a string, not ${secret ? kindOf(value) : describe(value)}`);
    return value;
  }

  private optionalString(where: string, value: unknown, secret = false): string | undefined {
    return value === undefined || value === null ? undefined : this.string(where, value, secret);
  }

  private boolean(where: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") this.fail(where, `must be true or false, not ${describe(value)}`);
    return value;
  }

  private account(where: string, value: unknown, fallback: string): string {
    if (value === undefined || value === null) return fallback;
    // YAML reads 123456789012 as a number; one that lost leading zeros cannot be told apart, so it needs quotes.
    if (typeof value === "number" && Number.isSafeInteger(value) && String(value).length === 12) return String(value);
    if (typeof value !== "string" || !ACCOUNT.test(value)) {
      this.fail(where, `must be a 12-digit account id in quotes (YAML reads 000000000000 as the number 0), not ${describe(value)}`);
    }
    return value;
  }

  private region(where: string, value: unknown, fallback: string): string {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string" || !REGION.test(value)) this.fail(where, `must be a region name such as us-east-1, not ${describe(value)}`);
    return value;
  }

  private scope(where: string, entry: Json, defaults: { account: string; region: string }): Scope {
    const account = this.account(`${where}.account`, entry.account, defaults.account);
    const region = this.region(`${where}.region`, entry.region, defaults.region);
    return { account, region, partition: partitionOf(region) };
  }

  /** Tags as a mapping of key to value; numbers and booleans are taken as their text. */
  private tags(where: string, value: unknown): Array<[string, string]> {
    if (value === undefined || value === null) return [];
    if (!isObject(value)) this.fail(where, `must be a mapping of tag key to value, not ${describe(value)}`);
    return Object.entries(value).map(([key, tagValue]) => {
      if (typeof tagValue === "number" || typeof tagValue === "boolean") return [key, String(tagValue)];
      return [key, this.string(`${where}.${key}`, tagValue)];
    });
  }

  /**
   * The request through the same model validation the wire gets, so a seed is refused where the API would refuse
   * it. The first member AWS's message names points at the seed field, through `fields` (AWS member → seed field).
   */
  private decode(where: string, service: "kms" | "secretsmanager", operation: string, body: Json, fields: Readonly<Record<string, string>>): Json {
    try {
      return decodeInput(service, operation, body);
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      const member = /at '([^']+)'/.exec(error.message)?.[1];
      const field = member === undefined ? undefined : (fields[member] ?? fields[member.split(".")[0] ?? ""]);
      this.fail(field === undefined || field === "" ? where : `${where}.${field}`, awsText(error));
    }
  }

  /** A service's own check of a value (policy, tags, rotation rules), reported at `where`. */
  private service<T>(where: string, check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof AwsError) this.fail(where, awsText(error));
      throw error;
    }
  }

  document(document: unknown, defaultAccount: string): SeedPlan {
    const empty: SeedPlan = { keys: [], aliases: [], secrets: [] };
    if (document === undefined || document === null) return empty;
    const top = this.entry(() => this.fields("(top level)", document, ["account", "region", "kms", "secretsmanager"]));
    if (top === undefined) return empty;
    const defaults = this.entry(() => ({
      account: this.account("account", top.account, defaultAccount),
      region: this.region("region", top.region, DEFAULT_SEED_REGION),
    }));
    if (defaults === undefined) return empty;
    const kms = this.entry(() => (top.kms === undefined || top.kms === null ? {} : this.fields("kms", top.kms, ["keys", "aliases"]))) ?? {};
    const sm = this.entry(() => (top.secretsmanager === undefined || top.secretsmanager === null ? {} : this.fields("secretsmanager", top.secretsmanager, ["secrets"]))) ?? {};

    const keys: SeedKey[] = [];
    const aliases: SeedAlias[] = [];
    const secrets: SeedSecret[] = [];
    const keyEntries = this.entry(() => this.list("kms.keys", kms.keys)) ?? [];
    keyEntries.forEach((raw, index) => {
      const where = `kms.keys[${index}]`;
      this.entry(() => {
        const { key, keyAliases } = this.key(where, raw, defaults);
        keys.push(key);
        keyAliases.forEach((aliasName, aliasIndex) =>
          aliases.push({ source: this.source, path: `${where}.aliases[${aliasIndex}]`, scope: key.scope, aliasName, targetKeyId: key.keyId }),
        );
      });
    });
    const aliasEntries = this.entry(() => this.list("kms.aliases", kms.aliases)) ?? [];
    aliasEntries.forEach((raw, index) => {
      const where = `kms.aliases[${index}]`;
      this.entry(() => aliases.push(this.alias(where, raw, defaults)));
    });
    const secretEntries = this.entry(() => this.list("secretsmanager.secrets", sm.secrets)) ?? [];
    secretEntries.forEach((raw, index) => {
      const where = `secretsmanager.secrets[${index}]`;
      this.entry(() => secrets.push(this.secret(where, raw, defaults)));
    });

    this.unique(keys, (key) => key.keyId, "keyId", "key id");
    this.unique(aliases, (alias) => alias.aliasName, "", "alias");
    this.unique(secrets, (secret) => secret.name, "name", "secret name");
    return { keys, aliases, secrets };
  }

  /** Two entries may not create the same resource in one partition: the second would silently do nothing. */
  private unique<T extends SeedOrigin & { scope: Scope }>(entries: readonly T[], id: (entry: T) => string, field: string, what: string): void {
    const seen = new Map<string, string>();
    for (const entry of entries) {
      const key = `${entry.scope.account}/${entry.scope.region}/${id(entry)}`;
      const first = seen.get(key);
      if (first !== undefined) {
        this.problem(field === "" ? entry.path : `${entry.path}.${field}`, `${what} ${id(entry)} is already seeded by ${first} in ${entry.scope.account} ${entry.scope.region}`);
      } else {
        seen.set(key, entry.path);
      }
    }
  }

  private key(where: string, raw: unknown, defaults: { account: string; region: string }): { key: SeedKey; keyAliases: string[] } {
    const entry = this.fields(where, raw, [
      "keyId", "account", "region", "description", "keySpec", "keyUsage", "origin", "enabled", "policy", "tags", "rotation", "keyMaterial", "aliases",
    ]);
    const scope = this.scope(where, entry, defaults);
    if (entry.keyId === undefined) this.fail(`${where}.keyId`, "is required: a fixed key id, a UUID or mrk- and 32 hex digits");
    const keyId = this.string(`${where}.keyId`, entry.keyId);
    if (!KEY_ID.test(keyId)) {
      this.fail(`${where}.keyId`, `'${keyId}' is not a key id: use a lowercase UUID (1234abcd-12ab-34cd-56ef-1234567890ab) or mrk- and 32 hex digits`);
    }
    const keySpecSent = this.optionalString(`${where}.keySpec`, entry.keySpec);
    const keyUsageSent = this.optionalString(`${where}.keyUsage`, entry.keyUsage);
    const originSent = this.optionalString(`${where}.origin`, entry.origin);
    // The model's enums first, so that what follows looks up only specs and usages that exist.
    const kindMembers: Json = {
      ...(keySpecSent === undefined ? {} : { KeySpec: keySpecSent }),
      ...(keyUsageSent === undefined ? {} : { KeyUsage: keyUsageSent }),
      ...(originSent === undefined ? {} : { Origin: originSent }),
    };
    this.decode(where, "kms", "CreateKey", kindMembers, { keySpec: "keySpec", keyUsage: "keyUsage", origin: "origin" });
    const keySpec = (keySpecSent ?? "SYMMETRIC_DEFAULT") as KmsKeySpec;
    const material =
      entry.keyMaterial === undefined || entry.keyMaterial === null ? undefined : this.material(`${where}.keyMaterial`, entry.keyMaterial, keySpec, keyId);
    // Symmetric material is imported (Origin EXTERNAL, as ImportKeyMaterial does); other specs' fixed material stands
    // in for what KMS would generate, so those keys stay AWS_KMS unless the seed says origin EXTERNAL (then it is
    // imported too; CreateKey refuses EXTERNAL only for ML-DSA).
    const origin = originSent ?? (material !== undefined && keySpec === "SYMMETRIC_DEFAULT" ? "EXTERNAL" : "AWS_KMS");
    // CreateKey's own checks of spec, usage and origin, with its texts.
    let keyUsage: KmsKeyUsage;
    try {
      keyUsage = checkKeyKind({ ...kindMembers, Origin: origin } as Parameters<typeof checkKeyKind>[0], scope.region).keyUsage;
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      // The member CreateKey's text names is the field at fault; a spec it cannot serve otherwise.
      const field = /KeyUsage/.test(error.message) ? "keyUsage" : /Origin/.test(error.message) ? "origin" : "keySpec";
      this.fail(`${where}.${field}`, `key ${keyId}: ${awsText(error)}`);
    }
    if (material !== undefined && keySpec === "SYMMETRIC_DEFAULT" && origin !== "EXTERNAL") {
      this.fail(`${where}.keyMaterial`, "imported key material needs origin EXTERNAL (leave origin out and it is)");
    }
    const enabled = this.boolean(`${where}.enabled`, entry.enabled, true);
    if (!enabled && origin === "EXTERNAL" && material === undefined) {
      this.fail(`${where}.enabled`, "a key awaiting its material (origin EXTERNAL without keyMaterial) is PendingImport and cannot be disabled");
    }
    let policy: string | undefined;
    if (entry.policy !== undefined && entry.policy !== null) {
      policy = isObject(entry.policy) ? JSON.stringify(entry.policy) : this.string(`${where}.policy`, entry.policy);
      const checked = policy;
      this.service(`${where}.policy`, () => assertValidPolicy(checked));
    }
    const tags = this.tags(`${where}.tags`, entry.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    this.service(`${where}.tags`, () => assertValidTags(toKeyTags(tags)));
    const description = this.optionalString(`${where}.description`, entry.description);
    const createKey: Json = {
      ...(description === undefined ? {} : { Description: description }),
      ...(policy === undefined ? {} : { Policy: policy }),
      ...(tags.length === 0 ? {} : { Tags: tags }),
      KeySpec: keySpec,
      KeyUsage: keyUsage,
      Origin: origin,
      MultiRegion: keyId.startsWith("mrk-"),
    };
    this.decode(where, "kms", "CreateKey", createKey, { description: "description", policy: "policy", tags: "tags" });

    let rotationPeriodInDays: number | undefined;
    if (entry.rotation !== undefined && entry.rotation !== null) {
      const rotation = this.fields(`${where}.rotation`, entry.rotation, ["enabled", "rotationPeriodInDays"]);
      if (this.boolean(`${where}.rotation.enabled`, rotation.enabled, true)) {
        if (!KEY_SPECS[keySpec].rotatable) this.fail(`${where}.rotation`, `key ${keyId}: only symmetric encryption keys rotate, not ${keySpec} keys`);
        if (origin === "EXTERNAL") this.fail(`${where}.rotation`, "KMS does not rotate keys with imported material automatically (origin EXTERNAL)");
        const request = { KeyId: keyId, ...(rotation.rotationPeriodInDays === undefined ? {} : { RotationPeriodInDays: rotation.rotationPeriodInDays }) };
        const decoded = this.decode(`${where}.rotation`, "kms", "EnableKeyRotation", request, { rotationPeriodInDays: "rotationPeriodInDays" });
        rotationPeriodInDays = (decoded.RotationPeriodInDays as number | undefined) ?? 365;
      } else if (rotation.rotationPeriodInDays !== undefined) {
        this.fail(`${where}.rotation.rotationPeriodInDays`, "applies only with enabled: true");
      }
    }

    const keyAliases = this.list(`${where}.aliases`, entry.aliases).map((alias, index) => this.aliasName(`${where}.aliases[${index}]`, alias));
    return {
      key: { source: this.source, path: where, scope, keyId, createKey, material, enabled, rotationPeriodInDays },
      keyAliases,
    };
  }

  /**
   * A key's fixed material, by spec: SYMMETRIC_DEFAULT 32 bytes and HMAC_* the spec's key length, as base64 or hex;
   * RSA, EC and Ed25519 a PKCS#8 private key as PEM ("BEGIN PRIVATE KEY") or base64 DER, of the spec's size or
   * curve. ML-DSA takes none. Messages name the key and never quote the material.
   */
  private material(where: string, value: unknown, keySpec: KmsKeySpec, keyId: string): Buffer {
    const row = KEY_SPECS[keySpec];
    if (row.kind !== "asymmetric") {
      const bytes = row.hmac?.keyBytes ?? KEY_MATERIAL_BYTES;
      const what = row.kind === "hmac" ? `${keySpec} key material` : "AES-256 key material";
      return this.rawMaterial(where, value, bytes, `${bytes} bytes of ${what}`);
    }
    if (!PKCS8_SPECS.includes(keySpec)) this.fail(where, `key ${keyId}: ${keySpec} keys take no keyMaterial; leave it out for fresh material`);
    const form = this.fields(where, value, ["pem", "base64"]);
    const pem = this.optionalString(`${where}.pem`, form.pem, true);
    const base64 = this.optionalString(`${where}.base64`, form.base64, true);
    if ((pem === undefined) === (base64 === undefined)) this.fail(where, `key ${keyId}: give the PKCS#8 private key as exactly one of pem or base64 (DER)`);
    let der: Buffer;
    if (pem !== undefined) {
      const body = PKCS8_PEM.exec(pem)?.[1]?.replace(/\s+/g, "");
      if (body === undefined || !BASE64.test(body)) {
        this.fail(`${where}.pem`, `key ${keyId}: must be a PEM PKCS#8 private key (-----BEGIN PRIVATE KEY-----), unencrypted`);
      }
      der = Buffer.from(body, "base64");
    } else {
      const text = (base64 as string).replace(/\s+/g, "");
      if (!BASE64.test(text)) this.fail(`${where}.base64`, "is not valid base64");
      der = Buffer.from(text, "base64");
    }
    try {
      privateKeyOfPkcs8(keySpec as BackingKeySpec, der);
    } catch (error) {
      der.fill(0);
      if (error instanceof KeyStoreUsageError) this.fail(`${where}.${pem === undefined ? "base64" : "pem"}`, `key ${keyId}: ${error.message}`);
      throw error;
    }
    return der;
  }

  /** `bytes` raw bytes as exactly one of base64 or hex. */
  private rawMaterial(where: string, value: unknown, bytes: number, what: string): Buffer {
    const form = this.fields(where, value, ["base64", "hex"]);
    const base64 = this.optionalString(`${where}.base64`, form.base64, true);
    const hex = this.optionalString(`${where}.hex`, form.hex, true);
    if ((base64 === undefined) === (hex === undefined)) this.fail(where, `give the ${what} as exactly one of base64 or hex`);
    if (hex !== undefined) {
      if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 * bytes) this.fail(`${where}.hex`, `must be ${2 * bytes} hex digits (${what}), not ${hex.length} characters`);
      return Buffer.from(hex, "hex");
    }
    const text = (base64 as string).replace(/\s+/g, "");
    if (!BASE64.test(text)) this.fail(`${where}.base64`, "is not valid base64");
    const decoded = Buffer.from(text, "base64");
    if (decoded.length !== bytes) {
      decoded.fill(0);
      this.fail(`${where}.base64`, `must decode to ${what}, not ${decoded.length}`);
    }
    return decoded;
  }

  private aliasName(where: string, value: unknown): string {
    const aliasName = this.string(where, value);
    this.decode(where, "kms", "CreateAlias", { AliasName: aliasName, TargetKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" }, {});
    this.service(where, () => {
      assertNotReserved(aliasName);
      assertNewAliasName(aliasName);
    });
    return aliasName;
  }

  private alias(where: string, raw: unknown, defaults: { account: string; region: string }): SeedAlias {
    const entry = this.fields(where, raw, ["name", "targetKeyId", "account", "region"]);
    const scope = this.scope(where, entry, defaults);
    if (entry.name === undefined) this.fail(`${where}.name`, "is required (alias/…)");
    const aliasName = this.aliasName(`${where}.name`, entry.name);
    if (entry.targetKeyId === undefined) this.fail(`${where}.targetKeyId`, "is required: the id or ARN of a key");
    const targetKeyId = this.string(`${where}.targetKeyId`, entry.targetKeyId);
    this.decode(where, "kms", "CreateAlias", { AliasName: aliasName, TargetKeyId: targetKeyId }, { targetKeyId: "targetKeyId" });
    return { source: this.source, path: where, scope, aliasName, targetKeyId };
  }

  private secretValue(where: string, entry: Json): SeedVersion["value"] | undefined {
    const hasString = entry.secretString !== undefined && entry.secretString !== null;
    const hasBinary = entry.secretBinary !== undefined && entry.secretBinary !== null;
    if (hasString && hasBinary) this.fail(`${where}.secretBinary`, "a version holds secretString or secretBinary, not both");
    if (hasString) {
      const value = entry.secretString;
      // A mapping or list is stored as its JSON text, as clients store structured secrets.
      if (typeof value === "object") return { SecretString: JSON.stringify(value) };
      return { SecretString: this.string(`${where}.secretString`, value, true) };
    }
    if (hasBinary) {
      const text = this.string(`${where}.secretBinary`, entry.secretBinary, true).replace(/\s+/g, "");
      if (!BASE64.test(text)) this.fail(`${where}.secretBinary`, "must be base64");
      return { SecretBinary: text };
    }
    return undefined;
  }

  private secret(where: string, raw: unknown, defaults: { account: string; region: string }): SeedSecret {
    const entry = this.fields(where, raw, [
      "name", "account", "region", "description", "kmsKeyId", "tags", "secretString", "secretBinary", "versions", "rotation",
    ]);
    const scope = this.scope(where, entry, defaults);
    if (entry.name === undefined) this.fail(`${where}.name`, "is required");
    const name = this.string(`${where}.name`, entry.name);
    const description = this.optionalString(`${where}.description`, entry.description);
    const kmsKeyId = this.optionalString(`${where}.kmsKeyId`, entry.kmsKeyId);
    const tags = this.tags(`${where}.tags`, entry.tags).map(([Key, Value]) => ({ Key, Value }));
    this.service(`${where}.tags`, () => {
      checkAddedTags(tags);
      if (tags.length > MAX_TAGS) throw new AwsError("ValidationException", `A secret takes at most ${MAX_TAGS} tags, not ${tags.length}.`);
    });
    const createSecret: Json = {
      Name: name,
      ...(description === undefined ? {} : { Description: description }),
      ...(kmsKeyId === undefined ? {} : { KmsKeyId: kmsKeyId }),
      ...(tags.length === 0 ? {} : { Tags: tags }),
    };
    const memberFields = { name: "name", description: "description", kmsKeyId: "kmsKeyId", tags: "tags" };
    this.decode(where, "secretsmanager", "CreateSecret", createSecret, memberFields);

    const single = this.secretValue(where, entry);
    const versions: SeedVersion[] = [];
    if (entry.versions !== undefined && entry.versions !== null) {
      if (single !== undefined) this.fail(`${where}.versions`, "give the value either as secretString/secretBinary or as versions, not both");
      const list = this.list(`${where}.versions`, entry.versions);
      if (list.length === 0) this.fail(`${where}.versions`, "must list at least one version (or leave it out for a secret without a value)");
      list.forEach((rawVersion, index) => versions.push(this.version(`${where}.versions[${index}]`, rawVersion, scope, name, index)));
    } else if (single !== undefined) {
      versions.push({ versionId: seedVersionId(scope, name, 0), value: single, stages: undefined });
    }
    this.stages(where, versions);
    for (const [index, version] of versions.entries()) {
      const at = entry.versions === undefined ? where : `${where}.versions[${index}]`;
      const request = { ...createSecret, ClientRequestToken: version.versionId, ...version.value };
      this.decode(at, "secretsmanager", "CreateSecret", request, { clientRequestToken: "versionId", secretString: "secretString", secretBinary: "secretBinary" });
    }

    let rotation: SeedSecret["rotation"];
    if (entry.rotation !== undefined && entry.rotation !== null) {
      const at = `${where}.rotation`;
      const config = this.fields(at, entry.rotation, ["lambdaArn", "automaticallyAfterDays", "scheduleExpression", "duration"]);
      if (config.lambdaArn === undefined) this.fail(`${at}.lambdaArn`, "is required: the ARN of the rotation function");
      const lambdaArn = this.string(`${at}.lambdaArn`, config.lambdaArn);
      const rules: Json = {
        ...(config.automaticallyAfterDays === undefined ? {} : { AutomaticallyAfterDays: config.automaticallyAfterDays }),
        ...(config.scheduleExpression === undefined ? {} : { ScheduleExpression: config.scheduleExpression }),
        ...(config.duration === undefined ? {} : { Duration: config.duration }),
      };
      const decoded = this.decode(at, "secretsmanager", "RotateSecret", { SecretId: name, RotationLambdaARN: lambdaArn, RotationRules: rules }, {
        rotationLambdaARN: "lambdaArn",
        "rotationRules.automaticallyAfterDays": "automaticallyAfterDays",
        "rotationRules.scheduleExpression": "scheduleExpression",
        "rotationRules.duration": "duration",
      });
      const decodedRules = (decoded.RotationRules ?? {}) as Json;
      this.service(at, () => checkRotationRules(decodedRules, Date.now()));
      rotation = { lambdaArn, rules };
    }
    return { source: this.source, path: where, scope, name, createSecret, versions, rotation };
  }

  private version(where: string, raw: unknown, scope: Scope, name: string, index: number): SeedVersion {
    const entry = this.fields(where, raw, ["versionId", "secretString", "secretBinary", "stages"]);
    const versionId = this.optionalString(`${where}.versionId`, entry.versionId) ?? seedVersionId(scope, name, index);
    const value = this.secretValue(where, entry);
    if (value === undefined) this.fail(where, "a version needs secretString or secretBinary");
    let stages: string[] | undefined;
    if (entry.stages !== undefined && entry.stages !== null) {
      stages = this.list(`${where}.stages`, entry.stages).map((stage, stageIndex) => {
        const label = this.string(`${where}.stages[${stageIndex}]`, stage);
        this.decode(`${where}.stages[${stageIndex}]`, "secretsmanager", "UpdateSecretVersionStage", { SecretId: name, VersionStage: label }, {});
        return label;
      });
    }
    return { versionId, value, stages };
  }

  /** Labels a seed names are the final state: AWSCURRENT exactly once, no label on two versions, no version twice. */
  private stages(where: string, versions: readonly SeedVersion[]): void {
    const ids = new Map<string, number>();
    versions.forEach((version, index) => {
      const first = ids.get(version.versionId);
      if (first !== undefined) this.fail(`${where}.versions[${index}].versionId`, `${version.versionId} is also versions[${first}]'s`);
      ids.set(version.versionId, index);
    });
    if (!versions.some((version) => version.stages !== undefined)) return;
    const holders = new Map<string, number>();
    versions.forEach((version, index) => {
      for (const stage of version.stages ?? []) {
        const first = holders.get(stage);
        if (first !== undefined) this.fail(`${where}.versions[${index}].stages`, `${stage} is already on versions[${first}]; a label marks one version`);
        holders.set(stage, index);
      }
      if ((version.stages?.length ?? 0) > 20) this.fail(`${where}.versions[${index}].stages`, "a version carries at most 20 labels");
    });
    if (!holders.has(AWSCURRENT)) this.fail(`${where}.versions`, "when versions name their stages, one of them must be AWSCURRENT");
  }
}

/** " at line 3, column 7" where the YAML parser finds the mistake in broken JSON; "" when it finds none. */
function jsonErrorLocation(text: string): string {
  try {
    parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    const where = /at line \d+, column \d+/.exec((error as Error).message);
    if (where !== null) return ` ${where[0]}`;
  }
  return "";
}
