// A KMS key's page: metadata, aliases, rotations, key policy, grants, last usage, and the public key (PEM) of an asymmetric key.
import { snippets, snippetsBlock } from "./actions";
import type {
  DescribeKeyResponse,
  GetKeyLastUsageResponse,
  GetKeyPolicyResponse,
  GetKeyRotationStatusResponse,
  GetPublicKeyResponse,
  GrantListEntry,
  KeyMetadata,
  ListGrantsResponse,
  ListKeyRotationsResponse,
  RotationsListEntry,
} from "@aws-sdk/client-kms";
import { html, type Html } from "../html";
import type { ConsoleView, PageHandler } from "../view";
import { aliasesByKey } from "./keys";
import { attempt, bytesOf, dateCell, prettyJson, sectionError, tagList, UI, when } from "./page-parts";

export const keyPage: PageHandler = async (view, query) => {
  const described = (await view.call("kms", "DescribeKey", { KeyId: query.id ?? "" })) as DescribeKeyResponse;
  const key: KeyMetadata = described.KeyMetadata ?? { KeyId: query.id ?? "" };
  const arn = key.Arn ?? query.id ?? "";
  const keyId = key.KeyId ?? arn;
  // Each part is its own call: one refused (rotation of an asymmetric key, a policy the user may not read) blanks only its section.
  const [aliases, status, rotations, policy, grants, usage, tags, publicKey] = await Promise.all([
    attempt(async () => (await aliasesByKey(view, keyId)).get(keyId) ?? []),
    attempt(() => view.call("kms", "GetKeyRotationStatus", { KeyId: arn }) as Promise<GetKeyRotationStatusResponse>),
    attempt(() => pages<RotationsListEntry>(view, "ListKeyRotations", arn, (answer: ListKeyRotationsResponse) => answer.Rotations)),
    attempt(() => view.call("kms", "GetKeyPolicy", { KeyId: arn, PolicyName: "default" }) as Promise<GetKeyPolicyResponse>),
    attempt(() => pages<GrantListEntry>(view, "ListGrants", arn, (answer: ListGrantsResponse) => answer.Grants)),
    attempt(() => view.call("kms", "GetKeyLastUsage", { KeyId: arn }) as Promise<GetKeyLastUsageResponse>),
    attempt(async () => (await pages<{ TagKey?: string; TagValue?: string }>(view, "ListResourceTags", arn, (answer: { Tags?: { TagKey?: string; TagValue?: string }[] }) => answer.Tags))),
    hasPublicKey(key) ? attempt(() => view.call("kms", "GetPublicKey", { KeyId: arn }) as Promise<GetPublicKeyResponse>) : Promise.resolve(undefined),
  ]);
  return {
    title: `KMS key ${keyId}`,
    body: html`${metadata(view, key)}
      <section class="aliases"><h3>Aliases</h3>${
        !aliases.ok ? sectionError(aliases.error) : aliases.value.length === 0 ? html`<p class="muted">No aliases.</p>` : html`<ul>${aliases.value.map((name) => html`<li class="alias">${name}</li>`)}</ul>`
      }</section>
      <section class="rotation"><h3>Rotation</h3>${status.ok ? rotationStatus(status.value) : sectionError(status.error)}${rotations.ok ? rotationList(rotations.value) : status.ok ? sectionError(rotations.error) : ""}</section>
      <section class="policy"><h3>Key policy</h3>${policy.ok ? html`<pre class="json">${prettyJson(policy.value.Policy ?? "")}</pre>` : sectionError(policy.error)}</section>
      <section class="grants"><h3>Grants</h3>${grants.ok ? grantTable(grants.value) : sectionError(grants.error)}</section>
      <section class="last-usage"><h3>Last usage</h3>${usage.ok ? lastUsage(usage.value) : sectionError(usage.error)}</section>
      <section class="tags"><h3>Tags</h3>${tags.ok ? tagList(tags.value) : sectionError(tags.error)}</section>
      ${publicKey === undefined ? "" : html`<section class="public-key"><h3>Public key</h3>${publicKey.ok ? pem(keyId, publicKey.value) : sectionError(publicKey.error)}</section>`}
      <section class="snippets"><h3>Use it</h3>${snippetsBlock(snippets("key", arn, view.account, view.region))}</section>`,
  };
};

