export interface PipelineSummary {
  apiUrl: string;
  devJwt: string;
  bullBoard?: { user: string; password: string } | undefined;
  sandbox?: { url: string; portalId: number } | undefined;
  integrationId: string;
}

/** What a new user needs after `pnpm start`: where things are, a token, and two lines to try. */
export function printBanner(s: PipelineSummary): void {
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
    "",
    "  Development JWT (org \"demo\"):",
    `  export TOKEN=${s.devJwt}`,
    "",
  ];
  if (s.sandbox) {
    lines.push(
      "  Try it — create a contact in HubSpot (the sandbox), then see it arrive as a lead:",
      `  curl -s -X POST ${s.sandbox.url}/__sandbox/portals/${s.sandbox.portalId}/contacts -H 'content-type: application/json' -d '{"contacts":[{"properties":{"email":"ada@example.com","firstname":"Ada","lastname":"Lovelace"}}]}'`,
      `  curl -s "${s.apiUrl}/api/v1/leads?email=ada@example.com" -H "authorization: Bearer $TOKEN"`,
      "",
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
