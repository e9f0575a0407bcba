import { randomUUID } from "node:crypto";

export const FAULT_KINDS = ["latency", "error", "rate_limit", "drop_notifications", "fail_notifications"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  accountId?: string | undefined;
  kind: FaultKind;
  /** API calls (or callbacks) it affects; absent = every one until `DELETE /__sandbox/faults` */
  count?: number | undefined;
  /** latency: added delay */
  ms?: number | undefined;
  /** error: the status answered (default 500) */
  status?: number | undefined;
  /** matching calls let through before the fault starts (e.g. fail the second chunk of a write) */
  skip?: number | undefined;
}

export interface Fault extends FaultInput {
  id: string;
  remaining: number | null;
  skipped: number;
}

const API_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "error", "rate_limit"]);
const NOTIFICATION_KINDS: ReadonlySet<FaultKind> = new Set(["drop_notifications", "fail_notifications"]);

/** Injected faults; each use decrements `remaining`, a used-up fault disappears. */
export class FaultRegistry {
  private faults: Fault[] = [];

  add(input: FaultInput): Fault {
    const fault: Fault = { ...input, id: randomUUID(), remaining: input.count ?? null, skipped: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return [...this.faults];
  }

  clear(): void {
    this.faults = [];
  }

  /** Every applicable latency, then at most one error or rate_limit. */
  takeForApiCall(accountId: string): Fault[] {
    const taken: Fault[] = [];
    let failing = false;
    for (const fault of this.applicable(accountId, API_KINDS)) {
      if (this.skipping(fault)) continue;
      if (fault.kind !== "latency") {
        if (failing) continue;
        failing = true;
      }
      taken.push(this.use(fault));
    }
    return taken;
  }

  takeForNotification(accountId: string): "drop_notifications" | "fail_notifications" | undefined {
    const fault = this.applicable(accountId, NOTIFICATION_KINDS).find((f) => !this.skipping(f));
    return fault ? (this.use(fault).kind as "drop_notifications" | "fail_notifications") : undefined;
  }

  private applicable(accountId: string, kinds: ReadonlySet<FaultKind>): Fault[] {
    return this.faults.filter((f) => kinds.has(f.kind) && (f.accountId === undefined || f.accountId === accountId));
  }

  private skipping(fault: Fault): boolean {
    if (fault.skipped >= (fault.skip ?? 0)) return false;
    fault.skipped++;
    return true;
  }

  private use(fault: Fault): Fault {
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}