/** Asymmetric keys (RSA, ECC, SM2, ML-DSA…) have a public half; symmetric and HMAC keys do not. */
const hasPublicKey = (key: KeyMetadata): boolean => key.KeySpec !== undefined && key.KeySpec !== "SYMMETRIC_DEFAULT" && !key.KeySpec.startsWith("HMAC_");

/** A list operation's every page (Marker/NextMarker/Truncated as KMS pages everything); ListResourceTags takes at most 50 a call. */
async function pages<T>(view: ConsoleView, operation: string, keyId: string, items: (answer: never) => readonly T[] | undefined): Promise<T[]> {
  const limit = operation === "ListResourceTags" ? 50 : 100;
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const answer = (await view.call("kms", operation, { KeyId: keyId, Limit: limit, ...(marker === undefined ? {} : { Marker: marker }) })) as { Truncated?: boolean; NextMarker?: string };
    all.push(...(items(answer as never) ?? []));
    marker = answer.Truncated === true ? answer.NextMarker : undefined;
  } while (marker !== undefined);
  return all;
}

const list = (values: readonly string[] | undefined): Html | string => (values === undefined || values.length === 0 ? html`<span class="muted">—</span>` : values.join(", "));

function metadata(view: ConsoleView, key: KeyMetadata): Html {
  const row = (label: string, value: Html | string | number | undefined) => (value === undefined ? "" : html`<dt>${label}</dt><dd>${value}</dd>`);
  const multi = key.MultiRegionConfiguration;
  const keyLink = (arn: string | undefined) => (arn === undefined ? "" : html`<a href="${view.href(`${UI}/key`, { id: arn })}">${arn}</a>`);
  return html`<section class="metadata"><h2>${key.KeyId}</h2><dl>
    ${row("ARN", html`<code>${key.Arn}</code>`)}
    ${row("Account", key.AWSAccountId)}
    ${row("Description", key.Description === undefined || key.Description === "" ? undefined : key.Description)}
    ${row("State", html`<span class="state">${key.KeyState}</span>`)}
    ${row("Enabled", key.Enabled === true ? "yes" : "no")}
    ${row("Key spec", key.KeySpec)}
    ${row("Key usage", key.KeyUsage)}
    ${row("Origin", key.Origin)}
    ${row("Key manager", key.KeyManager)}
    ${row("Created", dateCell(key.CreationDate))}
    ${row("Custom key store", key.CustomKeyStoreId)}
    ${row("CloudHSM cluster", key.CloudHsmClusterId)}
    ${row("XKS key", key.XksKeyConfiguration?.Id)}
    ${row("Expiration model", key.ExpirationModel)}
    ${key.ValidTo === undefined ? "" : row("Material valid to", dateCell(key.ValidTo))}
    ${key.DeletionDate === undefined ? "" : row("Deletion date", html`<span class="deleted">${when(key.DeletionDate)}</span>`)}
    ${row("Pending deletion window (days)", key.PendingDeletionWindowInDays)}
    ${row("Current key material", key.CurrentKeyMaterialId)}
    ${key.EncryptionAlgorithms === undefined ? "" : row("Encryption algorithms", list(key.EncryptionAlgorithms))}
    ${key.SigningAlgorithms === undefined ? "" : row("Signing algorithms", list(key.SigningAlgorithms))}
    ${key.MacAlgorithms === undefined ? "" : row("MAC algorithms", list(key.MacAlgorithms))}
    ${key.KeyAgreementAlgorithms === undefined ? "" : row("Key agreement algorithms", list(key.KeyAgreementAlgorithms))}
    ${row("Multi-Region", key.MultiRegion === true ? (multi?.MultiRegionKeyType ?? "yes") : "no")}
    ${multi?.PrimaryKey === undefined ? "" : row("Primary key", html`${keyLink(multi.PrimaryKey.Arn)} (${multi.PrimaryKey.Region})`)}
    ${(multi?.ReplicaKeys ?? []).length === 0 ? "" : row("Replica keys", html`${(multi?.ReplicaKeys ?? []).map((replica) => html`<div>${keyLink(replica.Arn)} (${replica.Region})</div>`)}`)}
  </dl></section>`;
}

