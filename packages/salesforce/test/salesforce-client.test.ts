import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCrmRateLimited, isCrmReauthRequired, type CrmProviderClient } from "@leadsync/core";
import type { SalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { startSalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { PLACEHOLDER, salesforceProvider } from "../src/index.js";
import { admin, connectedSandbox, input, MARKER, recordsByEmail, seedLeads, type Connected } from "./sandbox-helpers.js";

let sandbox: SalesforceSandbox;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ grpcPort: false });
});
afterAll(async () => {
  await sandbox.close();
});

async function setup(): Promise<Connected & { client: CrmProviderClient }> {
  const connected = await connectedSandbox({}, sandbox);
  return { ...connected, client: salesforceProvider.createClient(connected.context) };
}

describe("Salesforce client against the emulator (jsforce over HTTP)", () => {
  it("creates leads with the marker and placeholders for missing required fields, and reads placeholders as empty", async () => {
    const { client, account } = await setup();
    const [result] = await client.createContacts([{ leadId: "l1", email: "Ada@Example.com", properties: { FirstName: "Ada", lead_source_system: MARKER } }]);
    expect(result).toMatchObject({ ok: true, created: true });
    const [stored] = await recordsByEmail(sandbox, account.accountId, "ada@example.com");
    expect(stored).toMatchObject({ FirstName: "Ada", LastName: PLACEHOLDER, Company: PLACEHOLDER, Lead_Source_System__c: MARKER });

    const [read] = await client.fetchContacts([(result as { externalId: string }).externalId], ["Email", "FirstName", "LastName", "Company", "lead_source_system"]);
    expect(read?.properties).toEqual({ Email: "ada@example.com", FirstName: "Ada", LastName: null, Company: null, lead_source_system: MARKER });
  });

  it("links an email the org already has (a person's lead) without writing to it or claiming its origin", async () => {
    const { client, account } = await setup();
    const [existing] = await seedLeads(sandbox, account.accountId, [{ LastName: "Hopper", Company: "Navy", Email: "grace@example.com" }]);
    const [result] = await client.createContacts([{ leadId: "l2", email: "grace@example.com", properties: { LastName: "Other", Company: "Else", lead_source_system: MARKER } }]);
    expect(result).toMatchObject({ ok: false, existingId: existing, retryable: false });
    const stored = await recordsByEmail(sandbox, account.accountId, "grace@example.com");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ LastName: "Hopper", Company: "Navy", Lead_Source_System__c: null });
  });

  it("refuses to pick between several Leads with one email, naming them", async () => {
    const { client, account } = await setup();
    const ids = await seedLeads(sandbox, account.accountId, [
      { LastName: "Twin", Company: "A", Email: "same@example.com" },
      { LastName: "Twin", Company: "B", Email: "same@example.com" },
    ]);
    const [created] = await client.createContacts([{ leadId: "s", email: "same@example.com", properties: { LastName: "X" } }]);
    expect(created).toMatchObject({ ok: false, retryable: false });
    expect(created).not.toHaveProperty("existingId");
    for (const id of ids) expect((created as { message: string }).message).toContain(id);
    const [upserted] = await client.upsertContacts([{ leadId: "s", email: "same@example.com", properties: { Title: "X" } }]);
    expect(upserted).toMatchObject({ ok: false, retryable: false });
    expect(await recordsByEmail(sandbox, account.accountId, "same@example.com")).toHaveLength(2);
  });

  it("takes a duplicate rule's match (DUPLICATES_DETECTED) as the existing record to link to", async () => {
    const { client, account } = await setup();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { duplicateRule: true });
    // the same new email twice in one batch: the lookup cannot know; the org's duplicate rule does
    const results = await client.createContacts([
      { leadId: "x1", email: "twin@example.com", properties: { LastName: "One" } },
      { leadId: "x2", email: "twin@example.com", properties: { LastName: "Two" } },
    ]);
    expect(results[0]).toMatchObject({ ok: true });
    expect(results[1]).toMatchObject({ ok: false, retryable: false, existingId: (results[0] as { externalId: string }).externalId, message: expect.stringContaining("DUPLICATES_DETECTED") as string });
  });

  it("enables the change feed: the LeadChangeEvent channel, nothing pushed to us", async () => {
    const { context } = await setup();
    const feed = await salesforceProvider.enableChangeFeed(context, { webhookUrl: "https://ignored.example", webhookSecret: "s" });
    expect(feed.subscriptions).toEqual([{ id: "/data/LeadChangeEvent", eventType: "LeadChangeEvent", active: true }]);
    expect(feed.webhookUrl).toBeNull();
    expect(feed.state).toMatchObject({ changeFeed: { selectionVerified: true } });
  });

  it("selects Lead for Change Data Capture where it is off, or says what to select in Setup", async () => {
    const { context, account } = await setup();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { cdcEntities: [] });
    await salesforceProvider.enableChangeFeed(context, { webhookUrl: null, webhookSecret: "s" });
    const settings = await admin<{ settings: { cdcEntities: string[] } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}`);
    expect(settings.body.settings.cdcEntities).toEqual(["Lead"]);

    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { cdcEntities: [], customizeApplication: false });
    const error = await salesforceProvider.enableChangeFeed(context, { webhookUrl: null, webhookSecret: "s" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "change_feed_not_enabled", status: 422 });
    expect((error as Error).message).toMatch(/Change Data Capture.*Lead/);
  });

  it("writes 200 records in one collections call; a bad record in the middle fails alone", async () => {
    const { client, limiter } = await setup();
    const inputs = Array.from({ length: 200 }, (_, n) => input(n, n === 100 ? { Title: "x".repeat(200) } : {}));
    const before = limiter.acquired.length;
    const results = await client.createContacts(inputs);
    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.ok)).toHaveLength(199);
    expect(results[100]).toMatchObject({ leadId: "lead-100", ok: false, retryable: false, message: expect.stringContaining("STRING_TOO_LONG") as string });
    expect(results.map((r) => r.leadId)).toEqual(inputs.map((i) => i.leadId));
    // one email lookup, one create
    expect(limiter.acquired.length - before).toBe(2);
    expect(limiter.released.length).toBe(limiter.acquired.length);
  });

  it("splits 250 records into two calls of 200 and 50", async () => {
    const { client, limiter } = await setup();
    const before = limiter.acquired.length;
    const results = await client.createContacts(Array.from({ length: 250 }, (_, n) => input(1000 + n)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(limiter.acquired.slice(before)).toEqual(["lead lookup by email", "lead create", "lead lookup by email", "lead create"]);
  });

  it("updates only what it is given, never a placeholder over a person's value, and fails an unknown id alone", async () => {
    const { client, account } = await setup();
    const [id] = await seedLeads(sandbox, account.accountId, [{ LastName: "Lamarr", Company: "MGM", Email: "hedy@example.com" }]);
    const results = await client.updateContacts([
      { leadId: "a", externalId: id as string, properties: { LastName: PLACEHOLDER, Company: "", Title: "Inventor" } },
      { leadId: "b", externalId: "00Q5g000000000zAAA", properties: { Title: "x" } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, externalId: id, created: false });
    expect(results[1]).toMatchObject({ ok: false, retryable: false });
    const [stored] = await recordsByEmail(sandbox, account.accountId, "hedy@example.com");
    expect(stored).toMatchObject({ LastName: "Lamarr", Company: "MGM", Title: "Inventor" });
  });

  it("upserts by email: updates the existing lead without the marker, creates the rest with it", async () => {
    const { client, account } = await setup();
    const [id] = await seedLeads(sandbox, account.accountId, [{ LastName: "Curie", Company: "Sorbonne", Email: "marie@example.com" }]);
    const results = await client.upsertContacts([
      { leadId: "m", email: "MARIE@example.com", properties: { Title: "Physicist", lead_source_system: MARKER } },
      { leadId: "n", email: "new@example.com", properties: { LastName: "New", lead_source_system: MARKER } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, externalId: id, created: false });
    expect(results[1]).toMatchObject({ ok: true, created: true });
    expect((await recordsByEmail(sandbox, account.accountId, "marie@example.com"))[0]).toMatchObject({ Title: "Physicist", Lead_Source_System__c: null });
    expect((await recordsByEmail(sandbox, account.accountId, "new@example.com"))[0]).toMatchObject({ Company: PLACEHOLDER, Lead_Source_System__c: MARKER });

    // one email twice in a batch: one record, both inputs share its result
    const twice = await client.upsertContacts([
      { leadId: "p", email: "pair@example.com", properties: { LastName: "First" } },
      { leadId: "q", email: "PAIR@example.com", properties: { LastName: "Second", Title: "Later" } },
    ]);
    expect(twice.map((r) => r.leadId)).toEqual(["p", "q"]);
    expect((twice[0] as { externalId: string }).externalId).toBe((twice[1] as { externalId: string }).externalId);
    expect(await recordsByEmail(sandbox, account.accountId, "pair@example.com")).toMatchObject([{ LastName: "Second", Title: "Later" }]);
  });

  it("reads a converted lead's values from its Contact and keeps the lead's id", async () => {
    const { client, account } = await setup();
    const [id] = await seedLeads(sandbox, account.accountId, [{ FirstName: "Alan", LastName: "Turing", Company: "Bletchley", Email: "alan@example.com" }]);
    const converted = await admin<{ contactId: string }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records/${id}/convert`);
    expect(converted.status).toBe(200);
    const [read] = await client.fetchContacts([id as string], ["Email", "FirstName", "LastName", "Company"]);
    expect(read).toMatchObject({ id, properties: { Email: "alan@example.com", FirstName: "Alan", LastName: "Turing", Company: "Bletchley" } });
  });

  it("follows an update the converted lead refuses to its Contact", async () => {
    const { client, account } = await setup();
    const [id] = await seedLeads(sandbox, account.accountId, [{ LastName: "Noether", Company: "Göttingen", Email: "emmy@example.com" }]);
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records/${id}/convert`);
    const before = (await admin<{ calls: { byEndpoint: Record<string, number> } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.byEndpoint;
    const [result] = await client.updateContacts([{ leadId: "e", externalId: id as string, properties: { Title: "Professor" } }]);
    const after = (await admin<{ calls: { byEndpoint: Record<string, number> } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.byEndpoint;
    const patches = (counts: Record<string, number>) => counts["PATCH /services/data/:version/composite/sobjects"] ?? 0;
    // the lead refused (CANNOT_UPDATE_CONVERTED_LEAD), the lead was looked up, the Contact was written to
    expect(patches(after) - patches(before)).toBe(2);
    // the link keeps the lead's id, and reads follow to the Contact
    expect(result).toMatchObject({ leadId: "e", ok: true, externalId: id, created: false });
    const [read] = await client.fetchContacts([id as string], ["Title", "LastName"]);
    expect(read?.properties).toEqual({ Title: "Professor", LastName: "Noether" });
  });

  it("drops a mapped field the org does not have instead of failing every read", async () => {
    const { client, account, limiter } = await setup();
    const [id] = await seedLeads(sandbox, account.accountId, [{ LastName: "Typo", Company: "C", Email: "typo@example.com" }]);
    const [read] = await client.fetchContacts([id as string], ["Email", "Job_Title_Typo__c"]);
    expect(read?.properties).toEqual({ Email: "typo@example.com" });
    expect(limiter.acquired.filter((op) => op === "lead describe")).toHaveLength(1);
    const page = await client.listContactsAfter(undefined, ["Email", "Job_Title_Typo__c"]);
    expect(page.contacts[0]?.properties).toEqual({ Email: "typo@example.com" });
    // the describe is remembered
    expect(limiter.acquired.filter((op) => op === "lead describe")).toHaveLength(1);
    expect(await client.listFieldNames()).toEqual(expect.arrayContaining(["Email", "LastName", "Company", "Lead_Source_System__c"]));
  });

  it("throws a 503 as retryable after one call: no retries behind the limiter's back", async () => {
    const { client, account, limiter } = await setup();
    const stats = async () => (await admin<{ calls: { total: number } }>(sandbox, "GET", `/__sandbox/accounts/${account.accountId}/stats`)).body.calls.total;
    await admin(sandbox, "POST", "/__sandbox/faults", { accountId: account.accountId, kind: "error", status: 503, count: 1 });
    const before = await stats();
    const acquired = limiter.acquired.length;
    const error = await client.listContactsAfter(undefined, ["Email"]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SalesforceApiError", retryable: true, errorCode: "SERVER_UNAVAILABLE" });
    expect(await stats()).toBe(before + 1);
    expect(limiter.acquired.length - acquired).toBe(1);
  });

  it("feeds Sforce-Limit-Info to the limiter as the daily window", async () => {
    const { client, limiter } = await setup();
    await client.fetchContacts(["00Q5g000000000zAAA"], ["Email"]);
    const last = limiter.observed.at(-1);
    expect(last).toMatchObject({ window: "daily", limit: 15_000 });
    expect(last?.used).toBeGreaterThan(0);
  });

  it("refreshes once on INVALID_SESSION_ID and retries; a refused refresh needs re-authorisation", async () => {
    const { client, account, refreshes } = await setup();
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/expire-access-token`);
    await expect(client.fetchContacts(["00Q5g000000000zAAA"], ["Email"])).resolves.toEqual([]);
    expect(refreshes.count).toBe(1);

    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/revoke-refresh-token`);
    await admin(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/expire-access-token`);
    const error = await client.fetchContacts(["00Q5g000000000zAAA"], ["Email"]).catch((e: unknown) => e);
    expect(isCrmReauthRequired(error)).toBe(true);
    expect(refreshes.count).toBe(2);
  });

  it("fails after one refresh when the new token is refused too", async () => {
    const connected = await connectedSandbox({}, sandbox);
    const stale = connected.tokens.current.accessToken;
    let calls = 0;
    const client = salesforceProvider.createClient({
      ...connected.context,
      async getAccessToken() {
        calls++;
        return stale;
      },
    });
    await admin(sandbox, "POST", `/__sandbox/accounts/${connected.account.accountId}/expire-access-token`);
    const error = await client.fetchContacts(["00Q5g000000000zAAA"], ["Email"]).catch((e: unknown) => e);
    expect(isCrmReauthRequired(error)).toBe(true);
    expect(calls).toBe(2);
  });

  it("REQUEST_LIMIT_EXCEEDED pauses the org and throws CrmRateLimitedError (daily for TotalRequests)", async () => {
    const { client, account, limiter } = await setup();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${account.accountId}`, { dailyApiRequests: 10, apiUsage: 10 });
    const error = await client.createContacts([input(1)]).catch((e: unknown) => e);
    expect(isCrmRateLimited(error)).toBe(true);
    expect(error).toMatchObject({ daily: true, policy: "TotalRequests" });
    expect(limiter.pauses).toHaveLength(1);
    expect(limiter.released.length).toBe(limiter.acquired.length);
  });

  it("pages reconciliation by SystemModstamp through nextRecordsUrl, and survives an expired locator", async () => {
    const { client, account } = await setup();
    const since = Date.now() - 1000;
    const ids = await seedLeads(sandbox, account.accountId, Array.from({ length: 450 }, (_, n) => ({ LastName: `L${n}`, Company: "C", Email: `r${n}@example.com` })));
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await client.listContactsModifiedSince(since, after, ["Email"]);
      seen.push(...page.contacts.map((c) => c.id));
      after = page.after;
      pages++;
      // An expired locator on the second page: the run resumes after the last record read.
      if (pages === 1 && after) {
        const cursor = JSON.parse(Buffer.from(after, "base64url").toString()) as { u: string };
        cursor.u = cursor.u.replace(/query\/[^/]+-(\d+)$/, "query/01g5g0000000000AAA-$1");
        after = Buffer.from(JSON.stringify(cursor)).toString("base64url");
      }
    } while (after);
    // 200 + 200 + 50, plus at most one page the restart spends re-reading the last second before the key
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(pages).toBeLessThanOrEqual(5);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(450);
  });

  it("backfills by id order, page by page", async () => {
    const { client, account } = await setup();
    const ids = await seedLeads(sandbox, account.accountId, Array.from({ length: 5 }, (_, n) => ({ LastName: `B${n}`, Company: "C", Email: `b${n}@example.com` })));
    const first = await client.listContactsAfter(undefined, ["Email"], 3);
    expect(first.contacts).toHaveLength(3);
    const second = await client.listContactsAfter(first.after, ["Email"], 3);
    expect([...first.contacts, ...second.contacts].map((c) => c.id)).toEqual(ids);
    expect(second.after).toBeUndefined();
  });
});
