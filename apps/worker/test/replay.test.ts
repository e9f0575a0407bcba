import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "../../../test/e2e/harness.js";
import { replayFailedJobs } from "../src/replay.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
});
afterAll(async () => h?.close());

describe("replayFailedJobs", () => {
  it("re-runs the integration's failed outbound job once the cause is fixed", async () => {
    const lead = await h.createPlatformLead({ email: "typo@@example.com" });
    await h.enqueueOutbound(lead.id);
    await eventually(async () => (await h.outbound.getFailedCount()) === 1, { what: "the failed job" });

    const target = { integrationId: h.integration.id, provider: "hubspot", accountId: String(h.portalId) };
    expect(await replayFailedJobs({ crmChanges: h.events, crmOutbound: h.outbound }, { ...target, integrationId: "00000000-0000-4000-8000-000000000000" })).toEqual({
      crmChanges: 0,
      crmOutbound: 0,
    });
    expect(await replayFailedJobs({ crmChanges: h.events, crmOutbound: h.outbound }, target, { dryRun: true })).toEqual({ crmChanges: 0, crmOutbound: 1 });

    await h.prisma.lead.update({ where: { id: lead.id }, data: { email: "typo@example.com" } });
    expect(await replayFailedJobs({ crmChanges: h.events, crmOutbound: h.outbound }, target)).toEqual({ crmChanges: 0, crmOutbound: 1 });
    const link = await eventually(async () => (await h.prisma.leadCrmLink.findFirst({ where: { leadId: lead.id } })) ?? undefined, { what: "the link" });
    expect((await h.getContact(link.externalId)).properties["email"]).toBe("typo@example.com");
    expect(await h.outbound.getFailedCount()).toBe(0);
  });
});
