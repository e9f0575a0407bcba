import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUES, createQueue, createRedisConnection, type TypedQueue } from "../../packages/queue/src/index.js";
import { eventually, startProviderWorld, type ProviderWorld } from "../providers/harness.js";
import { salesforceKitWithSandbox } from "./support/salesforce-kit.js";

/**
 * Salesforce refusing the pipeline (in-process harness: API, receiver, workers, the emulator's REST and Pub/Sub):
 * its daily allowance spent, an expired session, a revoked refresh token, an org whose user may not create the
 * marker field. Each is a clear error with a row in the integration's error log, and nothing is lost.
 * The scenarios run in order on one org; the revoked refresh token comes last (it ends the integration's access).
 */

const { kit, sandbox } = salesforceKitWithSandbox();
let w: ProviderWorld;
let outbound: TypedQueue<typeof QUEUES.crmOutbound>;
let redis: ReturnType<typeof createRedisConnection>;
/** Refresh-token grants the emulator answered (`grant_type=refresh_token`), successful or not. */
let refreshGrants = 0;

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const email = (tag: string) => `${tag}-${Date.now()}@sf-bad-input.example`;

beforeAll(async () => {
  w = await startProviderWorld(kit);
  // The first subscription reconciles once (changes between enabling the feed and its first event). It must be done
  // before the allowance is spent: a reconciliation waits out a rate limit in-process (hours), and would hold the
  // worker's shutdown as long.
  await eventually(async () => w.logs.some((l) => String(l.msg).startsWith("Reconciliation checked")), "the first subscription's reconciliation");
  const state = sandbox().state;
  const refresh = state.refresh.bind(state);
  state.refresh = (token) => {
    refreshGrants++;
    return refresh(token);
  };
  redis = createRedisConnection(w.config.redisUrl, { role: "worker", connectionName: "sf-bad-input" });
  outbound = createQueue(QUEUES.crmOutbound, { connection: redis, prefix: w.config.queuePrefix, logger: quiet });
}, 60_000);

afterAll(async () => {
  await outbound?.close();
  redis?.disconnect();
  await w?.close();
});

const errorRows = (code: string) => w.prisma.integrationError.findMany({ where: { integrationId: w.integrationId, code }, orderBy: { id: "asc" } });
const leadOf = (address: string) => w.prisma.lead.findFirst({ where: { orgId: w.orgId, email: address }, include: { links: true } });
const stats = async () => (await w.admin<{ throttled: number; apiUsage: number }>("GET", `/__sandbox/accounts/${w.accountId}/stats`)).json;

/** The org's state in the shared rate limiter (its pause, its rolling count): what a passing day would clear. */
async function forgetLimiterState(): Promise<number> {
  const pattern = `{${w.config.queuePrefix.replace(/[{}]/g, "")}:ratelimit:salesforce:${w.accountId}}*`;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
  return deleted;
}

