import type { PersonFields } from "./emulators.js";

/** One CRM emulator `pnpm start` runs, and the demo integration connected to it. */
export interface CrmEmulatorSummary {
  provider: string;
  displayName: string;
  /** What a record is called in that CRM (Lead, Leads record, person). */
  recordName: string;
  /** Where its admin routes answer. */
  url: string;
  /** Its other address, if any (Salesforce's Pub/Sub gRPC, Zoho's API domain). */
  extra: string | undefined;
  accountId: string;
  integrationId: string;
  note: string;
  /** The admin route's create body for one record. */
  createBody(fields: PersonFields): Record<string, unknown>;
}

export interface PipelineSummary {
  apiUrl: string;
  devJwt: string;
  bullBoard?: { user: string; password: string } | undefined;
  sandbox?: { url: string; portalId: number } | undefined;
  integrationId: string;
  /** Whether the demo integration was kept from the last run or created now, and why. */
  integrationNote?: string | undefined;
  /** The other CRMs' emulators (Salesforce, Zoho CRM, Pipedrive), in registry order; empty when all have credentials. */
  crms: CrmEmulatorSummary[];
  /** The CRMs whose credentials are set: no emulator, no demo integration (connect an account through the API). */
  crmsWithCredentials?: { displayName: string; vars: string[] }[] | undefined;
}

/**
 * A shell loop that runs `curl` until its answer contains `needle` (at most ~10 s), then prints the answer: what was
 * just created arrives asynchronously (webhook → queue → worker, or queue → worker → HubSpot), ~150 ms later.
 */
function waitFor(curlArgs: string, needle: string): string {
  return `for i in $(seq 1 50); do out=$(curl -s ${curlArgs}); case "$out" in *'${needle}'*) echo "$out"; break;; esac; sleep 0.2; done`;
}

/** The banner's "try it" steps: pasted as a whole into a shell (after `export TOKEN=…`), each step shows its result. */
export function tryItSteps(s: PipelineSummary): { title: string; commands: string[] }[] {
  return [...hubspotSteps(s), ...s.crms.flatMap((crm) => crmSteps(s, crm))];
}

const AUTH = `-H "authorization: Bearer $TOKEN"`;

/** A CRM's two steps, with emails of its own (`ada.<provider>@example.com`) so each block can be pasted on its own. */
function crmSteps(s: PipelineSummary, crm: CrmEmulatorSummary): { title: string; commands: string[] }[] {
  const records = `${crm.url}/__sandbox/accounts/${crm.accountId}/records`;
  const inbound = `ada.${crm.provider}@example.com`;
  const outbound = `grace.${crm.provider}@example.com`;
  const body = JSON.stringify({ records: [crm.createBody({ email: inbound, firstName: "Ada", lastName: "Lovelace", company: "Analytical Engines" })] });
  return [
    {
      title: `${crm.displayName} → platform: create a ${crm.recordName} in the emulator, then wait for its lead:`,
      commands: [
        `curl -s -w '\\n' -X POST ${records} -H 'content-type: application/json' -d '${body}'`,
        waitFor(`"${s.apiUrl}/api/v1/leads?email=${inbound}" ${AUTH}`, `"email":"${inbound}"`),
      ],
    },
    {
      title: `Platform → ${crm.displayName}: create a lead (it goes to every connected CRM), then wait for its ${crm.recordName} in the emulator:`,
      commands: [
        `curl -s -w '\\n' -X POST ${s.apiUrl}/api/v1/leads ${AUTH} -H 'content-type: application/json' -d '{"email":"${outbound}","firstName":"Grace","lastName":"Hopper"}'`,
        waitFor(`"${records}?email=${outbound}"`, `"${outbound}"`),
      ],
    },
  ];
}

function hubspotSteps(s: PipelineSummary): { title: string; commands: string[] }[] {
  if (!s.sandbox) return [];
  const { url, portalId } = s.sandbox;
  const auth = AUTH;
  return [
    {
      title: "HubSpot → platform: create a contact in the sandbox, then wait for its lead:",
      commands: [
        `curl -s -w '\\n' -X POST ${url}/__sandbox/portals/${portalId}/contacts -H 'content-type: application/json' -d '{"contacts":[{"properties":{"email":"ada@example.com","firstname":"Ada","lastname":"Lovelace"}}]}'`,
        waitFor(`"${s.apiUrl}/api/v1/leads?email=ada@example.com" ${auth}`, '"email":"ada@example.com"'),
      ],
    },
    {
      title: "Platform → HubSpot: create a lead, then wait for its contact in the sandbox (its admin route lists the portal's contacts):",
      commands: [
        `curl -s -w '\\n' -X POST ${s.apiUrl}/api/v1/leads ${auth} -H 'content-type: application/json' -d '{"email":"grace@example.com","firstName":"Grace","lastName":"Hopper"}'`,
        waitFor(`${url}/__sandbox/portals/${portalId}/contacts`, '"email":"grace@example.com"'),
      ],
    },
  ];
}

/** What a new user needs after `pnpm start`: where things are, a token, and commands to try. */
export function bannerText(s: PipelineSummary): string {
  const lines = [
    "",
    "LeadSync is running",
    "",
    `  API + webhooks     ${s.apiUrl}  (POST ${s.apiUrl}/api/v1/webhooks/hubspot)`,
    `  API docs           ${s.apiUrl}/docs  (OpenAPI document: ${s.apiUrl}/openapi.json)`,
    `  Queues (Bull Board) ${s.apiUrl}/admin/queues${s.bullBoard ? `  (login ${s.bullBoard.user} / ${s.bullBoard.password})` : "  (off: set BULL_BOARD_USER and BULL_BOARD_PASSWORD)"}`,
    `  Metrics            ${s.apiUrl}/metrics`,
    ...(s.sandbox ? [`  HubSpot sandbox    ${s.sandbox.url}  (portal ${s.sandbox.portalId}; GET ${s.sandbox.url}/__sandbox/portals)`] : []),
    `  Integration        ${s.integrationId} (org "demo")`,
    ...(s.integrationNote ? [`                     ${s.integrationNote}`] : []),
    ...s.crms.flatMap((crm) => [
      `  ${`${crm.displayName} emulator `.padEnd(19)}${crm.url}  (account ${crm.accountId}${crm.extra ? `; ${crm.extra}` : ""}; GET ${crm.url}/__sandbox/accounts)`,
      `  ${"Integration".padEnd(19)}${crm.integrationId} (org "demo", ${crm.displayName})`,
      `                     ${crm.note}`,
    ]),
    ...(s.crmsWithCredentials ?? []).map(
      (crm) => `  ${`${crm.displayName} `.padEnd(19)}credentials set (${crm.vars.join(" or ")}): the real CRM, no emulator; connect an account with POST /api/v1/crm-integration`,
    ),
    "",
    "  Development JWT (org \"demo\"):",
    `  export TOKEN=${s.devJwt}`,
    "",
  ];
  const steps = tryItSteps(s);
  if (steps.length > 0) {
    lines.push("  Try it (each block can be pasted as a whole; the second line of each waits up to 10 s for the sync):", "");
    for (const step of steps) lines.push(`  ${step.title}`, ...step.commands.map((c) => `  ${c}`), "");
  }
  return `${lines.join("\n")}\n`;
}

export function printBanner(s: PipelineSummary): void {
  process.stdout.write(bannerText(s));
}
