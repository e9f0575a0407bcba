export interface PipelineSummary {
  apiUrl: string;
  devJwt: string;
  bullBoard?: { user: string; password: string } | undefined;
  sandbox?: { url: string; portalId: number } | undefined;
  integrationId: string;
  /** Whether the demo integration was kept from the last run or created now, and why. */
  integrationNote?: string | undefined;
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
  if (!s.sandbox) return [];
  const { url, portalId } = s.sandbox;
  const auth = `-H "authorization: Bearer $TOKEN"`;
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