function rotationStatus(status: GetKeyRotationStatusResponse): Html {
  return html`<dl>
    <dt>Automatic rotation</dt><dd class="rotation-enabled">${status.KeyRotationEnabled === true ? "enabled" : "disabled"}</dd>
    ${status.RotationPeriodInDays === undefined ? "" : html`<dt>Period</dt><dd>${status.RotationPeriodInDays} days</dd>`}
    ${status.NextRotationDate === undefined ? "" : html`<dt>Next rotation</dt><dd>${dateCell(status.NextRotationDate)}</dd>`}
    ${status.OnDemandRotationStartDate === undefined ? "" : html`<dt>On-demand rotation started</dt><dd>${dateCell(status.OnDemandRotationStartDate)}</dd>`}
  </dl>`;
}

function rotationList(rotations: readonly RotationsListEntry[]): Html {
  if (rotations.length === 0) return html`<p class="muted">No rotations yet.</p>`;
  return html`<table class="rotations"><thead><tr><th>Date</th><th>Type</th><th>Key material</th></tr></thead><tbody>${rotations.map(
    (rotation) => html`<tr><td>${dateCell(rotation.RotationDate)}</td><td>${rotation.RotationType}</td><td><code>${rotation.KeyMaterialId}</code></td></tr>`,
  )}</tbody></table>`;
}

function grantTable(grants: readonly GrantListEntry[]): Html {
  if (grants.length === 0) return html`<p class="muted">No grants.</p>`;
  return html`<table class="grants"><thead><tr><th>Grant id</th><th>Name</th><th>Grantee</th><th>Retiring principal</th><th>Operations</th><th>Constraints</th><th>Created</th></tr></thead><tbody>${grants.map(
    (grant) => html`<tr><td><code class="grant-id">${grant.GrantId}</code></td><td>${grant.Name}</td><td>${grant.GranteePrincipal}</td><td>${grant.RetiringPrincipal}</td>
      <td>${list(grant.Operations)}</td><td>${grant.Constraints === undefined ? "" : html`<code>${JSON.stringify(grant.Constraints)}</code>`}</td><td>${dateCell(grant.CreationDate)}</td></tr>`,
  )}</tbody></table>`;
}

function lastUsage(usage: GetKeyLastUsageResponse): Html {
  const last = usage.KeyLastUsage;
  return html`<dl>
    <dt>Last used</dt><dd>${last?.Timestamp === undefined ? html`<span class="muted">not used since tracking started</span>` : html`${dateCell(last.Timestamp)} by <code>${last.Operation}</code>`}</dd>
    ${last?.KmsRequestId === undefined ? "" : html`<dt>Request id</dt><dd><code>${last.KmsRequestId}</code></dd>`}
    ${last?.CloudTrailEventId === undefined ? "" : html`<dt>Audit event id</dt><dd><code>${last.CloudTrailEventId}</code></dd>`}
    <dt>Tracking since</dt><dd>${dateCell(usage.TrackingStartDate)}</dd>
  </dl>`;
}

/** GetPublicKey's DER SubjectPublicKeyInfo as PEM text, 64 base64 characters a line (RFC 7468). */
export function publicKeyPem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString("base64");
  return `-----BEGIN PUBLIC KEY-----\n${(base64.match(/.{1,64}/g) ?? []).join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** The PEM on the page and as a download: a data: link is a navigation, which the console's CSP does not restrict. */
function pem(keyId: string, answer: GetPublicKeyResponse): Html {
  const text = publicKeyPem(bytesOf(answer.PublicKey));
  return html`<p>${answer.KeySpec} · ${answer.KeyUsage}</p>
    <pre class="pem">${text}</pre>
    <a class="download" download="${keyId}.pem" href="data:application/x-pem-file;base64,${Buffer.from(text).toString("base64")}">Download PEM</a>`;
}
