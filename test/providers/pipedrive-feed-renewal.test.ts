import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startProviderWorld, type ProviderWorld } from "./harness.js";
import { pipedriveKit } from "./kits/pipedrive.js";

/**
 * Pipedrive deletes a webhook after 3 days without a successful delivery (issue 12; providers-facts §4.4). The
 * maintenance job's daily check (`renewChangeFeed`) creates the missing webhooks again and reconciles what changed
 * while there were none. The day is shortened by making the stored check due now; the deletion is Pipedrive's own
 * API call (what its clean-up does).
 */
describe("pipedrive: webhooks Pipedrive deleted are re-created by the maintenance job, and the gap reconciled", () => {
  let w: ProviderWorld;
  let apiToken: string;
  const webhooks = async () =>
    ((await (await fetch(`${w.emulator.url}/v1/webhooks?api_token=${apiToken}`)).json()) as { data: { id: number; http_auth_user: string | null }[] }).data;

  beforeAll(async () => {
    w = await startProviderWorld(pipedriveKit, { env: { FEED_MAINTENANCE_INTERVAL_MS: "1000" } });
    const accounts = (await w.admin<{ accountId: string; apiToken: string }[]>("GET", "/__sandbox/accounts")).json;
    apiToken = accounts.find((a) => String(a.accountId) === String(w.accountId))?.apiToken ?? "";
  }, 60_000);
  afterAll(async () => w?.close());

  it("a person's edit made while the webhooks were gone reaches the lead; later edits come by webhook again", async () => {
    const email = `renewal-${Date.now()}@example.com`;
    const id = await w.createRecord({ email, firstName: "Re", lastName: "New", jobTitle: "Start" });
    const lead = await eventually(async () => (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email } })) ?? undefined, "the lead");

    const ours = (await webhooks()).filter((h) => h.http_auth_user === `lsync-${w.integrationId}`);
    expect(ours).toHaveLength(3);
    for (const hook of ours) expect((await fetch(`${w.emulator.url}/v1/webhooks/${hook.id}?api_token=${apiToken}`, { method: "DELETE" })).status).toBe(200);
    await w.updateRecord(id, { jobTitle: "Edited Without Webhooks" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await w.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).jobTitle).toBe("Start");

    // The daily check comes due.
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    const settings = row.settings as { provider: Record<string, unknown> };
    await w.prisma.crmIntegration.update({ where: { id: w.integrationId }, data: { settings: { ...settings, provider: { ...settings.provider, feedRenewAt: Date.now() } } } });

    await eventually(async () => (await w.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).jobTitle === "Edited Without Webhooks", "the reconciled edit", 15_000);
    expect(w.logs.some((l) => typeof l.msg === "string" && l.msg.includes("had dropped the change feed") && l["integrationId"] === w.integrationId)).toBe(true);
    const recreated = (await webhooks()).filter((h) => h.http_auth_user === `lsync-${w.integrationId}`);
    expect(recreated).toHaveLength(3);
    const stored = (await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } })).settings as { provider: { webhookIds: string[]; feedRenewAt: number } };
    expect([...stored.provider.webhookIds].sort()).toEqual(recreated.map((h) => String(h.id)).sort());
    expect(stored.provider.feedRenewAt).toBeGreaterThan(Date.now() + 60 * 60_000);

    await w.updateRecord(id, { jobTitle: "By Webhook Again" });
    await eventually(async () => (await w.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).jobTitle === "By Webhook Again", "the edit by webhook");
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email } })).toBe(1);
  });
});
