import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";
import { DAILY_CAP_ERROR_CODE } from "../src/daily-cap.js";

// When a portal's daily API cap is reached, its jobs wait for the reset and the integration's error log says so — once.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
});
afterAll(async () => h?.close());

async function enqueueCreation(portalId: number, email: string) {
  const [contactId] = await h.createContacts([{ email }], portalId);
  return h.events.add(
    "crm-changes",
    { v: 1, provider: "hubspot", receivedAt: Date.now(), events: [hubspotEvent({ portalId, objectId: contactId as string, subscriptionType: "contact.creation" })] },
    { attempts: 1 },
  );
}

async function dailyCapRows(integrationId: string) {
  return h.prisma.integrationError.findMany({ where: { integrationId, code: DAILY_CAP_ERROR_CODE } });
}

async function expectDelayed(job: { id?: string | undefined }) {
  await eventually(async () => (await h.events.getJob(job.id as string))?.isDelayed(), { what: "the job in the delayed set" });
  const state = await h.events.getJob(job.id as string);
  expect(state?.attemptsMade ?? 0).toBe(0);
}

describe("the daily cap", () => {
  it("HubSpot's 429 DAILY: one rate_limited_daily row with the reset time, jobs delayed until then", async () => {
    const response = await fetch(`${h.sandbox.url}/__sandbox/portals/${h.portalId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dailyLimit: 1, dailyUsed: 1 }),
    });
    expect(response.status).toBe(200);
    const first = await enqueueCreation(h.portalId, "daily-1@example.com");
    const [row] = await eventually(async () => {
      const rows = await dailyCapRows(h.integration.id);
      return rows.length > 0 ? rows : undefined;
    }, { what: "the daily-cap row" });
    await expectDelayed(first);
    const second = await enqueueCreation(h.portalId, "daily-2@example.com");
    await expectDelayed(second);

    expect(await dailyCapRows(h.integration.id)).toHaveLength(1);
    const resetAt = (row?.context as { resetAt?: string }).resetAt;
    expect(row?.message).toContain(resetAt);
    expect(new Date(resetAt as string).getTime()).toBeGreaterThan(Date.now());
    expect(await h.prisma.lead.count({ where: { email: { startsWith: "daily-" } } })).toBe(0);
  });

  it("our limiter's own daily count (a per-integration cap override): one row, later jobs wait too", async () => {
    const { portalId, integration } = await h.addIntegration();
    await h.prisma.crmIntegration.update({ where: { id: integration.id }, data: { settings: { rateLimit: { daily: 2 } } } });
    // A cap of 2 with the 5% margin leaves one call: the first job uses it.
    await enqueueCreation(portalId, "own-daily-1@example.com");
    await eventually(async () => (await h.prisma.lead.findFirst({ where: { email: "own-daily-1@example.com" } })) ?? undefined, { what: "the first lead" });
    const refused = [await enqueueCreation(portalId, "own-daily-2@example.com"), await enqueueCreation(portalId, "own-daily-3@example.com")];
    for (const job of refused) await expectDelayed(job);

    const rows = await dailyCapRows(integration.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.message).toMatch(/daily API limit reached: calls are paused until \d{4}-\d\d-\d\dT/);
    expect((await h.stats(portalId)).throttled).toBe(0);
  });
});
