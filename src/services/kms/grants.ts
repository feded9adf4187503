// Grants of KMS keys: their records, their tokens, and the lookups CreateGrant, the list operations and the token check make.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { GrantConstraints, GrantListEntry, ListGrantsResponse } from "@aws-sdk/client-kms";
import { kindRange, lockName, recordKey, type Partition } from "../../storage/keys";
import type { Store, StoredValue } from "../../storage/store";
import type { Scope } from "../scope";
import { dryRunSucceeded, grantLimit, invalidGrantToken, keyNotFound } from "./errors";
import type { KmsGrantOperation } from "./grant-operations";
import { deletionDue } from "./key-destruction";
import type { KmsKeyRecord } from "./key-record";
import { after, encodeMarker } from "./pagination";

export interface KmsGrantRecord extends StoredValue {
  readonly v: 1;
  /** 64 lowercase hex characters, the form of every grant id in the API reference ("Grant ID Example", RetireGrant). */
  readonly grantId: string;
  readonly keyId: string;
  readonly keyArn: string;
  readonly name?: string | undefined;
  readonly createdAt: number;
  readonly granteePrincipal: string;
  readonly retiringPrincipal?: string | undefined;
  /** The account the grant was created in: the caller's (another account's principal may create grants on a key it may use). */
  readonly issuingAccount: string;
  readonly operations: readonly KmsGrantOperation[];
  readonly constraints?: GrantConstraints | undefined;
  /** The grant's own token MAC key, base64: 32 bytes from the token's generator. It never leaves the store. */
  readonly tokenKey: string;
}

/** What CreateGrant asks for; two requests with the same Name and these fields are the same grant. */
export interface NewGrant {
  readonly granteePrincipal: string;
  readonly retiringPrincipal?: string | undefined;
  readonly operations: readonly KmsGrantOperation[];
  readonly constraints?: GrantConstraints | undefined;
  readonly name?: string | undefined;
}

export const GRANT_ID = /^[0-9a-f]{64}$/;

/**
 * AWS's quotas page (Resource quotas): "Grants for a KMS key: 50,000" and "Grants for a given principal per KMS key:
 * 500". Both are counted under the key's lock when a grant is made.
 */
const GRANTS_PER_KEY = 50_000;
const GRANTS_PER_GRANTEE_PER_KEY = 500;

const grantRecordKey = (scope: Partition, keyId: string, grantId: string): string => recordKey(scope, "kms", "kms-grant", `${keyId}/${grantId}`);

/** Every grant of one key: destruction deletes this range with the key (key-destruction.ts). */
export const keyGrantsRange = (scope: Partition, keyId: string): { gte: string; lt: string } => kindRange(scope, "kms", "kms-grant", `${keyId}/`);

/**
 * Grant tokens. AWS's are opaque base64url ("AQpA…" in the API reference's CreateGrant example) and only KMS can tell a
 * good one from a bad one; these are too:
 *
 *   0x01 ‖ grant id (32 bytes) ‖ nonce (16) ‖ account ‖ region ‖ key id (each one length byte + ASCII) ‖ HMAC-SHA256
 *
 * The MAC is under the grant's own tokenKey, so a token cannot be forged or altered without the store, every token of a
 * grant verifies (Name retries hand out new ones: "the returned grant token is unique with every CreateGrant request …
 * All grant tokens for the same grant ID can be used interchangeably"), and a token dies with its grant: retired,
 * revoked, destroyed with its key, or wiped by reset.
 */
const TOKEN_VERSION = 1;
const NONCE_BYTES = 16;
const TAG_BYTES = 32;

const tokenTag = (tokenKey: string, body: Buffer): Buffer => createHmac("sha256", Buffer.from(tokenKey, "base64")).update(body).digest();

const field = (text: string): Buffer => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, "latin1")]);

