import { CrmRateLimitedError, CrmReauthRequiredError, type CrmProviderClient } from "@leadsync/core";
import { afterEach, describe, expect, it } from "vitest";
import { PLACEHOLDER, zohoProvider } from "../src/index.js";
import { admin, connectedAccount, MARKER, type Connected } from "./helpers.js";

let setup: Connected | undefined;
afterEach(async () => {
  await setup?.sandbox.close();
  setup = undefined;
});

async function clientFor(...args: Parameters<typeof connectedAccount>): Promise<{ client: CrmProviderClient; s: Connected }> {
  setup = await connectedAccount(...args);
  return { client: zohoProvider.createClient(setup.context), s: setup };
}

const records = async (s: Connected, email: string) => (await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/records?email=${encodeURIComponent(email)}`)).body.data;

describe("Zoho Leads client", () => {
  it("creates with the marker and placeholders; a taken email comes back as existingId without touching that record", async () => {
    const { client, s } = await clientFor();
    expect(client.limits.maxBatchSize).toBe(100);
    expect(client.markerField).toBe("Lead_Source_System");
    const person = await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "Person", Company: "Their Co", Email: "taken@example.com" }] });
    const existingId = person.body.ids[0] as string;

    const results = await client.createContacts([
      { leadId: "l1", email: "New@Example.com", properties: { First_Name: "Ann" } },
      { leadId: "l2", email: "taken@example.com", properties: { Last_Name: "Ours", Company: "Our Co" } },
      { leadId: "l3", email: "full@example.com", properties: { Last_Name: "Full", Company: "Full Co" } },
    ]);
    expect(results[0]).toMatchObject({ leadId: "l1", ok: true, created: true });
    expect(results[1]).toMatchObject({ leadId: "l2", ok: false, retryable: false, existingId });
    expect(results[2]).toMatchObject({ leadId: "l3", ok: true });
    expect(results[0]?.ok && results[0].properties["Modified_By"]).toBe(s.account.apiUser.id);
    expect(results[0]?.ok && results[0].properties["Modified_Time"]).toMatch(/\+00:00$/);

    const [created] = await records(s, "new@example.com");
    expect(created).toMatchObject({ Email: "new@example.com", First_Name: "Ann", Last_Name: PLACEHOLDER, Company: PLACEHOLDER, Lead_Source_System: MARKER });
    const [existing] = await records(s, "taken@example.com");
    expect(existing).toMatchObject({ id: existingId, Last_Name: "Person", Company: "Their Co", Lead_Source_System: null });
    expect(s.limiter.acquisitions).toContainEqual({ operation: "leads insert", cost: 1 });
    expect(s.limiter.releases).toHaveLength(s.limiter.acquisitions.length);
  });

  it("never writes a placeholder over a person's value: updates and upserts of leads without names keep them", async () => {
    const { client, s } = await clientFor();
    const person = await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, { records: [{ Last_Name: "Person", Company: "Their Co", Email: "p@example.com" }] });
    const id = person.body.ids[0] as string;
    const updated = await client.updateContacts([
      { leadId: "l1", externalId: id, properties: { Phone: "+1 555", Last_Name: PLACEHOLDER, Company: "" } },
      { leadId: "l2", externalId: "424242", properties: { Phone: "1" } },
    ]);
    expect(updated[0]).toMatchObject({ ok: true, externalId: id, created: false });
    expect(updated[1]).toMatchObject({ ok: false, retryable: false });
    expect((await records(s, "p@example.com"))[0]).toMatchObject({ Last_Name: "Person", Company: "Their Co", Phone: "+1 555" });

    const upserted = await client.upsertContacts([
      { leadId: "u1", email: "p@example.com", properties: { First_Name: "Pat" } },
      { leadId: "u2", email: "fresh@example.com", properties: { First_Name: "Fresh" } },
      { leadId: "u3", email: "whole@example.com", properties: { Last_Name: "Whole", Company: "W" } },
      { leadId: "u4", email: "p@example.com", properties: { Last_Name: "Complete", Company: "Their Co" } },
      { leadId: "u5", email: "marked@example.com", properties: { Last_Name: "M", Company: "M", Lead_Source_System: MARKER } },
    ]);
    expect(upserted.map((r) => r.ok && r.created)).toEqual([false, true, true, false, true]);
    expect(s.limiter.acquisitions.filter((a) => a.operation === "leads upsert")).toHaveLength(1); // only u5 needs nothing added
    expect(upserted[0]).toMatchObject({ ok: true, externalId: id });
    expect((await records(s, "p@example.com"))[0]).toMatchObject({ Last_Name: "Complete", First_Name: "Pat", Company: "Their Co", Lead_Source_System: null });
    expect((await records(s, "fresh@example.com"))[0]).toMatchObject({ Last_Name: PLACEHOLDER, Lead_Source_System: MARKER });
    expect((await records(s, "whole@example.com"))[0]).toMatchObject({ Last_Name: "Whole", Lead_Source_System: MARKER });
    expect((await records(s, "marked@example.com"))[0]).toMatchObject({ Lead_Source_System: MARKER });
  });

  it("lists the Leads fields' api_names", async () => {
    const { client } = await clientFor();
    expect(await client.listFieldNames()).toEqual(expect.arrayContaining(["Email", "Last_Name", "Company", "Designation", "Lead_Source_System"]));
  });

  it("reads by ids in calls of 100, lists after an id and since a time with paging", async () => {
    const { client, s } = await clientFor();
    const seeded = await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/records`, {
      records: Array.from({ length: 250 }, (_, i) => ({ Last_Name: `L${i}`, Company: "C", Email: `r${i}@example.com` })),
    });
    const ids = seeded.body.ids as string[];
    const fetched = await client.fetchContacts([...ids.slice(0, 150), "999"], ["Email", "Last_Name"]);
    expect(fetched).toHaveLength(150);
    expect(fetched[0]?.properties).toMatchObject({ Email: "r0@example.com", Last_Name: "L0", Modified_By: s.account.person.id, Lead_Source_System: null });
    expect(fetched[0]?.updatedAt).toBeGreaterThan(Date.now() - 10_000);
    expect(s.limiter.acquisitions.filter((a) => a.operation === "leads read")).toHaveLength(2);

    const listed: string[] = [];
    let after: string | undefined;
    const totals: (number | undefined)[] = [];
    do {
      const page = await client.listContactsAfter(after, ["Email"], 100);
      listed.push(...page.contacts.map((c) => c.id));
      totals.push(page.total);
      after = page.after;
    } while (after);
    expect(listed).toEqual([...ids].sort());
    expect(totals).toEqual([250, undefined, undefined]);

    const since = Date.now() - 60_000;
    const modified: string[] = [];
    after = undefined;
    do {
      const page = await client.listContactsModifiedSince(since, after, ["Email"]);
      modified.push(...page.contacts.map((c) => c.id));
      after = page.after;
    } while (after);
    expect(modified).toHaveLength(250);
    expect((await client.listContactsModifiedSince(Date.now() + 5_000, undefined, ["Email"])).contacts).toEqual([]);
  });

  it("429 → CrmRateLimitedError and a pause of the org; X-API-CREDITS-REMAINING corrects the limiter", async () => {
    const { client, s } = await clientFor({}, { edition: "free" });
    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { creditsUsed: 4_000 });
    await client.fetchContacts(["1"], ["Email"]);
    expect(s.limiter.observed.at(-1)).toEqual({ window: "credits", remaining: 999 });
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "rate_limit", count: 1 });
    const error = await client.fetchContacts(["1"], ["Email"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect(error).toMatchObject({ daily: false, policy: "TOO_MANY_REQUESTS" });
    expect(s.limiter.pauses).toHaveLength(1);

    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { creditsUsed: 4_999 });
    await client.fetchContacts(["1"], ["Email"]);
    const spent = await client.fetchContacts(["1"], ["Email"]).catch((e: unknown) => e);
    expect(spent).toMatchObject({ daily: true });
    expect((s.limiter.pauses.at(-1)?.ms ?? 0) >= 60 * 60_000).toBe(true);
  });

  it("INVALID_TOKEN → one forced refresh and a retry; refused again → CrmReauthRequiredError", async () => {
    const { client, s } = await clientFor();
    await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/expire-access-tokens`);
    expect(await client.fetchContacts(["1"], ["Email"])).toEqual([]);
    expect(s.refreshes()).toBe(1);

    // the customer revoked the app: the one refresh is refused for good → needs_reauth
    await admin(s.sandbox, "POST", `/__sandbox/accounts/${s.account.accountId}/revoke-refresh-tokens`);
    await expect(client.fetchContacts(["1"], ["Email"])).rejects.toBeInstanceOf(CrmReauthRequiredError);
    expect(s.refreshes()).toBe(2);

    // a token source that keeps handing out a dead token: one refresh, then re-consent is needed
    const stale = zohoProvider.createClient({ ...s.context, getAccessToken: async () => "1000.dead.token" });
    await expect(stale.fetchContacts(["1"], ["Email"])).rejects.toBeInstanceOf(CrmReauthRequiredError);
  });

  it("a transient failure before anything was written throws; after a written chunk the rest come back retryable", async () => {
    const { client, s } = await clientFor();
    const inputs = Array.from({ length: 150 }, (_, i) => ({ leadId: `l${i}`, email: `b${i}@example.com`, properties: { Last_Name: "B", Company: "C" } }));
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "error", status: 503, count: 1 });
    await expect(client.createContacts(inputs)).rejects.toMatchObject({ status: 503 });
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "error", status: 503, count: 1, skip: 1 });
    const results = await client.createContacts(inputs);
    expect(results.slice(0, 100).every((r) => r.ok)).toBe(true);
    expect(results.slice(100).every((r) => !r.ok && r.retryable)).toBe(true);
    expect(s.limiter.acquisitions.filter((a) => a.operation === "leads insert").map((a) => a.cost)).toEqual([10, 10, 5]);
  });

  it("a request Zoho refuses as a whole (4xx without per-record results) fails each of its inputs, not retryable", async () => {
    const { client, s } = await clientFor();
    await admin(s.sandbox, "POST", "/__sandbox/faults", { kind: "error", status: 400, count: 1 });
    const results = await client.createContacts([
      { leadId: "a", email: "a@example.com", properties: {} },
      { leadId: "b", email: "b@example.com", properties: {} },
    ]);
    expect(results).toEqual([
      expect.objectContaining({ leadId: "a", ok: false, retryable: false }),
      expect.objectContaining({ leadId: "b", ok: false, retryable: false }),
    ]);
  });
});
