import { randomUUID } from "node:crypto";

export const FAULT_KINDS = ["latency", "error", "rate_limit", "drop_webhooks", "fail_webhooks"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  accountId?: number | undefined;
  kind: FaultKind;
  /** how many API calls (or webhook deliveries) it affects; absent = every one until `DELETE /__sandbox/faults` */
  count?: number | undefined;
  /** latency: added delay */
  ms?: number | undefined;
  /** error: the status answered (default 503) */
  status?: number | undefined;
  /** rate_limit: a burst (default) or daily-budget 429 */
  limit?: "burst" | "daily" | undefined;
}

export interface Fault extends FaultInput {
  id: string;
  /** remaining uses; null = unlimited */
  remaining: number | null;
}

const API_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "error", "rate_limit"]);
const WEBHOOK_KINDS: ReadonlySet<FaultKind> = new Set(["drop_webhooks", "fail_webhooks"]);

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

  /** The faults hitting this API call: every applicable latency, then at most one error or rate_limit. */
  takeForApiCall(accountId: number): Fault[] {
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

  /** drop_webhooks: the event vanishes; fail_webhooks: this attempt fails without a request (and is retried). */
  takeForWebhook(accountId: number): "drop_webhooks" | "fail_webhooks" | undefined {
    const fault = this.applicable(accountId, WEBHOOK_KINDS)[0];
    return fault ? (this.use(fault).kind as "drop_webhooks" | "fail_webhooks") : undefined;
  }

  private applicable(accountId: number, kinds: ReadonlySet<FaultKind>): Fault[] {
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
