import type { AccountCallLimiter, RateLimit, RatePolicy } from "@leadsync/core";

/**
 * A one-process limiter that follows a `RatePolicy` by waiting (the shared Redis limiter delays jobs instead): its
 * rolling windows (in requests or cost) and daily limit, plus the operation's class limits. A small margin covers
 * the time between taking a slot and the request reaching Pipedrive.
 */
export class WaitingBudgetLimiter implements AccountCallLimiter {
  private readonly grants = new Map<string, { at: number; units: number }[]>();
  tokensUsed = 0;
  paused = 0;

  constructor(
    private readonly policy: RatePolicy,
    private readonly marginMs = 150,
  ) {}

  async acquire(operation: string, cost = 1): Promise<void> {
    const className = this.policy.classOf?.(operation);
    const classLimits = className === undefined ? [] : (this.policy.classes?.[className]?.limits ?? []);
    const limits: readonly RateLimit[] = [...this.policy.limits, ...classLimits];
    for (;;) {
      const now = Date.now();
      let waitMs = 0;
      for (const limit of limits) {
        const units = limit.counts === "requests" ? 1 : cost;
        const held = this.held(limit, now);
        const used = held.reduce((sum, g) => sum + g.units, 0);
        if (used + units <= limit.limit) continue;
        if (limit.kind === "daily") throw new Error(`${limit.name} spent`);
        waitMs = Math.max(waitMs, (held[0]?.at ?? now) + limit.windowMs + this.marginMs - now);
      }
      if (waitMs <= 0) {
        for (const limit of limits) this.held(limit, now).push({ at: now, units: limit.counts === "requests" ? 1 : cost });
        this.tokensUsed += cost;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, waitMs)));
    }
  }

  async observe(): Promise<void> {}

  async pause(): Promise<void> {
    this.paused++;
  }

  private held(limit: RateLimit, now: number): { at: number; units: number }[] {
    let list = this.grants.get(limit.name);
    if (!list) {
      list = [];
      this.grants.set(limit.name, list);
    }
    if (limit.kind === "rolling") while (list.length > 0 && (list[0]?.at ?? 0) <= now - limit.windowMs - this.marginMs) list.shift();
    return list;
  }
}
