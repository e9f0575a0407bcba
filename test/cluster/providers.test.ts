import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, startProviderWorld, type ProviderWorld } from "../providers/harness.js";
import { PROVIDER_KITS } from "../providers/kits/index.js";

// Salesforce (a pulled feed: its lease and checkpoint on the cluster), Zoho and Pipedrive (pushed feeds) through the
// one pipeline with every Redis key on a three-master cluster and the queues in six shards: the setup guide's checks.

describe.each(PROVIDER_KITS)("$name on a Redis Cluster", (kit) => {
  let w: ProviderWorld;
  const email = (tag: string) => `${tag}-${kit.name}-cluster-${Date.now()}@example.com`;
  const leadByEmail = async (address: string) =>
    (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email: address }, include: { links: true } })) ?? undefined;

  beforeAll(async () => {
    w = await startProviderWorld(kit, { queues: { clusterNodes: inject("redisClusterNodes"), shards: 6 } });
  }, 60_000);
  afterAll(async () => w?.close());

  it("a platform lead reaches the CRM marked as the platform's; its echo creates no second lead", async () => {
    const address = email("platform");
    expect((await w.api("POST", "/api/v1/leads", { email: address, firstName: "Pat", lastName: "Form", company: "Acme" })).status).toBe(201);
    const [record] = await eventually(async () => {
      const found = await w.findRecords(address);
      return found.length > 0 && found;
    }, `the ${kit.name} record`);
    expect(record).toMatchObject({ email: address, marker: w.config.leadSourceMarker });
    await eventually(async () => (await w.prisma.webhookEvent.count({ where: { integrationId: w.integrationId, objectId: record?.id ?? "" } })) > 0, "the echo");
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: address } })).toBe(1);
  });

  it("a record a person creates in the CRM appears as a lead, and their update follows", async () => {
    const address = email("person");
    const id = await w.createRecord({ email: address, firstName: "Per", lastName: "Son", company: "Beta" });
    const lead = await eventually(() => leadByEmail(address), "the lead");
    expect(lead).toMatchObject({ source: kit.name });
    expect(lead.links.map((l) => l.externalId)).toEqual([id]);
    await w.updateRecord(id, { jobTitle: "VP Sales" });
    await eventually(async () => (await leadByEmail(address))?.jobTitle === "VP Sales", "the update");
  });
});
