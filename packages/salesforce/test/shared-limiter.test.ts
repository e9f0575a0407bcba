import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCrmRateLimited } from "@leadsync/core";
import { SharedRateLimiter } from "@leadsync/ratelimit";
import { startSalesforceSandbox, type SalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { Redis } from "ioredis";
import { uniqueQueuePrefix } from "../../../test/helpers/redis.js";
import { salesforceProvider } from "../src/index.js";
import { admin, connectedSandbox, input } from "./sandbox-helpers.js";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379");
const keyPrefix = `${uniqueQueuePrefix()}:ratelimit`;
let sandbox: SalesforceSandbox;

beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ grpcPort: false });
});
afterAll(async () => {
  await sandbox.close();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${keyPrefix.replace(/[{}]/g, "")}:*`, "COUNT", 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
});

describe("the provider behind the shared Redis limiter (@leadsync/ratelimit) with its own policy", () => {
  it("spends the org's budget, hands concurrency slots back, and after REQUEST_LIMIT_EXCEEDED calls nothing until the pause ends", async () => {
    const connected = await connectedSandbox({}, sandbox);
    const policy = salesforceProvider.limitPolicy?.(connected.context.integration);
    if (!policy) throw new Error("no policy");
    const limiter = new SharedRateLimiter({ redis, keyPrefix, margin: 1 }).forAccount("salesforce", connected.connected.externalAccountId, policy);
    const client = salesforceProvider.createClient({ ...connected.context, limiter });

    // more calls than the 5 concurrency slots of a Developer Edition: each is handed back
    for (let n = 0; n < 4; n++) expect((await client.createContacts([input(9000 + n)]))[0]).toMatchObject({ ok: true });
    const usage = await limiter.usage();
    expect(usage.concurrency[0]).toMatchObject({ inFlight: 0, maxConcurrent: 5 });
    expect(usage.limits[0]?.used).toBeGreaterThanOrEqual(8);

    await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}`, { dailyApiRequests: 1, apiUsage: 1 });
    const refused = await client.fetchContacts(["00Q5g000000000zAAA"], ["Email"]).catch((e: unknown) => e);
    expect(isCrmRateLimited(refused)).toBe(true);
    const stats = async () => (await admin<{ calls: { total: number } }>(sandbox, "GET", `/__sandbox/accounts/${connected.account.accountId}/stats`)).body.calls.total;
    const before = await stats();
    // paused for every process: refused by the limiter, not by Salesforce
    const again = await client.fetchContacts(["00Q5g000000000zAAA"], ["Email"]).catch((e: unknown) => e);
    expect(isCrmRateLimited(again)).toBe(true);
    expect(await stats()).toBe(before);
    expect((await limiter.usage()).pausedForMs).toBeGreaterThan(0);
  });
});
