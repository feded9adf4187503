// The Secrets list: ListSecrets with its filters, sort and NextToken pages, as the console's user sees it.
import type { Filter, FilterNameStringType, ListSecretsResponse, SecretListEntry } from "@aws-sdk/client-secrets-manager";
import { html, type Html } from "../html";
import type { ConsolePage, ConsoleView, PageHandler } from "../view";
import { dateCell, hiddenScope, pageSize, tagList, UI } from "./page-parts";

/** ListSecrets' filter keys, each a query field of the same name (the API's own names, so a link reads like the call). */
export const SECRET_FILTER_KEYS = ["name", "description", "tag-key", "tag-value", "primary-region", "owning-service", "all"] as const satisfies readonly FilterNameStringType[];
const SORT_BY = ["created-date", "last-accessed-date", "last-changed-date", "name"] as const;

/** One value per filter key, passed as typed: the API matches it (a prefix; a leading "!" negates) and validates it. */
function filtersOf(query: Readonly<Record<string, string>>): Filter[] {
  const filters: Filter[] = [];
  for (const key of SECRET_FILTER_KEYS) {
    const value = query[key];
    if (value !== undefined && value !== "") filters.push({ Key: key, Values: [value] });
  }
  return filters;
}

/** The query that reproduces this listing (filters, sort, size), to which a page link adds its token. */
function listingQuery(query: Readonly<Record<string, string>>): Record<string, string | undefined> {
  const kept: Record<string, string | undefined> = {};
  for (const name of [...SECRET_FILTER_KEYS, "sort", "sort-by", "deleted", "max"]) if (query[name]) kept[name] = query[name];
  return kept;
}

export const secretsPage: PageHandler = async (view, query) => {
  const sortOrder = query.sort === "asc" ? "asc" : query.sort === "desc" ? "desc" : undefined;
  const sortBy = SORT_BY.find((value) => value === query["sort-by"]);
  const includeDeleted = query.deleted === "true";
  const max = pageSize(query.max);
  const answer = (await view.call("secretsmanager", "ListSecrets", {
    Filters: filtersOf(query),
    ...(sortOrder === undefined ? {} : { SortOrder: sortOrder }),
    ...(sortBy === undefined ? {} : { SortBy: sortBy }),
    IncludePlannedDeletion: includeDeleted,
    MaxResults: max,
    ...(query.next ? { NextToken: query.next } : {}),
  })) as ListSecretsResponse;
  const secrets = answer.SecretList ?? [];
  const path = `${UI}/secrets`;
  const first = query.next ? html`<a href="${view.href(path, listingQuery(query))}" rel="first">First page</a>` : undefined;
  const next =
    answer.NextToken === undefined ? undefined : html`<a href="${view.href(path, { ...listingQuery(query), next: answer.NextToken })}" rel="next">Next page</a>`;
  return page(
    html`${filterForm(view, query, path)}
      <p class="count">${secrets.length} secret${secrets.length === 1 ? "" : "s"} on this page${answer.NextToken === undefined ? "" : " (more on the next)"}.</p>
      ${secrets.length === 0 ? html`<p class="empty">No secrets match.</p>` : secretTable(view, secrets)}
      <nav class="pages">${first} ${next}</nav>`,
  );
};

const page = (body: Html): ConsolePage => ({ title: "Secrets", body });

function filterForm(view: ConsoleView, query: Readonly<Record<string, string>>, path: string): Html {
  const field = (name: string, label: string) =>
    html`<label>${label} <input type="search" name="${name}" value="${query[name] ?? ""}"></label>`;
  const option = (name: string, value: string, label: string) =>
    html`<option value="${value}"${(query[name] ?? "") === value ? html` selected` : ""}>${label}</option>`;
  return html`<form class="filters" method="get" action="${view.href(path).split("?")[0]}">
    ${hiddenScope(view, path)}
    ${field("name", "Name")} ${field("description", "Description")} ${field("tag-key", "Tag key")} ${field("tag-value", "Tag value")}
    ${field("primary-region", "Primary region")} ${field("owning-service", "Owning service")} ${field("all", "Any field")}
    <label>Sort by <select name="sort-by">${option("sort-by", "", "(default)")}${SORT_BY.map((value) => option("sort-by", value, value))}</select></label>
    <label>Order <select name="sort">${option("sort", "", "(default)")}${option("sort", "asc", "ascending")}${option("sort", "desc", "descending")}</select></label>
    <label><input type="checkbox" name="deleted" value="true"${query.deleted === "true" ? html` checked` : ""}> Include planned deletion</label>
    <label>Per page <input type="number" name="max" min="1" max="100" value="${String(pageSize(query.max))}"></label>
    <button type="submit">List</button>
  </form>`;
}

function secretTable(view: ConsoleView, secrets: readonly SecretListEntry[]): Html {
  return html`<table class="secrets">
    <thead><tr><th>Name</th><th>Description</th><th>Last changed</th><th>Last accessed</th><th>Rotation</th><th>Next rotation</th><th>KMS key</th><th>Tags</th></tr></thead>
    <tbody>${secrets.map(
      (secret) => html`<tr${secret.DeletedDate === undefined ? "" : html` class="deleted"`}>
        <td><a href="${view.href(`${UI}/secret`, { id: secret.ARN })}">${secret.Name}</a>${secret.DeletedDate === undefined ? "" : html` <span class="badge">deleted</span>`}</td>
        <td>${secret.Description}</td>
        <td>${dateCell(secret.LastChangedDate)}</td>
        <td>${dateCell(secret.LastAccessedDate)}</td>
        <td>${secret.RotationEnabled === true ? "on" : "off"}</td>
        <td>${dateCell(secret.NextRotationDate)}</td>
        <td>${secret.KmsKeyId === undefined ? html`<span class="muted">aws/secretsmanager</span>` : html`<a href="${view.href(`${UI}/key`, { id: secret.KmsKeyId })}">${secret.KmsKeyId}</a>`}</td>
        <td>${tagList(secret.Tags)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}
