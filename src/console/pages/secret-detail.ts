// A secret's page (versions as a timeline with their labels, rotation, replication, tags, policy, key) and its Reveal action.
import { snippets, snippetsBlock } from "./actions";
import type {
  DescribeSecretResponse,
  GetResourcePolicyResponse,
  GetSecretValueResponse,
  ListSecretVersionIdsResponse,
  SecretVersionsListEntry,
} from "@aws-sdk/client-secrets-manager";
import type { RotationAttempt } from "../../services/secretsmanager/rotation-attempts";
import { html, type Html } from "../html";
import type { ActionHandler, ConsoleView, PageHandler } from "../view";
import { attempt, bytesOf, dateCell, prettyJson, sectionError, tagList, UI, when } from "./page-parts";

/** The labels Secrets Manager itself moves; any other label is the caller's own. */
const AWS_LABELS = new Set(["AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"]);

export const secretPage: PageHandler = async (view, query) => {
  const id = query.id ?? "";
  const secret = (await view.call("secretsmanager", "DescribeSecret", { SecretId: id })) as DescribeSecretResponse;
  const arn = secret.ARN ?? id;
  // Versions and the policy are separate calls that may fail on their own (a secret scheduled for deletion has no
  // policy to read; --enforce-auth may allow DescribeSecret only): the rest of the page still answers.
  const [versions, policy, attempts] = await Promise.all([
    attempt(() => allVersions(view, arn)),
    attempt(() => view.call("secretsmanager", "GetResourcePolicy", { SecretId: arn }) as Promise<GetResourcePolicyResponse>),
    // Asked only now that DescribeSecret answered as this user: the attempts belong to a secret they may see.
    attempt(async () => (view.rotationAttempts === undefined || secret.Name === undefined ? [] : view.rotationAttempts(secret.Name, arn))),
  ]);
  return {
    title: `Secret ${secret.Name ?? id}`,
    body: html`<section class="summary">
        <h2>${secret.Name}</h2>
        ${snippetsBlock(snippets("secret", arn, view.account, view.region))}
        <dl>
          <dt>ARN</dt><dd><code>${arn}</code></dd>
          <dt>Description</dt><dd>${secret.Description ?? html`<span class="muted">—</span>`}</dd>
          <dt>KMS key</dt><dd>${kmsKey(view, secret.KmsKeyId)}</dd>
          <dt>Created</dt><dd>${dateCell(secret.CreatedDate)}</dd>
          <dt>Last changed</dt><dd>${dateCell(secret.LastChangedDate)}</dd>
          <dt>Last accessed</dt><dd>${dateCell(secret.LastAccessedDate)}</dd>
          ${secret.OwningService === undefined ? "" : html`<dt>Owning service</dt><dd>${secret.OwningService}</dd>`}
          ${secret.PrimaryRegion === undefined ? "" : html`<dt>Primary region</dt><dd>${secret.PrimaryRegion}</dd>`}
          ${
            secret.DeletedDate === undefined
              ? ""
              : // DescribeSecret gives when DeleteSecret was called, not the end of the recovery window (only DeleteSecret's answer has that).
                html`<dt>Deletion</dt><dd class="deleted">Scheduled for deletion since <time>${when(secret.DeletedDate)}</time>: RestoreSecret cancels it before the recovery window ends.</dd>`
          }
        </dl>
      </section>
      ${revealForm(view, arn, undefined, "Reveal current value")}
      <section class="versions"><h3>Versions</h3>${versions.ok ? timeline(view, arn, versions.value) : sectionError(versions.error)}</section>
      ${rotation(secret, versions.ok ? versions.value : [], attempts.ok ? attempts.value : attempts)}
      ${replication(view, secret)}
      <section class="tags"><h3>Tags</h3>${tagList(secret.Tags)}</section>
      <section class="policy"><h3>Resource policy</h3>${
        !policy.ok
          ? sectionError(policy.error)
          : policy.value.ResourcePolicy === undefined
            ? html`<p class="muted">No resource policy.</p>`
            : html`<pre class="json">${prettyJson(policy.value.ResourcePolicy)}</pre>`
      }</section>`,
  };
};

/** Every version, deprecated ones too, through the API's pages (at most 100 a call). */
async function allVersions(view: ConsoleView, arn: string): Promise<SecretVersionsListEntry[]> {
  const versions: SecretVersionsListEntry[] = [];
  let token: string | undefined;
  do {
    const answer = (await view.call("secretsmanager", "ListSecretVersionIds", {
      SecretId: arn,
      IncludeDeprecated: true,
      MaxResults: 100,
      ...(token === undefined ? {} : { NextToken: token }),
    })) as ListSecretVersionIdsResponse;
    versions.push(...(answer.Versions ?? []));
    token = answer.NextToken;
  } while (token !== undefined);
  return versions;
}

