import { signDevToken } from "../../apps/api/src/dev-token.js";
import { encryptToken } from "../../packages/core/src/index.js";
import { createHubSpotClient, ensureLeadSourceProperty } from "../../packages/hubspot/src/index.js";
import { SEARCH_PER_SECOND } from "../../packages/hubspot-sandbox/src/state/rate-limiter.js";
import { MAX_SEARCH_LIMIT } from "../../packages/hubspot-sandbox/src/crm/search.js";
import { waitUntil, type BenchEnvironment, type SandboxStats } from "./environment.js";

/**
 * A backfill as a customer starts it: a new org connects a portal that already holds `contacts` contacts and asks
 * for the import (`POST /api/v1/crm-integration/:id/backfill` on the API process); a worker process runs it from the
 * crm-sync queue (apps/worker/src/backfill). Timed from the request to the sync_jobs row completed.
 */

export interface BackfillMeasurement {
  seconds: number;
  contacts: number;
  leads: number;
  calls: number;
  searchCalls: number;
  throttled: number;
  peakRssBytes: number;
  /** The fastest the sandbox allows: contacts ÷ (search calls per second × results per call). */
  ceilingSeconds: number;
  createSeconds: number;
}

const SEARCH = "POST /crm/v3/objects/contacts/search";
const CONTACTS_PER_ADMIN_CALL = 2_000;

export async function measureBackfill(env: BenchEnvironment, apiUrl: string, contacts: number, progress: (message: string) => void): Promise<BackfillMeasurement> {
  const portal = env.sandbox.createPortal({ tier: "starter" });
  await ensureLeadSourceProperty(createHubSpotClient({ accessToken: portal.accessToken, basePath: env.sandbox.url }), env.config.leadSourceMarker);
  const createStarted = Date.now();
  for (let i = 0; i < contacts; i += CONTACTS_PER_ADMIN_CALL) {
    const chunk = Array.from({ length: Math.min(CONTACTS_PER_ADMIN_CALL, contacts - i) }, (_, j) => ({
      properties: { email: `backfill-${i + j}@example.com`, firstname: `Back${i + j}`, lastname: "Fill", phone: `+1666${String(i + j).padStart(7, "0")}`, company: `Company ${(i + j) % 97}`, jobtitle: "Buyer" },
    }));
    await env.admin("POST", `/__sandbox/portals/${portal.portalId}/contacts`, { contacts: chunk });
    progress(`backfill: ${Math.min(contacts, i + CONTACTS_PER_ADMIN_CALL)}/${contacts} contacts in the sandbox`);
  }
  const createSeconds = (Date.now() - createStarted) / 1000;

  const orgId = `${env.orgId}-backfill`;
  const integration = await env.db.prisma.crmIntegration.create({
    data: {
      orgId,
      provider: "hubspot",
      externalAccountId: String(portal.portalId),
      tier: portal.tier,
      accessTokenEnc: encryptToken(portal.accessToken, env.config.encryptionKey),
    },
  });
  const worker = await env.startWorker("backfill-worker");
  const stats = () => env.admin<SandboxStats>("GET", `/__sandbox/portals/${portal.portalId}/stats`);
  const before = await stats();
  const started = Date.now();
  const response = await fetch(`${apiUrl}/api/v1/crm-integration/${integration.id}/backfill`, {
    method: "POST",
    headers: { authorization: `Bearer ${signDevToken(env.config, orgId)}` },
  });
  if (response.status !== 202) throw new Error(`backfill request → ${response.status}: ${await response.text()}`);
  const job = ((await response.json()) as { data: { id: string } }).data;

  await waitUntil(async () => (await env.db.prisma.syncJob.findUniqueOrThrow({ where: { id: job.id } })).status === "completed", {
    timeoutMs: Math.max(120_000, contacts * 10),
    intervalMs: 500,
    what: `the backfill of ${contacts} contacts`,
    tick: async () => {
      const row = await env.db.prisma.syncJob.findUniqueOrThrow({ where: { id: job.id } });
      if (row.status === "failed") throw new Error(`backfill failed: ${row.lastError}`);
      progress(`backfill: ${row.processed}/${contacts} contacts applied, ${Math.round((Date.now() - started) / 1000)} s, worker RSS peak ${Math.round((worker.peakRssBytes() ?? 0) / 2 ** 20)} MB`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const peakRssBytes = worker.peakRssBytes() ?? 0;
  const after = await stats();
  const leads = await env.db.prisma.lead.count({ where: { orgId } });
  await worker.stop();
  return {
    seconds,
    contacts,
    leads,
    calls: after.calls.total - before.calls.total,
    searchCalls: (after.calls.byEndpoint[SEARCH] ?? 0) - (before.calls.byEndpoint[SEARCH] ?? 0),
    throttled: after.throttled - before.throttled,
    peakRssBytes,
    ceilingSeconds: contacts / (SEARCH_PER_SECOND * MAX_SEARCH_LIMIT),
    createSeconds,
  };
}
