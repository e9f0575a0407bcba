/**
 * The outbound batch window of each integration, grown while leads arrive steadily.
 *
 * One lead per job: at a steady arrival rate a fixed window closes batches of (rate × window) leads, e.g. ~25 at
 * 500 leads/s and 50 ms, and each costs one call of a budget of 10 calls per second (Starter). So a batch that closed
 * on its timer with more than one lead doubles the integration's next window (up to `maxMs`), until batches close
 * full (100 leads, one call's worth); a batch of a single lead means the stream is sparse, and the window drops back
 * to `baseMs`, so a lone lead waits no longer than before.
 */
export class GrowingBatchWindow {
  private readonly windows = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** The window of the integration's next batch. */
  windowMs = (groupKey: string): number => this.windows.get(groupKey) ?? this.baseMs;

  /** Adapts the next window to how the last batch closed. */
  closed = (groupKey: string, batch: { distinct: number; full: boolean }): void => {
    if (batch.full) return; // the window is long enough for this rate
    if (batch.distinct <= 1 || this.baseMs === 0) {
      this.windows.delete(groupKey);
      return;
    }
    this.windows.set(groupKey, Math.min(this.windowMs(groupKey) * 2, Math.max(this.maxMs, this.baseMs)));
  };
}