/** A date as view.call answers it (the wire's epoch seconds), or as a Date: milliseconds for ordering. */
const time = (value: unknown): number => (value instanceof Date ? value.getTime() : typeof value === "number" ? value * 1000 : 0);

function timeline(view: ConsoleView, arn: string, versions: readonly SecretVersionsListEntry[]): Html {
  if (versions.length === 0) return html`<p class="muted">No versions.</p>`;
  const newestFirst = [...versions].sort((a, b) => time(b.CreatedDate) - time(a.CreatedDate));
  return html`<ol class="timeline">${newestFirst.map(
    (version) => html`<li class="version" data-version-id="${version.VersionId}">
      <code class="version-id">${version.VersionId}</code>
      <span class="labels">${
        (version.VersionStages ?? []).length === 0
          ? html`<span class="label deprecated">no label (deprecated)</span>`
          : (version.VersionStages ?? []).map((label) =>
              AWS_LABELS.has(label) ? html`<span class="label ${label.toLowerCase()}">${label}</span>` : html`<span class="label custom">${label}</span>`,
            )
      }</span>
      <span class="created">created ${dateCell(version.CreatedDate)}</span>
      ${version.LastAccessedDate === undefined ? "" : html`<span class="accessed">last accessed ${dateCell(version.LastAccessedDate)}</span>`}
      ${(version.KmsKeyIds ?? []).length === 0 ? "" : html`<span class="keys">encrypted under ${(version.KmsKeyIds ?? []).map((key) => kmsKey(view, key))}</span>`}
      ${revealForm(view, arn, version.VersionId, "Reveal")}
    </li>`,
  )}</ol>`;
}

function rotation(secret: DescribeSecretResponse, versions: readonly SecretVersionsListEntry[], attempts: readonly RotationAttempt[] | { readonly error: unknown }): Html {
  const rules = secret.RotationRules;
  const pending = versions.find((version) => version.VersionStages?.includes("AWSPENDING") && !version.VersionStages.includes("AWSCURRENT"));
  return html`<section class="rotation"><h3>Rotation</h3>
    <dl>
      <dt>Enabled</dt><dd>${secret.RotationEnabled === true ? "yes" : "no"}</dd>
      <dt>Function</dt><dd>${secret.RotationLambdaARN === undefined ? html`<span class="muted">—</span>` : html`<code>${secret.RotationLambdaARN}</code>`}</dd>
      <dt>Rules</dt><dd>${
        rules === undefined
          ? html`<span class="muted">—</span>`
          : [
              rules.AutomaticallyAfterDays === undefined ? "" : html`every ${rules.AutomaticallyAfterDays} days `,
              rules.ScheduleExpression === undefined ? "" : html`<code>${rules.ScheduleExpression}</code> `,
              rules.Duration === undefined ? "" : html`window ${rules.Duration}`,
            ]
      }</dd>
      <dt>Last rotated</dt><dd>${dateCell(secret.LastRotatedDate)}</dd>
      <dt>Next rotation</dt><dd>${dateCell(secret.NextRotationDate)}</dd>
    </dl>
    ${
      // An AWSPENDING version that is not AWSCURRENT is the one sign DescribeSecret gives of a rotation started and not
      // finished; the attempts below (the driver's record, not an API's) say why.
      pending === undefined
        ? ""
        : html`<p class="warning">Version <code>${pending.VersionId}</code> is AWSPENDING: a rotation started and has not finished (or failed); the next RotateSecret retries it.</p>`
    }
    <h4>Last attempts</h4>
    ${"error" in attempts ? sectionError(attempts.error) : attemptsTable(attempts)}
  </section>`;
}

/**
 * The driver's record of the last attempts (AWS shows these only in the function's logs): a failed one names the
 * step it failed at and the function's error, which is what a stuck rotation is debugged from.
 */
