import type { AccountCallLimiter } from "@leadsync/core";
import type { PipedriveLimitPolicy, PipedriveOperation } from "../src/index.js";

/**
 * A one-process limiter that follows `pipedriveBudget`'s policy by waiting (the shared Redis limiter delays jobs
 * instead): rolling burst and search windows, and the daily token budget. A small margin covers the time between
 * taking a slot and the request reaching Pipedrive.
 */
export class WaitingBudgetLimiter implements AccountCallLimiter {
  private readonly burst: number[] = [];
  private readonly search: number[] = [];
  tokensUsed = 0;
  waitedMs = 0;
  paused = 0;

  constructor(
    private readonly policy: PipedriveLimitPolicy,
    private readonly marginMs = 150,
  ) {}

  async acquire(operation: string, cost = 1): Promise<void> {
    const { burst, search, daily } = this.policy.windows;
    const isSearch = (search.operations as string[]).includes(operation as PipedriveOperation);
    for (;;) {
      const now = Date.now();
      prune(this.burst, now - burst.windowMs - this.marginMs);
      prune(this.search, now - search.windowMs - this.marginMs);
      if (this.tokensUsed + cost > daily.limit) throw new Error("daily budget spent");
      const burstFree = this.burst.length < burst.limit;
      const searchFree = !isSearch || this.search.length < search.limit;
      if (burstFree && searchFree) {
        this.burst.push(now);
        if (isSearch) this.search.push(now);
        this.tokensUsed += cost;
        return;
      }
      const oldest = !burstFree ? (this.burst[0] as number) : (this.search[0] as number);
      const wait = Math.max(5, oldest + burst.windowMs + this.marginMs - now);
      this.waitedMs += wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async observe(): Promise<void> {}

  async pause(): Promise<void> {
    this.paused++;
  }
}

function prune(times: number[], cutoff: number): void {
  while (times.length > 0 && (times[0] as number) <= cutoff) times.shift();
}
