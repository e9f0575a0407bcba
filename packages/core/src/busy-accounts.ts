/**
 * Tells apart the CRM accounts (or integrations) that are sending far more work than the others right now, so their
 * jobs go to a bulk lane of their queue while everyone else's stay in the normal lane: a 20,000-event burst from one
 * portal then waits behind itself, not in front of a thousand quiet portals' single events.
 *
 * The count is a sliding window (the previous window's count weighted by how much of it still overlaps), per process:
 * each receiver sees its share of a burst, which crosses the threshold just as surely. Memory is bounded: at most
 * `maxTracked` keys, the least recently seen dropped first.
 */
export type WorkLane = "normal" | "bulk";

export interface BusyAccountsOptions {
  /** The window the threshold counts over (ms). Default 10 s. */
  windowMs?: number;
  /** Units (events, leads) per window above which an account's work goes to the bulk lane. Default 200 (20 a second). */
  threshold?: number;
  /** Keys tracked at most. Default 10,000. */
  maxTracked?: number;
}

interface Counter {
  windowStart: number;
  current: number;
  previous: number;
}

export class BusyAccounts {
  private readonly windowMs: number;
  private readonly threshold: number;
  private readonly maxTracked: number;
  private readonly counters = new Map<string, Counter>();

  constructor(options: BusyAccountsOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.threshold = options.threshold ?? 200;
    this.maxTracked = options.maxTracked ?? 10_000;
  }

  /** Counts `units` of work for `key` and answers the lane they go to. */
  laneFor(key: string, units: number, now: number = Date.now()): WorkLane {
    const counter = this.touch(key, now);
    counter.current += units;
    return this.estimate(counter, now) > this.threshold ? "bulk" : "normal";
  }

  /** How many keys are tracked (bounded by maxTracked). */
  get size(): number {
    return this.counters.size;
  }

  private touch(key: string, now: number): Counter {
    let counter = this.counters.get(key);
    if (counter) {
      this.counters.delete(key); // re-inserted below: Map order is then least recently seen first
    } else {
      counter = { windowStart: now - (now % this.windowMs), current: 0, previous: 0 };
      if (this.counters.size >= this.maxTracked) {
        const oldest = this.counters.keys().next().value;
        if (oldest !== undefined) this.counters.delete(oldest);
      }
    }
    const elapsedWindows = Math.floor((now - counter.windowStart) / this.windowMs);
    if (elapsedWindows >= 1) {
      counter.previous = elapsedWindows === 1 ? counter.current : 0;
      counter.current = 0;
      counter.windowStart += elapsedWindows * this.windowMs;
    }
    this.counters.set(key, counter);
    return counter;
  }

  private estimate(counter: Counter, now: number): number {
    const overlap = 1 - (now - counter.windowStart) / this.windowMs;
    return counter.current + counter.previous * Math.max(0, overlap);
  }
}
