import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";

// How inbound jobs fail, wait and unlink, against the real sandbox (with injected faults), Postgres and Redis.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
});
afterAll(async () => h?.close());

function enqueueEvents(events: Record<string, unknown>[], attempts?: number) {
  return h.events.add("crm-changes", { v: 1, provider: "hubspot", receivedAt: Date.now(), events }, attempts === undefined ? {} : { attempts });
}

describe("a 429 from HubSpot", () => {
  it("delays the job without using up an attempt, then the contact is applied", async () => {
    const [contactId] = await h.createContacts([{ email: "throttled@example.com" }]);
    await h.fault({ kind: "rate_limit", count: 1, retryAfterSeconds: 1 });
    const job = await enqueueEvents([hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })], 1);
    await eventually(async () => (await h.prisma.lead.findFirst({ where: { email: "throttled@example.com" } })) ?? undefined, { what: "the lead" });
    await eventually(async () => (await job.isCompleted()) || undefined, { what: "job completion" });
    // attempts: 1 — had the 429 counted as a failure, the job would have failed instead of completing.
    const done = await h.events.getJob(job.id as string);
    expect(done?.attemptsMade).toBe(1);
    expect(done?.failedReason).toBeFalsy();
    expect((await h.stats()).throttled).toBeGreaterThanOrEqual(1);
    // A delay is not a failure: said at info level, and no error line for it.
    expect(h.logs.some((l) => l.level === 30 && l.msg.startsWith("Deferred contact creation by "))).toBe(true);
    expect(h.logs.some((l) => l.level >= 50 && l.msg.startsWith("Failed to handle contact"))).toBe(false);
  });
});

describe("a job that fails its last attempt", () => {
  it("writes an inbound_failed IntegrationError naming the contact, and logs the failure", async () => {
    const [contactId] = await h.createContacts([{ email: "broken@example.com" }]);
    await h.fault({ kind: "error", status: 500, count: 1 });
    const job = await enqueueEvents([hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })], 1);
    const error = await eventually(async () => (await h.prisma.integrationError.findFirst({ where: { externalId: contactId as string } })) ?? undefined, {
      what: "the error row",
    });
    expect(error).toMatchObject({ integrationId: h.integration.id, code: "inbound_failed" });
    expect(error.message).toMatch(/500/);
    expect(await job.isFailed()).toBe(true);
    expect(h.logs.some((l) => l.level === 50 && l.msg.startsWith("Failed to handle contact creation: "))).toBe(true);
    // Nothing was claimed: a later redelivery can still apply the event.
    expect(await h.prisma.webhookEvent.count({ where: { objectId: contactId as string } })).toBe(0);
  });
});

describe("contact.deletion", () => {
  it("removes the link and keeps the lead", async () => {
    const [contactId] = await h.createContacts([{ email: "gone@example.com" }]);
    await enqueueEvents([hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })]);
    const lead = await eventually(async () => (await h.prisma.lead.findFirst({ where: { email: "gone@example.com" }, include: { links: true } })) ?? undefined, {
      what: "the lead",
    });
    expect(lead.links).toHaveLength(1);
    await enqueueEvents([hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.deletion" })]);
    await eventually(async () => (await h.prisma.leadCrmLink.count({ where: { leadId: lead.id } })) === 0, { what: "the unlink" });
    expect(await h.prisma.lead.findUnique({ where: { id: lead.id } })).not.toBeNull();
  });
});

describe("an integration that needs re-authorisation", () => {
  it("holds its jobs in the delayed set: nothing recorded, nothing failed", async () => {
    const paused = await h.addIntegration({ status: "needs_reauth" }, "org-paused");
    const job = await enqueueEvents([hubspotEvent({ portalId: paused.portalId, objectId: 1, subscriptionType: "contact.creation" })]);
    await eventually(async () => (await job.isDelayed()) || undefined, { what: "the delayed job" });
    expect(await h.prisma.webhookEvent.count({ where: { integrationId: paused.integration.id } })).toBe(0);
    expect(await job.isFailed()).toBe(false);
    await job.remove();
  });

  it("is marked needs_reauth with an auth_failed error when HubSpot refuses its refresh token", async () => {
    const { encryptToken } = await import("@leadsync/core");
    const key = h.config.encryptionKey;
    const oauth = await h.addIntegration(
      {
        authType: "oauth",
        refreshTokenEnc: encryptToken("revoked-refresh-token", key),
        accessTokenExpiresAt: new Date(Date.now() - 60_000),
      },
      "org-oauth",
    );
    const [contactId] = await h.createContacts([{ email: "oauth@example.com" }], oauth.portalId);
    const job = await enqueueEvents([hubspotEvent({ portalId: oauth.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })]);
    const error = await eventually(async () => (await h.prisma.integrationError.findFirst({ where: { integrationId: oauth.integration.id } })) ?? undefined, {
      what: "the auth error row",
    });
    expect(error.code).toBe("auth_failed");
    expect((await h.prisma.crmIntegration.findUniqueOrThrow({ where: { id: oauth.integration.id } })).status).toBe("needs_reauth");
    await eventually(async () => (await job.isDelayed()) || undefined, { what: "the delayed job" });
    await job.remove();
  });
});
