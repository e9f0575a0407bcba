import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi, type ApiHarness } from "./helpers.js";

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe("POST /api/v1/leads under concurrency", () => {
  it("creates a new org's first leads posted at once (201 each) in one default form", async () => {
    const org = "org-first-burst";
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.call(org, "POST", "/api/v1/leads", { email: `first-${i}@example.com` })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, () => 201));
    const forms = await api.db.prisma.form.findMany({ where: { orgId: org } });
    expect(forms).toHaveLength(1);
    expect(new Set(responses.map((r) => r.json().data.formId))).toEqual(new Set([forms[0]?.id]));
  });
});

describe("the org's pushing integrations, remembered between leads", () => {
  it("queues for an integration turned on through the API right after a lead that queued nothing", async () => {
    const org = "org-turned-on";
    const integration = await api.db.prisma.crmIntegration.create({
      data: { orgId: org, provider: "hubspot", externalAccountId: "turned-on", autoSyncEnabled: false, syncDirection: "bidirectional" },
    });
    const jobsFor = async (leadId: string) => (await api.crmOutbound.getJobs(["waiting", "delayed", "prioritized"])).filter((j) => j.data.leadId === leadId);
    const before = await api.call(org, "POST", "/api/v1/leads", { email: "before@example.com" });
    expect(await jobsFor(before.json().data.id)).toHaveLength(0);

    const patched = await api.call(org, "PATCH", `/api/v1/crm-integration/${integration.id}`, { settings: { autoSync: { enabled: true } } });
    expect(patched.statusCode).toBe(200);
    const after = await api.call(org, "POST", "/api/v1/leads", { email: "after@example.com" });
    expect((await jobsFor(after.json().data.id)).map((j) => j.data.integrationId)).toEqual([integration.id]);
  });
});