interface ParsedToken {
  readonly grantId: string;
  readonly account: string;
  readonly region: string;
  readonly keyId: string;
  readonly body: Buffer;
  readonly tag: Buffer;
}

function parseToken(token: string): ParsedToken | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, "base64url");
  // Only the one spelling this server hands out: base64 has others for the same bytes (unused low bits of the last character).
  if (bytes.toString("base64url") !== token) return undefined;
  if (bytes.length < 1 + 32 + NONCE_BYTES + 3 + TAG_BYTES || bytes[0] !== TOKEN_VERSION) return undefined;
  let at = 1 + 32 + NONCE_BYTES;
  const fields: string[] = [];
  for (let i = 0; i < 3; i++) {
    const length = bytes[at] ?? 0;
    if (at + 1 + length > bytes.length - TAG_BYTES) return undefined;
    fields.push(bytes.subarray(at + 1, at + 1 + length).toString("latin1"));
    at += 1 + length;
  }
  if (at !== bytes.length - TAG_BYTES) return undefined;
  const [account = "", region = "", keyId = ""] = fields;
  return { grantId: bytes.subarray(1, 33).toString("hex"), account, region, keyId, body: bytes.subarray(0, at), tag: bytes.subarray(at) };
}

const sameGrant = (grant: KmsGrantRecord, wanted: NewGrant): boolean =>
  grant.name === wanted.name &&
  grant.granteePrincipal === wanted.granteePrincipal &&
  grant.retiringPrincipal === wanted.retiringPrincipal &&
  sameSet(grant.operations, wanted.operations) &&
  canonicalConstraints(grant.constraints) === canonicalConstraints(wanted.constraints);

const sameSet = (a: readonly string[], b: readonly string[]): boolean => new Set(a).size === new Set(b).size && b.every((item) => a.includes(item));

const canonicalConstraints = (constraints: GrantConstraints | undefined): string =>
  JSON.stringify([constraints?.EncryptionContextEquals, constraints?.EncryptionContextSubset].map((context) => Object.entries(context ?? {}).sort()));

/** A grant as ListGrants and ListRetirableGrants show it (the API reference's examples: IssuingAccount an account root ARN). */
export const grantListEntry = (grant: KmsGrantRecord, partition: string): GrantListEntry => ({
  KeyId: grant.keyArn,
  GrantId: grant.grantId,
  ...(grant.name === undefined ? {} : { Name: grant.name }),
  CreationDate: new Date(grant.createdAt),
  GranteePrincipal: grant.granteePrincipal,
  ...(grant.retiringPrincipal === undefined ? {} : { RetiringPrincipal: grant.retiringPrincipal }),
  IssuingAccount: `arn:${partition}:iam::${grant.issuingAccount}:root`,
  Operations: [...grant.operations],
  ...(grant.constraints === undefined ? {} : { Constraints: grant.constraints }),
});

export interface GrantPage {
  readonly grants: readonly KmsGrantRecord[];
  /** Whether more grants follow the last one. */
  readonly truncated: boolean;
}

/** ListGrants' and ListRetirableGrants' answer: a page, and when more follow, the marker `resumeAfter` makes of its last grant. */
export function grantListResponse(page: GrantPage, partition: string, resumeAfter: (last: KmsGrantRecord) => string): ListGrantsResponse {
  const Grants = page.grants.map((grant) => grantListEntry(grant, partition));
  const last = page.grants[page.grants.length - 1];
  return page.truncated && last !== undefined ? { Grants, NextMarker: encodeMarker(resumeAfter(last)), Truncated: true } : { Grants, Truncated: false };
}

/**
 * Grants are stored and validated here; with --enforce-auth access.ts decides with them: the grants of a key whose
 * GranteePrincipal is the caller allow their operations (under their constraints), and RetireGrant is allowed to the
 * retiring principal, to the grantee when the grant includes RetireGrant, and to the issuing account
 * (../shared/notes/kms-and-access-facts.md part 2 item 9). Grants live in their key's scope, whoever issued them.
 */
