/**
 * A count per org over a rolling 24 h, in one-minute buckets: API requests (the daily allowance is per org, not per
 * user) and delivered change events (the CDC delivery allocation).
 */
const BUCKET_MS = 60_000;
const WINDOW_MS = 24 * 3_600_000;

export class ApiUsage {
  private readonly buckets: Array<{ start: number; count: number }> = [];
  /** added to the counted requests: lets tests start an org near its allowance */
  offset = 0;

  used(now = Date.now()): number {
    this.prune(now);
    return this.offset + this.buckets.reduce((sum, b) => sum + b.count, 0);
  }

  record(now = Date.now(), count = 1): void {
    const start = now - (now % BUCKET_MS);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) last.count += count;
    else this.buckets.push({ start, count });
  }

  /** sets the current usage to `value` (admin) */
  set(value: number, now = Date.now()): void {
    this.buckets.length = 0;
    this.offset = 0;
    this.offset = value - this.used(now);
  }

  private prune(now: number): void {
    while (this.buckets.length > 0 && (this.buckets[0] as { start: number }).start + BUCKET_MS <= now - WINDOW_MS) this.buckets.shift();
  }
}
