// The KMS keys list: ListKeys pages (Marker/Limit), DescribeKey for each key on the page, aliases from ListAliases.
import type { AliasListEntry, DescribeKeyResponse, KeyMetadata, ListAliasesResponse, ListKeysResponse } from "@aws-sdk/client-kms";
import { html, type Html } from "../html";
import type { ConsoleView, PageHandler } from "../view";
import { attempt, pageSize, sectionError, UI } from "./page-parts";

/** Every alias of the account and region, by target key id (ListAliases' own pages, 100 a call). */
export async function aliasesByKey(view: ConsoleView, keyId?: string): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  let marker: string | undefined;
  do {
    const answer = (await view.call("kms", "ListAliases", {
      Limit: 100,
      ...(keyId === undefined ? {} : { KeyId: keyId }),
      ...(marker === undefined ? {} : { Marker: marker }),
    })) as ListAliasesResponse;
    for (const alias of answer.Aliases ?? []) addAlias(byKey, alias);
    marker = answer.Truncated === true ? answer.NextMarker : undefined;
  } while (marker !== undefined);
  return byKey;
}

function addAlias(byKey: Map<string, string[]>, alias: AliasListEntry): void {
  if (alias.TargetKeyId === undefined || alias.AliasName === undefined) return;
  const names = byKey.get(alias.TargetKeyId) ?? [];
  names.push(alias.AliasName);
  byKey.set(alias.TargetKeyId, names);
}

export const keysPage: PageHandler = async (view, query) => {
  const limit = pageSize(query.max);
  const listed = (await view.call("kms", "ListKeys", { Limit: limit, ...(query.next ? { Marker: query.next } : {}) })) as ListKeysResponse;
  const keys = listed.Keys ?? [];
  // One DescribeKey per key on the page: a key the user may list but not describe (--enforce-auth) shows its error in its row.
  const [described, aliases] = await Promise.all([
    Promise.all(keys.map((key) => attempt(async () => ((await view.call("kms", "DescribeKey", { KeyId: key.KeyArn ?? key.KeyId })) as DescribeKeyResponse).KeyMetadata))),
    attempt(() => aliasesByKey(view)),
  ]);
  const path = `${UI}/keys`;
  const kept = query.max ? { max: query.max } : {};
  const next = listed.Truncated === true && listed.NextMarker !== undefined ? html`<a href="${view.href(path, { ...kept, next: listed.NextMarker })}" rel="next">Next page</a>` : undefined;
  const first = query.next ? html`<a href="${view.href(path, kept)}" rel="first">First page</a>` : undefined;
  return {
    title: "KMS keys",
    body: html`${aliases.ok ? "" : sectionError(aliases.error)}
      <p class="count">${keys.length} key${keys.length === 1 ? "" : "s"} on this page${next === undefined ? "" : " (more on the next)"}.</p>
      ${
        keys.length === 0
          ? html`<p class="empty">No keys.</p>`
          : html`<table class="keys">
        <thead><tr><th>Key id</th><th>Aliases</th><th>Spec</th><th>Usage</th><th>State</th><th>Origin</th><th>Custom key store</th><th>Description</th><th>Multi-Region</th></tr></thead>
        <tbody>${keys.map((key, index) => {
          const link = html`<a href="${view.href(`${UI}/key`, { id: key.KeyArn ?? key.KeyId })}">${key.KeyId}</a>`;
          const names = aliases.ok ? (aliases.value.get(key.KeyId ?? "") ?? []) : [];
          const aliasCell = html`<td>${names.map((name) => html`<span class="alias">${name}</span> `)}</td>`;
          const result = described[index];
          if (result === undefined || !result.ok) return html`<tr class="error"><td>${link}</td>${aliasCell}<td colspan="7">${result === undefined ? "" : sectionError(result.error)}</td></tr>`;
          return keyRow(link, aliasCell, result.value);
        })}</tbody>
      </table>`
      }
      <nav class="pages">${first} ${next}</nav>`,
  };
};

function keyRow(link: Html, aliasCell: Html, metadata: KeyMetadata | undefined): Html {
  return html`<tr class="state-${(metadata?.KeyState ?? "").toLowerCase()}">
    <td>${link}</td>${aliasCell}
    <td>${metadata?.KeySpec}</td><td>${metadata?.KeyUsage}</td><td class="state">${metadata?.KeyState}</td><td>${metadata?.Origin}</td>
    <td>${metadata?.CustomKeyStoreId ?? html`<span class="muted">—</span>`}</td><td>${metadata?.Description}</td>
    <td>${metadata?.MultiRegion === true ? (metadata.MultiRegionConfiguration?.MultiRegionKeyType ?? "yes") : "no"}</td>
  </tr>`;
}
