import { randomUUID } from "node:crypto";

export const FAULT_KINDS = ["latency", "error", "rate_limit", "drop_webhooks", "fail_webhooks"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInput {
  portalId?: number | undefined;
  kind: FaultKind;
  /** how many API calls (or webhook deliveries) it affects; absent = every one until `DELETE /__sandbox/faults` */
  count?: number | undefined;
  /** latency: added delay */
  ms?: number | undefined;
  /** error: the status answered (default 503) */
  status?: number | undefined;
  /** rate_limit: the 429's policyName (default TEN_SECONDLY_ROLLING) */
  policyName?: "TEN_SECONDLY_ROLLING" | "DAILY" | "SECONDLY" | undefined;
  /** rate_limit: sends `Retry-After` when set */
  retryAfterSeconds?: number | undefined;
}

export interface Fault extends FaultInput {
  id: string;
  /** remaining uses; null = unlimited */
  remaining: number | null;
}

const API_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "error", "rate_limit"]);

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
  takeForApiCall(portalId: number): Fault[] {
    const taken: Fault[] = [];
    let failing = false;
    for (const fault of this.applicable(portalId, API_KINDS)) {
      if (fault.kind !== "latency") {
        if (failing) continue;
        failing = true;
      }
      taken.push(this.use(fault));
    }
    return taken;
  }

  takeForWebhook(portalId: number): "drop_webhooks" | "fail_webhooks" | undefined {
    const fault = this.applicable(portalId, new Set(["drop_webhooks", "fail_webhooks"]))[0];
    return fault ? (this.use(fault).kind as "drop_webhooks" | "fail_webhooks") : undefined;
  }

  private applicable(portalId: number, kinds: ReadonlySet<FaultKind>): Fault[] {
    return this.faults.filter((f) => kinds.has(f.kind) && (f.portalId === undefined || f.portalId === portalId));
  }

  private use(fault: Fault): Fault {
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}
