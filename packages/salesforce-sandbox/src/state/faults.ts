import { randomUUID } from "node:crypto";

export const FAULT_KINDS = ["latency", "error", "request_limit", "drop_notifications", "gap_events", "overflow_events"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  accountId?: string | undefined;
  kind: FaultKind;
  /** how many API calls (or change events) it affects; absent = every one until `DELETE /__sandbox/faults` */
  count?: number | undefined;
  /** latency: added delay */
  ms?: number | undefined;
  /** error: the status answered (default 503) */
  status?: number | undefined;
}

export interface Fault extends FaultInput {
  id: string;
  remaining: number | null;
}

const API_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "error", "request_limit"]);
const EVENT_KINDS: ReadonlySet<FaultKind> = new Set(["drop_notifications", "gap_events", "overflow_events"]);

/** Injected faults. Each use decrements `remaining`; a used-up fault disappears. */
export class FaultRegistry {
  private faults: Fault[] = [];

  add(input: FaultInput): Fault {
    const fault: Fault = { ...input, id: randomUUID(), remaining: input.count ?? null };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return [...this.faults];
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults hitting this API call: every applicable latency, then at most one error or request_limit. */
  takeForApiCall(accountId: string): Fault[] {
    const taken: Fault[] = [];
    let failing = false;
    for (const fault of this.applicable(accountId, API_KINDS)) {
      if (fault.kind !== "latency") {
        if (failing) continue;
        failing = true;
      }
      taken.push(this.use(fault));
    }
    return taken;
  }

  /** What happens to one change event on the way to the bus. */
  takeForEvent(accountId: string): "drop_notifications" | "gap_events" | "overflow_events" | undefined {
    const fault = this.applicable(accountId, EVENT_KINDS)[0];
    return fault ? (this.use(fault).kind as "drop_notifications" | "gap_events" | "overflow_events") : undefined;
  }

  private applicable(accountId: string, kinds: ReadonlySet<FaultKind>): Fault[] {
    return this.faults.filter((f) => kinds.has(f.kind) && (f.accountId === undefined || f.accountId === accountId));
  }

  private use(fault: Fault): Fault {
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}