function attemptsTable(attempts: readonly RotationAttempt[]): Html {
  if (attempts.length === 0) return html`<p class="muted">No rotation attempts recorded.</p>`;
  return html`<table class="rotation-attempts">
    <thead><tr><th>Started</th><th>Ended</th><th>Outcome</th><th>Failed step</th><th>Error</th><th>Version</th><th>Started by</th></tr></thead>
    <tbody>${attempts.map(
      (item) => html`<tr class="attempt ${item.outcome}" data-version-id="${item.versionId}">
        <td>${dateCell(new Date(item.startedAt))}</td>
        <td>${item.endedAt === undefined ? html`<span class="muted">—</span>` : dateCell(new Date(item.endedAt))}</td>
        <td class="outcome ${item.outcome}">${item.outcome}</td>
        <td class="failed-step">${item.failedStep ?? ""}</td>
        <td class="attempt-error">${item.error === undefined ? "" : html`<pre class="error-text">${item.error}</pre>`}</td>
        <td><code>${item.versionId}</code></td>
        <td>${item.scheduled ? "schedule" : "RotateSecret"}${item.testOnly ? " (test only)" : ""}${item.attempt > 1 ? html` · retry ${item.attempt - 1}` : ""}</td>
      </tr>`,
    )}</tbody></table>`;
}

function replication(view: ConsoleView, secret: DescribeSecretResponse): Html {
  const replicas = secret.ReplicationStatus ?? [];
  if (replicas.length === 0) return html`<section class="replication"><h3>Replication</h3><p class="muted">Not replicated.</p></section>`;
  return html`<section class="replication"><h3>Replication</h3>
    <table><thead><tr><th>Region</th><th>Status</th><th>Message</th><th>KMS key</th><th>Last accessed</th></tr></thead>
    <tbody>${replicas.map(
      (replica) => html`<tr><td>${replica.Region}</td><td class="status ${(replica.Status ?? "").toLowerCase()}">${replica.Status}</td><td>${replica.StatusMessage}</td>
        <td>${kmsKey(view, replica.KmsKeyId)}</td><td>${dateCell(replica.LastAccessedDate)}</td></tr>`,
    )}</tbody></table></section>`;
}

function kmsKey(view: ConsoleView, keyId: string | undefined): Html {
  // No KmsKeyId: the secret is under the account's AWS managed key aws/secretsmanager, which ListSecretVersionIds
  // names "DefaultEncryptionKey" (as AWS does); DescribeKey knows it by its alias.
  if (keyId === "DefaultEncryptionKey") return html`<a class="kms-key" href="${view.href(`${UI}/key`, { id: "alias/aws/secretsmanager" })}">aws/secretsmanager (DefaultEncryptionKey)</a> `;
  const id = keyId ?? "alias/aws/secretsmanager";
  return html`<a class="kms-key" href="${view.href(`${UI}/key`, { id })}">${id}</a> `;
}

/** The value stays on the server until this POST: a GetSecretValue as the console's user, audited like any call. */
function revealForm(view: ConsoleView, arn: string, versionId: string | undefined, label: string): Html {
  return html`<form class="reveal" method="post" action="${view.href(`${UI}/reveal`)}">
    <input type="hidden" name="csrf" value="${view.csrfToken}">
    <input type="hidden" name="id" value="${arn}">
    ${versionId === undefined ? "" : html`<input type="hidden" name="versionId" value="${versionId}">`}
    <button type="submit">${label}</button>
  </form>`;
}

/** POST "reveal": the one place a value is shown; the router answers it with Cache-Control: no-store. */
export const revealAction: ActionHandler = async (view, form) => {
  const id = form.id ?? "";
  const versionId = form.versionId === undefined || form.versionId === "" ? undefined : form.versionId;
  const answer = (await view.call("secretsmanager", "GetSecretValue", { SecretId: id, ...(versionId === undefined ? {} : { VersionId: versionId }) })) as GetSecretValueResponse;
  const value =
    answer.SecretString !== undefined
      ? html`<pre class="secret-value">${answer.SecretString}</pre>`
      : html`<p>Binary value, base64:</p><pre class="secret-value binary">${bytesOf(answer.SecretBinary).toString("base64")}</pre>`;
  return {
    title: `Value of ${answer.Name ?? id}`,
    body: html`<section class="revealed">
      <h2>${answer.Name}</h2>
      <dl><dt>Version</dt><dd><code>${answer.VersionId}</code></dd><dt>Labels</dt><dd>${(answer.VersionStages ?? []).join(", ")}</dd><dt>Created</dt><dd>${dateCell(answer.CreatedDate)}</dd></dl>
      ${value}
      <p class="note">This reveal was a GetSecretValue call as you: it is in the recent calls and, with --audit-log, in the audit log.</p>
      <p><a href="${view.href(`${UI}/secret`, { id: answer.ARN ?? id })}">Back to the secret</a></p>
    </section>`,
  };
};
