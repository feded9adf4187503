// The Actions page and its POSTs: reset (all, an account, a region, an account's region), apply a seed, and copy-snippets.
import { parse as parseYaml } from "yaml";
import type { ResetPartition } from "../../admin/app";
import { checkSeed, SeedError, type SeedPlan } from "../../seed";
import { html, raw, type Html } from "../html";
import type { ActionHandler, ConsolePage, ConsoleView, PageHandler } from "../view";

/** What the actions change, wired by main.ts to the same code the admin routes and --seed use. */
export interface ConsoleActions {
  /** The admin route's reset (/_secretslite/reset): wipes the partition (everything when empty) and re-applies the start's seed. */
  reset(partition: ResetPartition): Promise<void>;
  /** src/seed applySeed over the server's domains: creates what the plan lists and the store lacks. */
  applySeed(plan: SeedPlan): Promise<void>;
}

export const ACTIONS_PATH = "/_secretslite/ui/actions";
export const RESET_PATH = "/_secretslite/ui/reset";
export const SEED_PATH = "/_secretslite/ui/seed";

/** As the admin route checks them (src/admin/app.ts). */
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
/** A pasted seed larger than this is refused before parsing: a seed file for tests is a few kilobytes. */
const MAX_SEED_CHARS = 1024 * 1024;

type ResetScope = "all" | "account" | "region" | "partition";
const SCOPES: ReadonlyArray<readonly [ResetScope, string]> = [
  ["partition", "this account's region"],
  ["account", "this account (every region)"],
  ["region", "this region (every account)"],
  ["all", "everything"],
];

const csrfField = (view: ConsoleView): Html => html`<input type="hidden" name="csrf" value="${view.csrfToken}">`;

function describe(partition: ResetPartition): string {
  if (partition.account !== undefined && partition.region !== undefined) return `account ${partition.account} in ${partition.region}`;
  if (partition.account !== undefined) return `account ${partition.account} (every region)`;
  if (partition.region !== undefined) return `region ${partition.region} (every account)`;
  return "every account and region";
}

/** The page with both forms; `done` (after a redirect) says what the last action did, `problem` why it failed. */
function actionsBody(view: ConsoleView, notice: { done?: string; problem?: string; seedText?: string }): Html {
  return html`<section class="actions">
  ${notice.done === undefined ? "" : html`<p class="notice notice-done" role="status">${notice.done}</p>`}
  ${notice.problem === undefined ? "" : html`<div class="notice notice-error" role="alert"><p>The action failed:</p><pre>${notice.problem}</pre></div>`}
  <h2>Reset</h2>
  <p>Wipes KMS keys and secrets (backing keys included) and applies the start's seed again, as <code>POST /_secretslite/reset</code> does.</p>
  <form class="reset" method="post" data-confirm="Reset the chosen keys and secrets? Their values and key material are gone for good." action="${RESET_PATH}">
    ${csrfField(view)}
    <label>Account <input type="text" name="account" value="${view.account}" pattern="\\d{12}" inputmode="numeric"></label>
    <label>Region <input type="text" name="region" value="${view.region}"></label>
    <fieldset><legend>What to reset</legend>${SCOPES.map(
      ([scope, label], i) => html`<label><input type="radio" name="scope" value="${scope}"${i === 0 ? raw(" checked") : ""}> ${label}</label>`,
    )}</fieldset>
    <button type="submit" class="danger">Reset</button>
  </form>
  <h2>Apply a seed</h2>
  <p>A seed document (YAML or JSON, the shape of a <code>--seed</code> file): what it lists and the store lacks is created; entries without an account go to ${view.account}. It is not applied again on a reset.</p>
  <form class="seed" method="post" action="${SEED_PATH}">
    ${csrfField(view)}
    <input type="hidden" name="account" value="${view.account}">
    <input type="hidden" name="region" value="${view.region}">
    <textarea name="seed" rows="16" cols="80" spellcheck="false" placeholder="secretsmanager:&#10;  secrets:&#10;    - name: app/db&#10;      secretString: hunter2">${notice.seedText ?? ""}</textarea>
    <button type="submit">Apply</button>
  </form>
</section>`;
}

/** GET /_secretslite/ui/actions: the forms, and the outcome of the last action (`?done=`) after its redirect. */
export const actionsPage: PageHandler = async (view, query) => ({
  title: "Actions",
  body: actionsBody(view, { done: query.done === undefined || query.done === "" ? undefined : query.done }),
});

/** The partition a reset form names, or why it is refused. */
export function resetPartitionOf(form: Readonly<Record<string, string>>): ResetPartition | string {
  const scope = form.scope ?? "partition";
  const account = form.account?.trim() ?? "";
  const region = form.region?.trim() ?? "";
  const needsAccount = scope === "account" || scope === "partition";
  const needsRegion = scope === "region" || scope === "partition";
  if (!["all", "account", "region", "partition"].includes(scope)) return `Unknown reset scope ${JSON.stringify(scope)}: choose everything, an account, a region, or an account's region.`;
  if (needsAccount && !ACCOUNT.test(account)) return `account must be one 12-digit account id, not ${JSON.stringify(account)}.`;
  if (needsRegion && !REGION.test(region)) return `region must be one region name such as eu-west-1, not ${JSON.stringify(region)}.`;
  return { ...(needsAccount ? { account } : {}), ...(needsRegion ? { region } : {}) };
}

