import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../../apps/api/src/index.js";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { createIntegrationDirectory } from "../../apps/worker/src/index.js";
import { runReconciliation } from "../../apps/worker/src/reconcile/run-reconciliation.js";
import { startSyncWorker } from "../../apps/worker/src/reconcile/sync-worker.js";
import { createLogger } from "../../packages/config/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { eventually, startHarness, type Harness } from "./harness.js";

/** The sandbox's admin routes (no API budget). */
async function sandboxAdmin(h: Harness, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${h.sandbox.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`sandbox ${method} ${path} → ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

describe("reconciliation", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ tier: "unlimited" });
  });
  afterAll(() => h?.close());

  it("repairs what dropped webhooks left out of date, on its repeatable schedule, and shows it in webhook-status", async () => {
    const [kept] = await h.createContacts([{ email: "kept@example.com", firstname: "Before" }]);
    await h.settled();
    const lead = await eventually(() => h.prisma.lead.findFirst({ where: { orgId: h.orgId, email: "kept@example.com" } }).then((l) => l ?? undefined), {
      what: "the lead from the delivered webhook",
    });
    expect(lead.firstName).toBe("Before");

    // HubSpot loses the next webhooks: an edit and a new contact never reach us.
    await sandboxAdmin(h, "POST", "/__sandbox/faults", { portalId: h.portalId, kind: "drop_webhooks" });
    await h.updateContact(kept!, { firstname: "After" });
    await h.createContacts([{ email: "lost@example.com", firstname: "Lost" }]);
    await h.sandbox.webhooksIdle();
    await sandboxAdmin(h, "DELETE", "/__sandbox/faults");
    const stats = (await h.stats()) as { webhooks: { dropped?: number } };
    expect(stats.webhooks.dropped).toBeGreaterThanOrEqual(2);
    await h.settled();
    expect((await h.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).firstName).toBe("Before");
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId, email: "lost@example.com" } })).toBe(0);

    // A worker with a short reconciliation interval: the repeatable tick queues this integration's run.
    const logger = createLogger({ name: "test", level: "silent", pretty: false });
    const connection = createRedisConnection(h.config.redisUrl, { role: "worker" });
    // Status shows the last finished run, and a later run finds nothing left to fix (fixed 0): the interval must leave
    // the polling below ample time to see the repairing run even on a loaded machine (300 ms made this flaky).
    const config = { ...h.config, reconcileIntervalMs: 2_000 };
    const directory = createIntegrationDirectory({ config, prisma: h.prisma, connection, logger });
    const sync = startSyncWorker({ config, prisma: h.prisma, connection, directory, logger });
    const api = createRedisConnection(h.config.redisUrl, { role: "producer" });
    const app = buildApiApp({ config: h.config, prisma: h.prisma, connection: api, queues: { crmOutbound: h.outbound }, logger });
    const reconciliationStatus = async () => {
      const response = await app.inject({
        method: "GET",
        url: `/api/v1/crm-integration/${h.integration.id}/webhook-status`,
        headers: { authorization: `Bearer ${signDevToken(h.config, h.orgId)}` },
      });
      expect(response.statusCode).toBe(200);
      return response.json().data.reconciliation;
    };
    try {
      expect(await reconciliationStatus()).toBeNull(); // never ran yet
      // Later runs find nothing left to fix (fixed 0): poll for the run that repaired.
      const repairing = await eventually(
        async () => {
          const status = await reconciliationStatus();
          return status && status.fixed >= 2 ? status : undefined;
        },
        { timeoutMs: 15_000, what: "a reconciliation run that repaired the lead and created the lost one" },
      );
      expect(repairing).toMatchObject({ lastError: null, fixed: 2 });
      expect(repairing.checked).toBeGreaterThanOrEqual(2);
      expect(Date.parse(repairing.lastRunAt)).toBeGreaterThan(lead.createdAt.getTime());
      // The cursor is the newest modification seen: the edit made after the lead was created.
      expect(Date.parse(repairing.lastCursor)).toBeGreaterThan(lead.createdAt.getTime());

      expect((await h.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).firstName).toBe("After");
      const lost = await h.prisma.lead.findFirstOrThrow({ where: { orgId: h.orgId, email: "lost@example.com" }, include: { links: true } });
      expect(lost).toMatchObject({ firstName: "Lost", source: "hubspot" });
      expect(lost.links).toHaveLength(1);
    } finally {
      await sync.close();
      connection.disconnect();
      await app.close();
      api.disconnect();
    }
  }, 40_000);

  it("a run waiting for budget ends on shutdown (its signal) instead of waiting the limit out; it is left queued, not failed", async () => {
    const logger = createLogger({ name: "test", level: "silent", pretty: false });
    const connection = createRedisConnection(h.config.redisUrl, { role: "worker" });
    const directory = createIntegrationDirectory({ config: h.config, prisma: h.prisma, connection, logger });
    // HubSpot refuses every search for an hour.
    await sandboxAdmin(h, "POST", "/__sandbox/faults", { portalId: h.portalId, kind: "rate_limit", policyName: "SECONDLY", retryAfterSeconds: 3600 });
    const stopping = new AbortController();
    try {
      const run = runReconciliation({ config: h.config, prisma: h.prisma, directory, logger }, h.integration, { signal: stopping.signal });
      const outcome = run.then(() => "finished", () => "stopped");
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stoppedAt = Date.now();
      stopping.abort();
      expect(await outcome).toBe("stopped");
      expect(Date.now() - stoppedAt).toBeLessThan(3_000);
      const row = await h.prisma.syncJob.findFirstOrThrow({ where: { integrationId: h.integration.id, kind: "reconcile" } });
      expect(row.status).toBe("queued");
      expect(await h.prisma.integrationError.count({ where: { integrationId: h.integration.id, code: "reconcile_failed" } })).toBe(0);
    } finally {
      await sandboxAdmin(h, "DELETE", "/__sandbox/faults");
      connection.disconnect();
    }
  });
});
