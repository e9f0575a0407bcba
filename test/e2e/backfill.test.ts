import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../../apps/api/src/index.js";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { findOrCreateBackfill } from "../../apps/worker/src/backfill/backfill-jobs.js";
import { runBackfill } from "../../apps/worker/src/backfill/run-backfill.js";
import { createIntegrationDirectory } from "../../apps/worker/src/index.js";
import { createLogger } from "../../packages/config/src/index.js";
import { decryptToken } from "../../packages/core/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { eventually, startHarness, type Harness } from "./harness.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONTACTS = 10_000;

/** `pnpm cli backfill --integration <id>` as a child process against the harness's database, Redis and sandbox. */
function spawnBackfill(h: Harness, integrationId: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/cli.ts", "backfill", "--integration", integrationId], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"],
      NODE_ENV: "test",
      DATABASE_URL: h.config.databaseUrl,
      REDIS_URL: h.config.redisUrl,
      QUEUE_PREFIX: h.config.queuePrefix,
      HUBSPOT_API_BASE: h.config.hubspot.apiBase,
      HUBSPOT_CLIENT_SECRET: h.config.hubspot.clientSecret,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

describe("backfill", () => {
  let h: Harness;
  beforeAll(async () => {
    // No receiver: the sandbox sends no webhooks, so leads can only come from the backfill. Unlimited tier: fast.
    h = await startHarness({ receiver: false, tier: "unlimited" });
  });
  afterAll(() => h?.close());

  it("a backfill of 10,000 contacts killed half-way resumes and ends with exactly 10,000 leads", async () => {
    for (let i = 0; i < CONTACTS; i += 2_500) {
      await h.createContacts(
        Array.from({ length: 2_500 }, (_, j) => ({ email: `bulk-${i + j}@example.com`, firstname: `Bulk ${i + j}` })),
      );
    }
    const integrationId = h.integration.id;

    const first = spawnBackfill(h, integrationId);
    const row = await eventually(
      async () => {
        const job = await h.prisma.syncJob.findFirst({ where: { integrationId, kind: "backfill" } });
        return job && job.processed >= 2_000 ? job : undefined;
      },
      { timeoutMs: 30_000, what: "the persisted cursor to show progress" },
    );
    first.child.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const leadsAtKill = await h.prisma.lead.count({ where: { orgId: h.orgId } });
    expect(row.cursor).not.toBeNull();
    expect(leadsAtKill).toBeGreaterThanOrEqual(2_000);
    expect(leadsAtKill).toBeLessThan(CONTACTS);

    const second = spawnBackfill(h, integrationId);
    const { code } = await second.exited;
    expect(second.output()).toContain("Resuming backfill");
    expect(code, second.output()).toBe(0);
    expect(second.output()).toMatch(/completed in/);

    expect(await h.prisma.lead.count({ where: { orgId: h.orgId } })).toBe(CONTACTS);
    expect(await h.prisma.leadCrmLink.count({ where: { integrationId } })).toBe(CONTACTS);
    const done = await h.prisma.syncJob.findFirstOrThrow({ where: { integrationId, kind: "backfill" } });
    expect(done).toMatchObject({ status: "completed", processed: CONTACTS, total: CONTACTS, owner: null });
    expect(done.finishedAt).not.toBeNull();
    // It resumed rather than starting over: one run, and the second process started past the first's cursor.
    expect(await h.prisma.syncJob.count({ where: { integrationId, kind: "backfill" } })).toBe(1);
  }, 90_000);

  it("applies the loop and dedupe rules: our own contacts create no lead, existing leads are linked, not duplicated", async () => {
    const { portalId, integration } = await h.addIntegration();
    const existing = await h.createPlatformLead({ email: "known@example.com", firstName: "Known" });
    const ids = await h.createContacts(
      [
        { email: "new-1@example.com", firstname: "New" },
        { email: "new-2@example.com" },
        { email: "ours@example.com", lead_source_system: h.config.leadSourceMarker },
        { email: "KNOWN@example.com", firstname: "Known" },
        { firstname: "No email" },
      ],
      portalId,
    );
    const before = await h.prisma.lead.count({ where: { orgId: h.orgId } });
    const connection = createRedisConnection(h.config.redisUrl, { role: "producer" });
    const logger = createLogger({ name: "test", level: "silent", pretty: false });
    const deps = { config: h.config, prisma: h.prisma, logger, directory: createIntegrationDirectory({ config: h.config, prisma: h.prisma, connection, logger }) };
    try {
      for (let run = 0; run < 2; run++) {
        const { job } = await findOrCreateBackfill(h.prisma, integration.id);
        const outcome = await runBackfill(deps, job.id);
        expect(outcome.status).toBe("completed");
        // Every run reads all five contacts; only the first changes anything.
        expect(await h.prisma.lead.count({ where: { orgId: h.orgId } })).toBe(before + 2);
      }
    } finally {
      connection.disconnect();
    }
    const links = await h.prisma.leadCrmLink.findMany({ where: { integrationId: integration.id }, include: { lead: true } });
    const linkOf = (contactId: string | undefined) => links.find((l) => l.externalId === contactId);
    expect(linkOf(ids[3])?.leadId).toBe(existing.id);
    expect(linkOf(ids[0])?.lead).toMatchObject({ email: "new-1@example.com", source: "hubspot" });
    expect(linkOf(ids[2])).toBeUndefined(); // ours: no lead of its own
    expect(await h.prisma.lead.count({ where: { orgId: h.orgId, email: "ours@example.com" } })).toBe(0);
    expect(linkOf(ids[4])).toBeUndefined();
    const jobs = await h.prisma.syncJob.findMany({ where: { integrationId: integration.id, kind: "backfill" } });
    expect(jobs.map((j) => [j.status, j.processed, j.total])).toEqual([
      ["completed", 5, 5],
      ["completed", 5, 5],
    ]);
  });

  it("reads the integration's mapped properties, not only the default ones", async () => {
    const { portalId, integration } = await h.addIntegration({ settings: { fieldMapping: { jobTitle: "job_function" } } });
    // The custom property, created as an admin would in the portal.
    const created = await fetch(`${h.sandbox.url}/crm/v3/properties/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${decryptToken(integration.accessTokenEnc ?? "", h.config.encryptionKey)}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "job_function", label: "Job function", type: "string", fieldType: "text", groupName: "contactinformation" }),
    });
    expect(created.status).toBe(201);
    const [contactId] = await h.createContacts([{ email: "mapped@example.com", job_function: "Buyer", jobtitle: "Ignored" }], portalId);
    const connection = createRedisConnection(h.config.redisUrl, { role: "producer" });
    const logger = createLogger({ name: "test", level: "silent", pretty: false });
    const deps = { config: h.config, prisma: h.prisma, logger, directory: createIntegrationDirectory({ config: h.config, prisma: h.prisma, connection, logger }) };
    try {
      const { job } = await findOrCreateBackfill(h.prisma, integration.id);
      expect((await runBackfill(deps, job.id)).status).toBe("completed");
    } finally {
      connection.disconnect();
    }
    const link = await h.prisma.leadCrmLink.findFirstOrThrow({ where: { integrationId: integration.id, externalId: contactId! }, include: { lead: true } });
    expect(link.lead.jobTitle).toBe("Buyer");
  });

  it("POST /backfill answers 202 with the job, 409 while it runs, and webhook-status shows its progress", async () => {
    const { portalId, integration } = await h.addIntegration();
    await h.createContacts(Array.from({ length: 450 }, (_, i) => ({ email: `api-${i}@example.com` })), portalId);
    // Slow search calls down so the backfill is still running when the second request comes.
    await fetch(`${h.sandbox.url}/__sandbox/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ portalId, kind: "latency", ms: 400 }),
    });
    const connection = createRedisConnection(h.config.redisUrl, { role: "producer" });
    const app = buildApiApp({ config: h.config, prisma: h.prisma, connection, queues: { crmOutbound: h.outbound }, logger: createLogger({ name: "test", level: "silent", pretty: false }) });
    const call = (method: "GET" | "POST", url: string) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${signDevToken(h.config, h.orgId)}` } });
    try {
      const accepted = await call("POST", `/api/v1/crm-integration/${integration.id}/backfill`);
      expect(accepted.statusCode, accepted.body).toBe(202);
      const job = accepted.json().data;
      expect(job).toMatchObject({ status: "queued", processed: 0, total: null });

      const again = await call("POST", `/api/v1/crm-integration/${integration.id}/backfill`);
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe("backfill_running");

      const status = async () => (await call("GET", `/api/v1/crm-integration/${integration.id}/webhook-status`)).json().data.backfill;
      const midway = await eventually(async () => {
        const b = await status();
        return b.status === "running" && b.processed > 0 && b.processed < 450 ? b : undefined;
      }, { timeoutMs: 20_000, what: "a running backfill with partial progress" });
      expect(midway).toMatchObject({ id: job.id, total: 450 });
      expect(midway.startedAt).not.toBeNull();

      const done = await eventually(async () => {
        const b = await status();
        return b.status === "completed" ? b : undefined;
      }, { timeoutMs: 30_000, what: "the backfill to complete" });
      expect(done).toMatchObject({ id: job.id, processed: 450, total: 450 });
      expect(done.finishedAt).not.toBeNull();
      expect(await h.prisma.leadCrmLink.count({ where: { integrationId: integration.id } })).toBe(450);
    } finally {
      await fetch(`${h.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
      await app.close();
      connection.disconnect();
    }
  }, 60_000);
});
