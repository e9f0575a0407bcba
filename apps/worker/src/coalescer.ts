/**
 * Gathers work items from many concurrent jobs into one batch per group (a portal, an integration), so N jobs
 * cost a few provider calls and one database transaction instead of N.
 *
 * A batch is flushed when its window elapses or when it holds `maxDistinct` distinct items. A job's items may span two batches; `add` settles when all of its items have been handled.
 * A group's batches run one after another: two batches of one portal may hold the same contact, and applying
 * them side by side would race on the same leads. With `overlapKeys`, a batch that shares no key with the group's
 * unfinished batches runs alongside them (its flush must cope with concurrent ones, e.g. by row locks and retrying a
 * lost race); a batch that shares a key waits for every earlier batch of its group.
 */

/** Per-item failures of one flush; items absent from the map succeeded. */
export type FlushFailures<Item> = ReadonlyMap<Item, Error>;

export type FlushFn<Item> = (groupKey: string, items: readonly Item[]) => Promise<FlushFailures<Item>>;

export interface CoalescerOptions<Item> {
  /** How long a group's new batch stays open; a function may adapt it per group (see `onBatchClosed`). */
  windowMs: number | ((groupKey: string) => number);
  /** Told how each batch closed (how many distinct items, whether it was full), e.g. to adapt the next window. */
  onBatchClosed?: (groupKey: string, batch: { distinct: number; full: boolean }) => void;
  maxDistinct: number;
  /** Items with the same distinct key count once towards `maxDistinct` (e.g. events of one contact). */
  distinctKey: (item: Item) => string;
  /**
   * Every key an item may touch (e.g. each contact an event names). When set, a batch whose keys are disjoint from
   * those of the group's unfinished batches runs alongside them. Otherwise batches run in turn.
   */
  overlapKeys?: (item: Item) => readonly string[];
  flush: FlushFn<Item>;
}

interface PendingItem<Item> {
  item: Item;
  settle: (error: Error | undefined) => void;
}

interface OpenBatch<Item> {
  items: PendingItem<Item>[];
  distinct: Set<string>;
  timer: NodeJS.Timeout;
}

export class Coalescer<Item> {
  private readonly open = new Map<string, OpenBatch<Item>>();
  private readonly inFlight = new Set<Promise<void>>();
  /** The last flush started per group; the next one of that group waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Per group, the keys of each unfinished flush (only with `overlapKeys`). */
  private readonly activeKeys = new Map<string, Set<ReadonlySet<string>>>();

  constructor(private readonly options: CoalescerOptions<Item>) {}

  /** Resolves when every item was handled; rejects with the first item's error otherwise. */
  async add(groupKey: string, items: readonly Item[]): Promise<void> {
    const outcomes = items.map((item) => new Promise<Error | undefined>((settle) => this.enqueue(groupKey, { item, settle })));
    const firstError = (await Promise.all(outcomes)).find((e) => e !== undefined);
    if (firstError) throw firstError;
  }

  /** Flushes every open batch now and waits for all flushes (used on shutdown). */
  async drain(): Promise<void> {
    for (const key of [...this.open.keys()]) this.flushGroup(key);
    await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(groupKey: string, pending: PendingItem<Item>): void {
    const key = this.options.distinctKey(pending.item);
    let batch = this.open.get(groupKey);
    if (batch && !batch.distinct.has(key) && batch.distinct.size >= this.options.maxDistinct) {
      this.flushGroup(groupKey);
      batch = undefined;
    }
    if (!batch) {
      const { windowMs } = this.options;
      const delay = typeof windowMs === "function" ? windowMs(groupKey) : windowMs;
      batch = { items: [], distinct: new Set(), timer: setTimeout(() => this.flushGroup(groupKey), delay) };
      this.open.set(groupKey, batch);
    }
    batch.items.push(pending);
    batch.distinct.add(key);
    if (batch.distinct.size >= this.options.maxDistinct) this.flushGroup(groupKey);
  }

  private flushGroup(groupKey: string): void {
    const batch = this.open.get(groupKey);
    if (!batch) return;
    this.open.delete(groupKey);
    clearTimeout(batch.timer);
    this.options.onBatchClosed?.(groupKey, { distinct: batch.distinct.size, full: batch.distinct.size >= this.options.maxDistinct });
    const previous = this.tails.get(groupKey) ?? Promise.resolve();
    const keys = this.options.overlapKeys ? new Set(batch.items.flatMap((p) => this.options.overlapKeys?.(p.item) ?? [])) : undefined;
    const active = this.activeKeys.get(groupKey) ?? new Set<ReadonlySet<string>>();
    const early = keys !== undefined && [...active].every((other) => ![...keys].some((key) => other.has(key)));
    // An early flush still counts as finished only after the earlier ones: a later batch that must wait follows both.
    const run = early ? this.runFlush(groupKey, batch.items).then(() => previous) : previous.then(() => this.runFlush(groupKey, batch.items));
    if (keys) {
      active.add(keys);
      this.activeKeys.set(groupKey, active);
    }
    this.tails.set(groupKey, run);
    this.inFlight.add(run);
    void run.finally(() => {
      this.inFlight.delete(run);
      if (this.tails.get(groupKey) === run) this.tails.delete(groupKey);
      if (keys) {
        active.delete(keys);
        if (active.size === 0 && this.activeKeys.get(groupKey) === active) this.activeKeys.delete(groupKey);
      }
    });
  }

  private async runFlush(groupKey: string, pending: PendingItem<Item>[]): Promise<void> {
    try {
      const failures = await this.options.flush(
        groupKey,
        pending.map((p) => p.item),
      );
      for (const p of pending) p.settle(failures.get(p.item));
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      for (const p of pending) p.settle(err);
    }
  }
}
