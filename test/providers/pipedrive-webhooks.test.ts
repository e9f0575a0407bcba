import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookSecretFor } from "../../packages/providers/src/index.js";
import { eventually, startProviderWorld, type ProviderWorld } from "./harness.js";
import { pipedriveKit } from "./kits/pipedrive.js";

/**
 * Pipedrive's webhooks v2 through the one pipeline (issue 12): redeliveries (`attempt` 2–4 of one `meta.id`) apply
 * one change, wrong HTTP Basic credentials get nothing in, an existing person with the lead's email is linked rather
 * than duplicated and keeps its origin, and a merge in the app moves the link to the surviving person.
 */
describe("pipedrive: redeliveries, credentials, existing persons and merges", () => {
  let w: ProviderWorld;
  let uiUserId: string;
  let companyId: string;
  let state: { userId: string; markerField: string; webhookIds: string[] };
  const email = (tag: string) => `${tag}-${Date.now()}@example.com`;
  const webhookUrl = () => `${w.config.apiUrl}/api/v1/webhooks/pipedrive`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const ourCredentials = () => basic(`lsync-${w.integrationId}`, webhookSecretFor(w.config, w.integrationId));
  const leadByEmail = async (address: string) =>
    (await w.prisma.lead.findFirst({ where: { orgId: w.orgId, email: address }, include: { links: true } })) ?? undefined;
  const changesJobs = async () => {
    const counts = await w.queues.crmChanges.getJobCounts("waiting", "active", "completed", "failed", "delayed", "prioritized", "paused");
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  };
  const post = async (body: unknown, authorization: string | undefined) => {
    const response = await fetch(webhookUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Pipedrive Webhooks", ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as { success: boolean; error?: { code: string; message: string } } };
  };
  /** The next webhook event of this account vanishes (as if Pipedrive never sent it). */
  const dropNextWebhook = () => w.admin("POST", "/__sandbox/faults", { accountId: w.accountId, kind: "drop_webhooks", count: 1 });
  const personView = async (id: string) => (await w.admin<Record<string, unknown>>("GET", `/__sandbox/accounts/${w.accountId}/records/${id}`)).json;

  /**
   * A webhooks v2 `change.person` by a person in the web app, shaped as Pipedrive sends it (the emulator's shape).
   * Every attempt of one event is the same payload but for `meta.attempt`: build it once, vary only the attempt.
   */
  function changeEvent(data: Record<string, unknown>, previous: Record<string, unknown>, eventId = randomUUID()) {
    const correlationId = randomUUID();
    const timestamp = new Date().toISOString();
    return (attempt: number) => ({
      meta: {
        action: "change",
        company_id: companyId,
        correlation_id: correlationId,
        entity_id: String(data["id"]),
        entity: "person",
        id: eventId,
        is_bulk_edit: false,
        timestamp,
        type: "general",
        webhook_id: state.webhookIds[1] ?? "1",
        webhook_owner_id: state.userId,
        change_source: "app",
        permitted_user_ids: [state.userId, uiUserId],
        attempt,
        host: "sandbox.pipedrive.com",
        user_id: uiUserId,
        version: "2.0",
      },
      data,
      previous,
    });
  }

  beforeAll(async () => {
    w = await startProviderWorld(pipedriveKit);
    const accounts = (await w.admin<{ accountId: string; uiUserId: number }[]>("GET", "/__sandbox/accounts")).json;
    uiUserId = String(accounts.find((a) => String(a.accountId) === String(w.accountId))?.uiUserId);
    const row = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    companyId = row.externalAccountId;
    state = (row.settings as { provider: typeof state }).provider;
  }, 60_000);
  afterAll(async () => w?.close());

  /** A person made in the app, its lead in place. */
  async function personWithLead(tag: string) {
    const address = email(tag);
    const id = await w.createRecord({ email: address, firstName: "Re", lastName: "Deliver", jobTitle: "Start" });
    const lead = await eventually(async () => (await leadByEmail(address))?.links.length === 1 && leadByEmail(address), `the lead of ${tag}`);
    return { address, id, leadId: (lead as NonNullable<Awaited<ReturnType<typeof leadByEmail>>>).id };
  }

  it("Pipedrive's own retries (attempts 1–3 failed) deliver attempt 4, and it is applied once", async () => {
    const { address, id, leadId } = await personWithLead("retried");
    await w.admin("POST", "/__sandbox/faults", { accountId: w.accountId, kind: "fail_webhooks", count: 3 });
    await w.updateRecord(id, { jobTitle: "After Retries" });
    const lead = await eventually(async () => {
      const found = await w.prisma.lead.findUniqueOrThrow({ where: { id: leadId } });
      return found.jobTitle === "After Retries" && found;
    }, "the change of attempt 4 on the lead", 10_000);
    expect(lead.email).toBe(address);
    const received = w.logs.filter((l) => l.msg === "webhook received" && l["provider"] === "pipedrive" && l["attempt"] === 4);
    expect(received.length).toBeGreaterThanOrEqual(1);
    const events = await w.prisma.webhookEvent.findMany({ where: { integrationId: w.integrationId, objectId: id, subscriptionType: "change.person" } });
    expect(events).toHaveLength(1);
    expect(events[0]?.outcome).toBe("processed");
  });

  it("the same signed webhook delivered 4 times (attempt 1..4) → one claim, one change applied", async () => {
    const { id, leadId } = await personWithLead("redelivered");
    // The person's edit happens in Pipedrive; its delivery is the one replayed below (the emulator's own copy is dropped).
    await dropNextWebhook();
    await w.updateRecord(id, { jobTitle: "Redelivered Title" });
    const data = await personView(id);
    expect(data["job_title"]).toBe("Redelivered Title");
    const eventId = randomUUID();
    const delivery = changeEvent(data, { job_title: "Start" }, eventId);

    expect((await post(delivery(1), ourCredentials())).status).toBe(200);
    await eventually(async () => (await w.prisma.lead.findUniqueOrThrow({ where: { id: leadId } })).jobTitle === "Redelivered Title", "attempt 1 applied");

    // The platform changes the lead afterwards: a redelivery applied again would put the old value back.
    await w.api("PATCH", `/api/v1/leads/${leadId}`, { jobTitle: "Platform Later" });
    await eventually(async () => (await personView(id))["job_title"] === "Platform Later", "the platform's edit in Pipedrive");

    // Attempt 2 arrives after its first job left the queue (retention passed): only the claim can stop it.
    const [firstJob] = (await w.queues.crmChanges.getCompleted()).filter((job) => JSON.stringify(job.data).includes(eventId));
    expect(firstJob).toBeDefined();
    await firstJob?.remove();
    const before = await changesJobs();
    expect((await post(delivery(2), ourCredentials())).status).toBe(200);
    await eventually(async () => (await changesJobs()) === before + 1 && (await w.queues.crmChanges.getCompletedCount()) > 0, "attempt 2 queued");
    // Attempts 3 and 4 at once: the job id of `meta.id` collapses them onto attempt 2's job.
    const [third, fourth] = await Promise.all([3, 4].map((attempt) => post(delivery(attempt), ourCredentials())));
    expect([third?.status, fourth?.status]).toEqual([200, 200]);
    expect(await changesJobs()).toBe(before + 1);
    await eventually(async () => {
      const jobs = (await w.queues.crmChanges.getCompleted()).filter((job) => JSON.stringify(job.data).includes(eventId));
      return jobs.length === 1;
    }, "attempt 2's job done");

    const events = await w.prisma.webhookEvent.findMany({ where: { integrationId: w.integrationId, eventId } });
    expect(events).toHaveLength(1);
    expect(events[0]?.outcome).toBe("processed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await w.prisma.lead.findUniqueOrThrow({ where: { id: leadId } })).jobTitle).toBe("Platform Later");
    expect((await personView(id))["job_title"]).toBe("Platform Later");
  });

  it("a webhook with wrong HTTP Basic credentials → 401 JSON error, nothing queued", async () => {
    const { id } = await personWithLead("wrong-basic");
    const data = await personView(id);
    const body = changeEvent({ ...data, job_title: "Forged" }, { job_title: "Start" })(1);
    const before = await changesJobs();
    for (const authorization of [
      basic(`lsync-${w.integrationId}`, "not-the-password"),
      basic(`lsync-00000000-0000-4000-8000-000000000000`, webhookSecretFor(w.config, w.integrationId)),
      basic("admin", webhookSecretFor(w.config, w.integrationId)),
      undefined,
    ]) {
      const response = await post(body, authorization);
      expect(response.status).toBe(401);
      expect(response.json).toEqual({ success: false, error: { code: "unauthorized", message: expect.any(String) } });
    }
    expect(await changesJobs()).toBe(before);
    expect((await leadByEmail(String((data["emails"] as { value: string }[])[0]?.value)))?.jobTitle).toBe("Start");
  });

  it("a platform lead whose email an existing person has is linked to that person: no second person, its marker kept, source jazzaam", async () => {
    const address = email("existing");
    // A person LeadSync never heard of (made before the integration, say), marked by another system.
    await dropNextWebhook();
    const created = await w.admin<{ ids: number[] }>("POST", `/__sandbox/accounts/${w.accountId}/records`, {
      records: [{ name: "Exi Sting", emails: [{ value: address, primary: true, label: "work" }], custom_fields: { [state.markerField]: "Other System" } }],
    });
    expect(created.status).toBe(201);
    const personId = String(created.json.ids[0]);
    expect(await leadByEmail(address)).toBeUndefined();

    const lead = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Exi", lastName: "Sting", jobTitle: "CFO" });
    expect(lead.status).toBe(201);
    const linked = await eventually(async () => (await leadByEmail(address))?.links[0], "the lead's link");
    expect(linked).toMatchObject({ provider: "pipedrive", externalId: personId });
    // Whatever echoes follow, still one person and one lead.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const persons = await w.findRecords(address);
    expect(persons.map((p) => p.id)).toEqual([personId]);
    expect(persons[0]?.marker).toBe("Other System");
    const after = await leadByEmail(address);
    expect(after?.source).toBe(w.config.leadSourceMarker);
    expect(after?.links.map((l) => l.externalId)).toEqual([personId]);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: address } })).toBe(1);
  });

  it("a merge in the app moves the lead's link to the surviving person; no new lead", async () => {
    const { address, id: mergedId, leadId } = await personWithLead("merged");
    // The survivor: a person without an email (so no lead of its own).
    const survivorId = await w.createRecord({ firstName: "Sur", lastName: "Vivor", jobTitle: "Keeper" });
    await eventually(async () => w.logs.some((l) => l.msg === "Skipping contact - no email address" && l["objectId"] === survivorId), "the survivor skipped");
    const leadsBefore = await w.prisma.lead.count({ where: { orgId: w.orgId } });

    const merged = await w.admin("POST", `/__sandbox/accounts/${w.accountId}/records/${mergedId}/merge`, { into: Number(survivorId) });
    expect(merged.status).toBe(200);
    const link = await eventually(async () => {
      const links = await w.prisma.leadCrmLink.findMany({ where: { leadId } });
      return links.length === 1 && links[0]?.externalId === survivorId && links[0];
    }, "the link on the survivor");
    expect(link.provider).toBe("pipedrive");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await w.prisma.leadCrmLink.count({ where: { integrationId: w.integrationId, externalId: mergedId } })).toBe(0);
    expect(await w.prisma.leadCrmLink.count({ where: { integrationId: w.integrationId, externalId: survivorId } })).toBe(1);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId } })).toBe(leadsBefore);
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId, email: address } })).toBe(1);
  });
  it("a merge of two persons that both have leads keeps the survivor's lead linked and unlinks the other (both leads kept)", async () => {
    const merged = await personWithLead("merged-both-a");
    const survivor = await personWithLead("merged-both-b");
    const leadsBefore = await w.prisma.lead.count({ where: { orgId: w.orgId } });
    expect((await w.admin("POST", `/__sandbox/accounts/${w.accountId}/records/${merged.id}/merge`, { into: Number(survivor.id) })).status).toBe(200);
    await eventually(async () => (await w.prisma.leadCrmLink.count({ where: { leadId: merged.leadId } })) === 0, "the merged person's lead unlinked");
    const links = await w.prisma.leadCrmLink.findMany({ where: { integrationId: w.integrationId, externalId: { in: [merged.id, survivor.id] } } });
    expect(links.map((l) => [l.leadId, l.externalId])).toEqual([[survivor.leadId, survivor.id]]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await w.prisma.lead.count({ where: { orgId: w.orgId } })).toBe(leadsBefore);
  });
});
