import { FaultRegistry as SharedFaultRegistry } from "@leadsync/emulator-kit";

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
const WEBHOOK_KINDS = new Set(["drop_webhooks", "fail_webhooks"] as const);

/** Injected faults (the shared mechanics of @leadsync/emulator-kit). Each use decrements `remaining`; a used-up fault disappears. */
export class FaultRegistry extends SharedFaultRegistry<FaultKind, FaultInput, number> {
  constructor() {
    super((fault) => fault.portalId, API_KINDS);
  }

  takeForWebhook(portalId: number): "drop_webhooks" | "fail_webhooks" | undefined {
    return this.takeFirst(portalId, WEBHOOK_KINDS);
  }
}