export class KmsGrants {
  constructor(
    private readonly store: Store,
    private readonly random: (byteCount: number) => Buffer,
  ) {}

  /**
   * A new grant on `key`, or with a Name the grant already made by the same request, and a new token for it. Runs under
   * the key's lock, so it cannot add a grant to a key being destroyed; `check` sees the key as it is under the lock.
   */
  async create(
    scope: Scope,
    key: KmsKeyRecord,
    wanted: NewGrant,
    now: Date,
    check: (key: KmsKeyRecord) => void,
    dryRun: boolean,
    issuingAccount: string = scope.account,
  ): Promise<{ grantId: string; grantToken: string }> {
    const keyRecordKey = recordKey(scope, "kms", "kms-key", key.keyId);
    return this.store.withLock(lockName(scope, "kms", "kms-key", key.keyId), async () => {
      const current = await this.store.get<KmsKeyRecord>(keyRecordKey);
      if (current === undefined || deletionDue(current, now.getTime())) throw keyNotFound(key.arn);
      check(current);
      let total = 0;
      let forGrantee = 0;
      for await (const [, grant] of this.store.range<KmsGrantRecord>(keyGrantsRange(scope, key.keyId))) {
        // "When this value is present, you can retry a CreateGrant request with identical parameters; if the grant
        // already exists, the original GrantId is returned" (CreateGrantRequest.Name).
        if (wanted.name !== undefined && sameGrant(grant, wanted)) {
          if (dryRun) throw dryRunSucceeded();
          return { grantId: grant.grantId, grantToken: this.token(scope, grant) };
        }
        total++;
        if (grant.granteePrincipal === wanted.granteePrincipal) forGrantee++;
      }
      if (total >= GRANTS_PER_KEY) throw grantLimit(`The KMS key ${key.arn} already has ${GRANTS_PER_KEY} grants, its quota.`);
      if (forGrantee >= GRANTS_PER_GRANTEE_PER_KEY) {
        throw grantLimit(`The KMS key ${key.arn} already has ${GRANTS_PER_GRANTEE_PER_KEY} grants for ${wanted.granteePrincipal}, the quota per grantee principal.`);
      }
      if (dryRun) throw dryRunSucceeded();
      const grant: KmsGrantRecord = {
        v: 1,
        grantId: this.random(32).toString("hex"),
        keyId: key.keyId,
        keyArn: key.arn,
        name: wanted.name,
        createdAt: now.getTime(),
        granteePrincipal: wanted.granteePrincipal,
        retiringPrincipal: wanted.retiringPrincipal,
        issuingAccount,
        operations: [...wanted.operations],
        constraints: wanted.constraints,
        tokenKey: this.random(32).toString("base64"),
      };
      await this.store.batch([{ type: "put", key: grantRecordKey(scope, key.keyId, grant.grantId), value: grant }]);
      return { grantId: grant.grantId, grantToken: this.token(scope, grant) };
    });
  }

  find(scope: Partition, keyId: string, grantId: string): Promise<KmsGrantRecord | undefined> {
    return this.store.get<KmsGrantRecord>(grantRecordKey(scope, keyId, grantId));
  }

  /**
   * The grant a token names, in the request's region (a grant lives in its key's region; the account is the key's,
   * which may one day be another's). InvalidGrantTokenException for anything else: malformed, forged, altered, or the
   * token of a grant that is gone. AWS's answer for a retired or revoked grant's token is not documented; with grants
   * "eventually consistent" it may accept one for a while, but a token that outlives its grant would let a test pass
   * that fails later, so here it is refused at once.
   */
  async fromToken(scope: Scope, token: string, now: Date): Promise<KmsGrantRecord> {
    const parsed = parseToken(token);
    if (parsed === undefined || parsed.region !== scope.region) throw invalidGrantToken();
    const grantScope = { account: parsed.account, region: parsed.region };
    const grant = await this.find(grantScope, parsed.keyId, parsed.grantId);
    if (grant === undefined || !timingSafeEqual(tokenTag(grant.tokenKey, parsed.body), parsed.tag)) throw invalidGrantToken();
    // A key past its deletion date is gone with its grants, even before the sweep has destroyed it.
    const key = await this.store.get<KmsKeyRecord>(recordKey(grantScope, "kms", "kms-key", grant.keyId));
    if (key === undefined || deletionDue(key, now.getTime())) throw invalidGrantToken();
    return grant;
  }

