import type { AccountCallLimiter } from "@leadsync/core";

/** An `AccountCallLimiter` that grants everything and records what it was told. */
export class RecordingLimiter implements AccountCallLimiter {
  readonly acquired: string[] = [];
  readonly released: string[] = [];
  readonly observed: Array<{ window: string; used?: number; remaining?: number; limit?: number }> = [];
  readonly pauses: Array<{ ms: number; reason: string }> = [];
  inFlight = 0;
  maxInFlight = 0;

  async acquire(operation: string): Promise<void> {
    this.acquired.push(operation);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  async release(operation: string): Promise<void> {
    this.released.push(operation);
    this.inFlight--;
  }

  async observe(usage: { window: string; used?: number; remaining?: number; limit?: number }): Promise<void> {
    this.observed.push(usage);
  }

  async pause(ms: number, reason: string): Promise<void> {
    this.pauses.push({ ms, reason });
  }
}

/** A logger that keeps nothing (tests read outcomes, not log lines). */
export const silentLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return silentLogger;
  },
};
