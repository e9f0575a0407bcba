import { describe, expect, it } from "vitest";
import { OPERATION_COSTS, pipedriveBudget, pipedriveProvider } from "../src/index.js";
import { WaitingBudgetLimiter } from "./budget-limiter.js";
import { admin, connectedSandbox } from "./helpers.js";

describe("outbound burst within pipedriveBudget", () => {
  it("creates persons at the search window's pace with no 429 when the limiter follows the policy", async () => {
    const ctx = await connectedSandbox({}, { plan: "growth", seats: 3 });
    try {
      const limiter = new WaitingBudgetLimiter(pipedriveBudget("growth", 3, "api_token"));
      const client = pipedriveProvider.createClient({ ...ctx.context, limiter });
      const leads = 25;
      const started = Date.now();
      const results = await client.createContacts(Array.from({ length: leads }, (_, i) => ({ leadId: `l${i}`, email: `pace${i}@example.com`, properties: { first_name: `P${i}` } })));
      const seconds = (Date.now() - started) / 1000;
      expect(results.every((r) => r.ok)).toBe(true);
      const stats = (await admin<{ throttled: number; budget: { used: number } }>(ctx.sandbox, "GET", `/__sandbox/accounts/${ctx.account.accountId}/stats`)).body;
      expect(stats.throttled).toBe(0);
      expect(limiter.paused).toBe(0);
      // every create costs a search (40) and a create (10); searches are 10 per 2 s, so 25 take more than 4 s
      expect(limiter.tokensUsed).toBe(leads * (OPERATION_COSTS["persons search"] + OPERATION_COSTS["person create"]));
      expect(seconds).toBeGreaterThan(4);
    } finally {
      await ctx.sandbox.close();
    }
  }, 30_000);
});
