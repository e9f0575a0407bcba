import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { isCrmRateLimited, type UpsertInput, type UpsertResult } from "@leadsync/core";
import { SharedRateLimiter } from "@leadsync/ratelimit";
import { pipedriveProvider } from "../src/index.js";
import { admin, connectedSandbox } from "./helpers.js";

const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

/** What the outbound worker does with a refusal: wait `retryAfterMs`, then send what was not written. */
async function createAll(create: (inputs: UpsertInput[]) => Promise<UpsertResult[]>, inputs: UpsertInput[]): Promise<{ results: Map<string, UpsertResult>; delays: number }> {
  const results = new Map<string, UpsertResult>();
  let pending = inputs;
  let delays = 0;
  while (pending.length > 0) {
    try {
      for (const result of await create(pending)) if (result.ok || !result.retryable) results.set(result.leadId, result);
      pending = pending.filter((input) => !results.has(input.leadId));
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    } catch (err) {
      if (!isCrmRateLimited(err)) throw err;
      delays++;
      await new Promise((resolve) => setTimeout(resolve, err.retryAfterMs));
    }
  }
  return { results, delays };
}

describe("with the shared Redis limiter (@leadsync/ratelimit) and limitPolicy", () => {
  it("an outbound burst on the smallest plan is delayed by our limiter, never refused by Pipedrive", async () => {
    const ctx = await connectedSandbox({}, { plan: "lite", seats: 1 });
    const redis = new Redis(REDIS_URL);
    const keyPrefix = `{test-${randomBytes(6).toString("hex")}}:ratelimit`;
    try {
      const integration = { ...ctx.context.integration, tier: "lite", state: { ...ctx.context.integration.state, seats: 1 } };
      const policy = pipedriveProvider.limitPolicy?.(integration);
      if (!policy) throw new Error("no limit policy");
      const limiter = new SharedRateLimiter({ redis, keyPrefix }).forAccount("pipedrive", integration.externalAccountId, policy);
      const client = pipedriveProvider.createClient({ ...ctx.context, integration, limiter });
      // connect's own calls are outside any integration's budget: let them leave Pipedrive's 2 s window first
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const inputs = Array.from({ length: 14 }, (_, i) => ({ leadId: `s${i}`, email: `shared${i}@example.com`, properties: { first_name: `S${i}` } }));
      const { results, delays } = await createAll((batch) => client.createContacts(batch), inputs);
      expect([...results.values()].every((r) => r.ok)).toBe(true);
      expect(delays).toBeGreaterThan(0); // search's 10 per 2 s (95 % of it) made our limiter refuse, not Pipedrive
      const stats = (await admin<{ throttled: number; persons: number; duplicateEmails: number }>(ctx.sandbox, "GET", `/__sandbox/accounts/${ctx.account.accountId}/stats`)).body;
      expect(stats).toMatchObject({ throttled: 0, persons: 14, duplicateEmails: 0 });
    } finally {
      const keys = await redis.keys(`{${keyPrefix.replace(/[{}]/g, "")}:*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await redis.quit();
      await ctx.sandbox.close();
    }
  }, 30_000);
});