  /**
   * The GrantTokens check of every operation that takes them (index.ts runs it before the operation): each must be a
   * token of an existing grant. At most 10 of 1–8,192 characters is the model's GrantTokenList, checked before this.
   * Which grant a token names does not matter yet: it will when grants allow operations (see the class comment).
   */
  async assertTokens(scope: Scope, tokens: readonly string[], now: Date): Promise<void> {
    for (const token of tokens) await this.fromToken(scope, token, now);
  }

  /**
   * The first grant of one key that `matches`, or undefined: what access control asks when the policies alone do not
   * allow a request (access.ts). A scan of the key's grants, which are few in practice (AWS's quota is 50,000).
   */
  async findOnKey(scope: Partition, keyId: string, matches: (grant: KmsGrantRecord) => boolean): Promise<KmsGrantRecord | undefined> {
    for await (const [, grant] of this.store.range<KmsGrantRecord>(keyGrantsRange(scope, keyId))) if (matches(grant)) return grant;
    return undefined;
  }

  async remove(scope: Partition, grant: KmsGrantRecord): Promise<void> {
    await this.store.batch([{ type: "del", key: grantRecordKey(scope, grant.keyId, grant.grantId) }]);
  }

  /** One key's grants in grant id order (the order of the API reference's ListGrants example), after `afterGrantId`. */
  keyPage(scope: Partition, keyId: string, options: { afterGrantId?: string; limit: number; matches: (grant: KmsGrantRecord) => boolean }): Promise<GrantPage> {
    const range = keyGrantsRange(scope, keyId);
    const gte = options.afterGrantId === undefined ? range.gte : after(grantRecordKey(scope, keyId, options.afterGrantId));
    return this.page({ gte, lt: range.lt }, options.limit, options.matches);
  }

  /**
   * The scope's grants whose RetiringPrincipal is `principal`, in key id then grant id order, after the storage id
   * `afterId`. A scan of the scope's grants: a retiring-principal index would have to follow every grant change, and
   * ListRetirableGrants is rare.
   */
  retirablePage(scope: Partition, principal: string, options: { afterId?: string; limit: number }): Promise<GrantPage> {
    const range = kindRange(scope, "kms", "kms-grant");
    const gte = options.afterId === undefined ? range.gte : after(recordKey(scope, "kms", "kms-grant", options.afterId));
    return this.page({ gte, lt: range.lt }, options.limit, (grant) => grant.retiringPrincipal === principal);
  }

  private async page(range: { gte: string; lt: string }, limit: number, matches: (grant: KmsGrantRecord) => boolean): Promise<GrantPage> {
    const grants: KmsGrantRecord[] = [];
    for await (const [, grant] of this.store.range<KmsGrantRecord>(range)) {
      if (!matches(grant)) continue;
      if (grants.length === limit) return { grants, truncated: true };
      grants.push(grant);
    }
    return { grants, truncated: false };
  }

  private token(scope: Partition, grant: KmsGrantRecord): string {
    const body = Buffer.concat([
      Buffer.from([TOKEN_VERSION]),
      Buffer.from(grant.grantId, "hex"),
      this.random(NONCE_BYTES),
      field(scope.account),
      field(scope.region),
      field(grant.keyId),
    ]);
    return Buffer.concat([body, tokenTag(grant.tokenKey, body)]).toString("base64url");
  }
}
