import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelIdFor } from "../../packages/zoho/src/index.js";
import { eventually, startProviderWorld, type LeadFieldsInput, type ProviderWorld } from "./harness.js";
import { zohoKit } from "./kits/zoho.js";

/**
 * Zoho notification channels expire (issue 11): the repeatable `maintain` job renews the channel before it lapses,
 * and re-creates one Zoho already forgot (`NOT_SUBSCRIBED`) with a reconciliation of the gap. A channel of a few
 * seconds and a one-second maintenance tick make both happen during a burst of edits made in Zoho's UI.
 */

/** Short enough that a burst outlives several channels; the tick renews it at half-life. */
const CHANNEL_LIFE_MS = 4_000;
const MAINTENANCE_INTERVAL_MS = 1_000;

describe("zoho: a notification channel expiring mid-burst loses nothing", () => {
  let w: ProviderWorld;
  const channelId = () => channelIdFor(w.integrationId);
  const renewals = () => w.logs.filter((l) => l.msg === "Zoho CRM change feed renewed" && l["integrationId"] === w.integrationId).length;
  const recreations = () => w.logs.filter((l) => typeof l.msg === "string" && l.msg.includes("had dropped the change feed") && l["integrationId"] === w.integrationId).length;
  const liveChannels = async () => (await w.admin<{ channelId: string }[]>("GET", `/__sandbox/accounts/${w.accountId}/channels`)).json;

  beforeAll(async () => {
    w = await startProviderWorld(zohoKit, { env: { FEED_MAINTENANCE_INTERVAL_MS: String(MAINTENANCE_INTERVAL_MS) } });
    // The channel's life is provider state (`channelLifeMs`); enable-webhooks again subscribes with it.
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    const settings = row.settings as { provider: Record<string, unknown> };
    await w.prisma.crmIntegration.update({
      where: { id: w.integrationId },
      data: { settings: { ...settings, provider: { ...settings.provider, channelLifeMs: CHANNEL_LIFE_MS } } },
    });
    const enabled = await w.api("POST", `/api/v1/crm-integration/${w.integrationId}/enable-webhooks`, {});
    expect(enabled.status).toBe(200);
  }, 60_000);
  afterAll(async () => w?.close());

  /** A burst of UI writes spread over `spreadMs`: creates, then edits of some of them; returns each record's final values. */
  async function burst(tag: string, count: number, spreadMs: number, during?: (index: number) => Promise<void>) {
    const finals = new Map<string, LeadFieldsInput & { email: string }>();
    const ids: string[] = [];
    const pause = spreadMs / count;
    for (let i = 0; i < count; i++) {
      await during?.(i);
      const email = `${tag}-${i}-${Date.now()}@example.com`;
      const fields = { email, firstName: `F${i}`, lastName: `L${i}`, company: `Co ${i}`, jobTitle: "Initial" };
      const id = await w.createRecord(fields);
      ids.push(id);
      finals.set(id, fields);
      // Every third record is edited twice right away, and an earlier one once more: the last value must win.
      if (i % 3 === 0) {
        await w.updateRecord(id, { jobTitle: "Edited once" });
        await w.updateRecord(id, { jobTitle: "Edited twice", phone: `+1 555 01${String(i).padStart(2, "0")}` });
        finals.set(id, { ...fields, jobTitle: "Edited twice", phone: `+1 555 01${String(i).padStart(2, "0")}` });
      }
      const earlier = ids[Math.floor(i / 2)];
      if (i % 4 === 1 && earlier !== undefined) {
        await w.updateRecord(earlier, { company: `Renamed by ${i}` });
        finals.set(earlier, { ...(finals.get(earlier) as LeadFieldsInput & { email: string }), company: `Renamed by ${i}` });
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return finals;
  }

  async function expectEveryRecordALead(finals: Map<string, LeadFieldsInput & { email: string }>) {
    for (const [id, fields] of finals) {
      const lead = await eventually(
        async () => {
          const leads = await w.prisma.lead.findMany({ where: { orgId: w.orgId, email: fields.email }, include: { links: true } });
          const lead = leads[0];
          const current = lead && lead.jobTitle === fields.jobTitle && lead.company === fields.company && (fields.phone === undefined || lead.phone === fields.phone);
          return current && leads;
        },
        `the lead of ${id} with its final values`,
        30_000,
      );
      expect(lead).toHaveLength(1);
      expect(lead[0]).toMatchObject({ firstName: fields.firstName, lastName: fields.lastName, source: "zoho" });
      expect(lead[0]?.links.map((l) => [l.provider, l.externalId])).toEqual([["zoho", id]]);
    }
  }

  it("a burst longer than the channel's life: the maintenance job renews the channel and every change arrives by callback", async () => {
    const renewedBefore = renewals();
    const finals = await burst("renewed", 24, 2 * CHANNEL_LIFE_MS);
    await expectEveryRecordALead(finals);
    // Outlived two channel lives: only renewals kept it, and it never lapsed.
    expect(renewals() - renewedBefore).toBeGreaterThanOrEqual(2);
    expect(recreations()).toBe(0);
    expect((await liveChannels()).map((c) => c.channelId)).toEqual([channelId()]);
    const leads = await w.prisma.lead.count({ where: { orgId: w.orgId, email: { startsWith: "renewed-" } } });
    expect(leads).toBe(finals.size);
  }, 60_000);

  it("the channel expires mid-burst: the next tick re-creates it, reconciliation repairs the gap, no duplicates", async () => {
    const reconcilesBefore = w.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("Reconciliation checked")).length;
    let gapIds: string[] = [];
    const finals = await burst("expired", 24, 3_000, async (i) => {
      if (i !== 8) return;
      // Right after a tick renewed the channel, so the next one is a whole interval away from the writes below.
      const renewed = renewals();
      await eventually(async () => renewals() > renewed, "a renewal tick", 5_000);
      // Zoho forgets the channel now (expired and collected): writes until the next tick notify nobody.
      const expired = await w.admin("POST", `/__sandbox/accounts/${w.accountId}/channels/${channelId()}/expire`);
      expect(expired.status).toBe(204);
      // Made at once, before the next tick can re-create the channel: only reconciliation can bring these in.
      const gap = await w.admin<{ ids: string[] }>("POST", `/__sandbox/accounts/${w.accountId}/records`, {
        records: [0, 1, 2].map((n) => zohoKit.createBody({ email: `expired-gap-${n}-${Date.now()}@example.com`, firstName: "Gap", lastName: `G${n}`, company: "Gap Co" })),
      });
      expect(gap.status).toBe(201);
      gapIds = gap.json.ids;
    });
    await eventually(async () => recreations() > 0, "the maintenance job re-creating the channel", 15_000);
    await eventually(
      async () => w.logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("Reconciliation checked")).length > reconcilesBefore,
      "the reconciliation of the gap",
      15_000,
    );
    await expectEveryRecordALead(finals);
    for (const id of gapIds) {
      const links = await eventually(async () => {
        const found = await w.prisma.leadCrmLink.findMany({ where: { integrationId: w.integrationId, externalId: id }, include: { lead: true } });
        return found.length > 0 && found;
      }, `the lead of gap record ${id}`);
      expect(links).toHaveLength(1);
      expect(links[0]?.lead).toMatchObject({ firstName: "Gap", company: "Gap Co", source: "zoho" });
    }
    // The gap records had no callback: they came through reconciliation.
    const gapEvents = await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: { in: gapIds } } });
    expect(gapEvents).toBe(0);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: { startsWith: "expired-" } } })).toBe(finals.size + gapIds.length);
    // The re-created channel is live again and carries later writes.
    expect((await liveChannels()).map((c) => c.channelId)).toEqual([channelId()]);
    const after = await burst("expired-after", 3, 300);
    await expectEveryRecordALead(after);
  }, 90_000);
});

