import { isCrmRateLimited, type CrmProviderClient } from "@leadsync/core";
import { SharedRateLimiter } from "@leadsync/ratelimit";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { uniqueQueuePrefix } from "../../../test/helpers/redis.js";
import { zohoProvider } from "../src/index.js";
import { admin, connectedAccount, type Connected } from "./helpers.js";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379");
const keyPrefix = `${uniqueQueuePrefix()}:ratelimit`;
afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${keyPrefix.replace(/[{}]/g, "")}:*`, "COUNT", 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
});

let setup: Connected | undefined;
afterEach(async () => {
  await setup?.sandbox.close();
  setup = undefined;
});

/** The client as the workers build it: the shared Redis limiter enforcing the module's policy. */
async function clientWithSharedLimiter(edition: "free" | "enterprise"): Promise<{ client: CrmProviderClient; s: Connected }> {
  setup = await connectedAccount({}, { edition, users: 1 }, `int-${edition}-${Date.now()}`);
  const policy = (zohoProvider.limitPolicy as NonNullable<typeof zohoProvider.limitPolicy>)(setup.integration);
  const limiter = new SharedRateLimiter({ redis, keyPrefix, margin: 1 }).forAccount("zoho", setup.integration.externalAccountId, policy);
  return { client: zohoProvider.createClient({ ...setup.context, limiter }), s: setup };
}

describe("with the shared limiter (@leadsync/ratelimit)", () => {
  it("keeps calls within the org's concurrency, so Zoho never answers 429 for it", async () => {
    const { client, s } = await clientWithSharedLimiter("free");
    await admin(s.sandbox, "POST", "/__sandbox/faults", { accountId: s.account.accountId, kind: "latency", ms: 200 });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => client.fetchContacts(["1"], ["Email"])));
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
    expect(refused).toHaveLength(3);
    expect(refused.every((o) => o.status === "rejected" && isCrmRateLimited(o.reason))).toBe(true);
    const stats = (await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/stats`)).body;
    expect(stats).toMatchObject({ throttled: 0, concurrency: { limit: 5, maxInFlight: 5 } });
  });

  it("corrects its credit count from X-API-CREDITS-REMAINING and stops before Zoho has to refuse", async () => {
    const { client, s } = await clientWithSharedLimiter("free");
    // other tools spent most of the org's 5,000 credits: Zoho's header says so on our next call
    await admin(s.sandbox, "PATCH", `/__sandbox/accounts/${s.account.accountId}`, { creditsUsed: 4_998 });
    await client.fetchContacts(["1"], ["Email"]);
    await client.fetchContacts(["1"], ["Email"]);
    const error = await client.fetchContacts(["1"], ["Email"]).catch((e: unknown) => e);
    expect(isCrmRateLimited(error)).toBe(true);
    expect(error).toMatchObject({ daily: true });
    const stats = (await admin(s.sandbox, "GET", `/__sandbox/accounts/${s.account.accountId}/stats`)).body;
    expect(stats.throttled).toBe(0);
    expect(stats.calls.byEndpoint["GET /crm/v8/Leads"]).toBe(2);
  });
});