/** POST /_secretslite/ui/reset: the admin route's reset of the chosen partition, then back to the actions page. */
export function resetAction(actions: ConsoleActions): ActionHandler {
  return async (view, form) => {
    const partition = resetPartitionOf(form);
    if (typeof partition === "string") return { title: "Actions", body: actionsBody(view, { problem: partition }) };
    try {
      await actions.reset(partition);
    } catch (error) {
      // As the admin route says it: most likely a seed that no longer applies.
      return { title: "Actions", body: actionsBody(view, { problem: `Reset of ${describe(partition)} failed: ${error instanceof Error ? error.message : String(error)}` }) };
    }
    return { redirect: view.href(ACTIONS_PATH, { done: `Reset ${describe(partition)}.` }) };
  };
}

/** A pasted seed parsed and checked as a --seed file is (JSON is YAML); a SeedError names what is wrong. */
export function seedPlanOf(text: string, defaultAccount: string): SeedPlan {
  const source = "pasted seed";
  if (text.trim() === "") throw new SeedError(`${source}: empty: paste a seed document (YAML or JSON).`);
  if (text.length > MAX_SEED_CHARS) throw new SeedError(`${source}: larger than ${MAX_SEED_CHARS} characters.`);
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    // Only the first line: the parser's later lines quote the text around the mistake, which may be a secret value.
    throw new SeedError(`${source}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
  return checkSeed(document, source, defaultAccount);
}

/** POST /_secretslite/ui/seed: checks and applies the pasted seed; a mistake is shown with the text kept. */
export function seedAction(actions: ConsoleActions): ActionHandler {
  return async (view, form): Promise<{ redirect: string } | ConsolePage> => {
    const text = form.seed ?? "";
    let plan: SeedPlan;
    try {
      plan = seedPlanOf(text, view.account);
      await actions.applySeed(plan);
    } catch (error) {
      if (!(error instanceof SeedError)) throw error;
      return { title: "Actions", body: actionsBody(view, { problem: error.message, seedText: text }) };
    }
    const done = `Seed applied: ${plan.keys.length} KMS keys, ${plan.aliases.length} aliases and ${plan.secrets.length} secrets listed (those already present were left as they were).`;
    return { redirect: view.href(ACTIONS_PATH, { done }) };
  };
}

/** One copy-paste snippet for the object on screen. */
export interface Snippet {
  readonly label: string;
  readonly language: "shell" | "javascript";
  readonly text: string;
}

/** A POSIX shell word: single quotes, each ' written as '\''. */
const shellWord = (text: string): string => (/^[A-Za-z0-9_./:@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/**
 * The aws CLI and SDK v3 (JavaScript) snippets for a secret (`id`: its name or ARN) or a KMS key (`id`: key id, ARN or
 * alias) in `account`/`region`. The access key names the account: secretslite takes a 12-digit access key id as the
 * account (without --principals); `endpoint` is the server's URL (default: secretslite's default port on localhost).
 */
export function snippets(kind: "secret" | "key", id: string, account: string, region: string, endpoint = "http://localhost:4566"): Snippet[] {
  const env = `AWS_ACCESS_KEY_ID=${shellWord(account)} AWS_SECRET_ACCESS_KEY=test`;
  const common = `--region ${shellWord(region)} --endpoint-url ${shellWord(endpoint)}`;
  const clientConfig = `{ region: ${JSON.stringify(region)}, endpoint: ${JSON.stringify(endpoint)}, credentials: { accessKeyId: ${JSON.stringify(account)}, secretAccessKey: "test" } }`;
  if (kind === "secret") {
    return [
      { label: "aws CLI", language: "shell", text: `${env} aws secretsmanager get-secret-value --secret-id ${shellWord(id)} ${common}` },
      {
        label: "SDK for JavaScript v3",
        language: "javascript",
        text: [
          `import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";`,
          `const client = new SecretsManagerClient(${clientConfig});`,
          `const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: ${JSON.stringify(id)} }));`,
        ].join("\n"),
      },
    ];
  }
  return [
    { label: "aws CLI", language: "shell", text: `${env} aws kms describe-key --key-id ${shellWord(id)} ${common}` },
    {
      label: "SDK for JavaScript v3",
      language: "javascript",
      text: [
        `import { KMSClient, DescribeKeyCommand } from "@aws-sdk/client-kms";`,
        `const client = new KMSClient(${clientConfig});`,
        `const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: ${JSON.stringify(id)} }));`,
      ].join("\n"),
    },
  ];
}

/** The snippets as markup: each a <pre data-copy> that console.js gives a copy button. */
export function snippetsBlock(list: readonly Snippet[]): Html {
  return html`<section class="snippets">${list.map(
    (snippet) => html`<figure class="snippet"><figcaption>${snippet.label}</figcaption><pre data-copy data-language="${snippet.language}"><code>${snippet.text}</code></pre></figure>`,
  )}</section>`;
}