describe("zoho: a channel Zoho dropped long before its renewal is due is noticed by the maintenance job", () => {
  let w: ProviderWorld;
  const recreations = () => w.logs.filter((l) => typeof l.msg === "string" && l.msg.includes("had dropped the change feed") && l["integrationId"] === w.integrationId).length;

  beforeAll(async () => {
    // The default channel (a week, renewal due in 3.5 days); only the tick is fast.
    w = await startProviderWorld(zohoKit, { env: { FEED_MAINTENANCE_INTERVAL_MS: String(MAINTENANCE_INTERVAL_MS) } });
  }, 60_000);
  afterAll(async () => w?.close());

  it("re-created within a few ticks, the gap reconciled, later writes by callback again", async () => {
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    expect((row.settings as { provider: { feedRenewAt: number } }).provider.feedRenewAt).toBeGreaterThan(Date.now() + 24 * 60 * 60_000);
    // After a tick that checked the channel (the first one does), Zoho drops it: renewal is still days away.
    await eventually(async () => w.logs.some((l) => l.msg === "Zoho CRM change feed renewed" && l["integrationId"] === w.integrationId), "a first check of the channel", 10_000);
    expect((await w.admin("POST", `/__sandbox/accounts/${w.accountId}/channels/${channelIdFor(w.integrationId)}/expire`)).status).toBe(204);
    const email = `dropped-${Date.now()}@example.com`;
    const id = await w.createRecord({ email, firstName: "Drop", lastName: "Ped", company: "Gap Co" });

    await eventually(async () => recreations() > 0, "the channel re-created", 15_000);
    const lead = await eventually(async () => (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email }, include: { links: true } })) ?? undefined, "the gap record's lead");
    expect(lead.links.map((l) => l.externalId)).toEqual([id]);
    expect((await w.admin<{ channelId: string }[]>("GET", `/__sandbox/accounts/${w.accountId}/channels`)).json.map((c) => c.channelId)).toEqual([channelIdFor(w.integrationId)]);

    await w.updateRecord(id, { jobTitle: "By Callback" });
    await eventually(async () => (await w.prisma.lead.findUniqueOrThrow({ where: { id: lead.id } })).jobTitle === "By Callback", "the edit by callback");
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email } })).toBe(1);
  }, 60_000);
});