describe("Salesforce bad input through the pipeline", () => {
  it("REQUEST_LIMIT_EXCEEDED: the push is delayed (not lost), a rate_limited_daily row says why, it goes out once the allowance is back", async () => {
    // The org's rolling 24 h allowance is spent: the next API call is refused.
    const before = await stats();
    expect((await w.admin("PATCH", `/__sandbox/accounts/${w.accountId}`, { dailyApiRequests: before.apiUsage })).status).toBe(200);
    const address = email("limit");
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Li", lastName: "Mit", company: "Quota" });
    expect(created.status).toBe(201);

    const [row] = await eventually(async () => {
      const rows = await errorRows("rate_limited_daily");
      return rows.length > 0 && rows;
    }, "the rate_limited_daily row");
    expect(row?.message).toMatch(/daily API limit/i);
    expect(row?.context).toMatchObject({ policy: expect.any(String), resetAt: expect.any(String) });
    expect((await stats()).throttled).toBeGreaterThan(before.throttled);
    // Delayed, not failed: the job waits in the delayed set for the allowance to come back.
    const delayed = await eventually(async () => {
      const jobs = await outbound.getDelayed();
      return jobs.length > 0 && jobs;
    }, "the delayed push");
    expect(await outbound.getFailedCount()).toBe(0);
    expect(await w.findRecords(address)).toEqual([]);
    expect(w.logs.some((l) => l.msg === "Salesforce answered REQUEST_LIMIT_EXCEEDED; pausing the org")).toBe(true);

    // The allowance comes back (the window rolled on): the same job, run now instead of in an hour, pushes the lead.
    await w.admin("PATCH", `/__sandbox/accounts/${w.accountId}`, { dailyApiRequests: 15_000 });
    expect(await forgetLimiterState()).toBeGreaterThan(0);
    for (const job of delayed) await job.promote();
    const [record] = await eventually(async () => {
      const found = await w.findRecords(address);
      return found.length > 0 && found;
    }, "the lead in Salesforce after the allowance is back");
    expect(record).toMatchObject({ email: address, marker: w.config.leadSourceMarker });
    await eventually(async () => (await leadOf(address))?.links[0]?.externalId === record?.id, "the lead's link");
    expect(await errorRows("rate_limited_daily")).toHaveLength(1);
  });

  it("an expired access token: one refresh, and work goes on both ways", async () => {
    const integrationBefore = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    const grantsBefore = refreshGrants;
    expect((await w.admin("POST", `/__sandbox/accounts/${w.accountId}/expire-access-token`)).status).toBe(204);

    // Platform → Salesforce: the push is refused INVALID_SESSION_ID, refreshed once, and goes through.
    const address = email("expired");
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Ex", lastName: "Pired", company: "Session" });
    expect(created.status).toBe(201);
    const [record] = await eventually(async () => {
      const found = await w.findRecords(address);
      return found.length > 0 && found;
    }, "the pushed lead in Salesforce");
    const link = await eventually(async () => (await leadOf(address))?.links[0], "the lead's link");
    expect(link.externalId).toBe(record?.id);
    // Salesforce → platform: a person's edit still arrives (the feed keeps or renews its session).
    await w.updateRecord(link.externalId, { jobTitle: "After Refresh" });
    await eventually(async () => (await leadOf(address))?.jobTitle === "After Refresh", "the person's edit on the lead");

    expect(refreshGrants - grantsBefore).toBe(1);
    const integration = await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } });
    expect(integration.status).toBe("active");
    expect(integration.accessTokenEnc).not.toBe(integrationBefore.accessTokenEnc);
    expect(await errorRows("auth_failed")).toEqual([]);
    expect(w.logs.filter((l) => l.msg === "Salesforce refused the session; refreshing the access token once").length).toBeGreaterThanOrEqual(1);
  });

  it("connecting an org whose user may not create the marker field: 422 naming what an admin must add, nothing stored", async () => {
    const account = await w.admin<{ accountId: string; connect: Record<string, unknown> }>("POST", "/__sandbox/accounts", { customizeApplication: false });
    expect(account.status).toBe(201);
    const integrationsBefore = await w.prisma.crmIntegration.count();
    const refused = await w.api<{ success: boolean; error: { code: string; message: string } }>("POST", "/api/v1/crm-integration", account.json.connect);
    expect(refused.status).toBe(422);
    expect(refused.json.success).toBe(false);
    expect(refused.json.error.code).toBe("marker_field_missing");
    // What the admin must add: the object, the API name, the type, and the permission that would let us do it.
    expect(refused.json.error.message).toMatch(/Lead_Source_System__c/);
    expect(refused.json.error.message).toMatch(/Object Manager → Lead/);
    expect(refused.json.error.message).toMatch(/Text.*255/);
    expect(refused.json.error.message).toMatch(/Customize Application/);
    expect(refused.json.error.message).not.toMatch(/00D[A-Za-z0-9]{12,15}!/); // no session id in the message
    expect(await w.prisma.crmIntegration.count()).toBe(integrationsBefore);
    expect(await w.prisma.crmIntegration.count({ where: { externalAccountId: account.json.accountId } })).toBe(0);
    // The Tooling call was refused: the org has no such field now either.
    expect([...(sandbox().state.orgs.get(account.json.accountId)?.customFields.keys() ?? [])]).toEqual([]);
  });

  it("a revoked refresh token: the integration becomes needs_reauth with one auth_failed row, and its jobs wait", async () => {
    expect((await w.admin("POST", `/__sandbox/accounts/${w.accountId}/revoke-refresh-token`)).status).toBe(204);
    const address = email("revoked");
    const created = await w.api<{ data: { id: string } }>("POST", "/api/v1/leads", { email: address, firstName: "Re", lastName: "Voked", company: "Reauth" });
    expect(created.status).toBe(201);

    await eventually(async () => (await w.prisma.crmIntegration.findUniqueOrThrow({ where: { id: w.integrationId } })).status === "needs_reauth", "needs_reauth");
    const [row, ...more] = await eventually(async () => {
      const rows = await errorRows("auth_failed");
      return rows.length > 0 && rows;
    }, "the auth_failed row");
    expect(row?.message).toMatch(/refresh token|connect .*again|re-?authori/i);
    // The push waits in the delayed set (no attempt used up, nothing failed), and nothing reached Salesforce.
    await eventually(async () => (await outbound.getDelayedCount()) > 0, "the waiting push");
    expect(await outbound.getFailedCount()).toBe(0);
    expect(await w.findRecords(address)).toEqual([]);
    // The feed stops too: a worker does not hold a subscription with a session it cannot renew.
    await eventually(async () => [...sandbox().state.subscriptions].every((s) => s.orgId !== w.accountId), "the feed closed");
    // Give any other caller of the refused refresh token (the feed) time to report it too: still one row.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(more).toEqual([]);
    expect(await errorRows("auth_failed")).toHaveLength(1);
    expect((await errorRows("auth_failed")).map((r) => r.message).join("\n")).not.toMatch(/5Aep861|00D[A-Za-z0-9]{12,15}!/); // no token in the log
  });
});
