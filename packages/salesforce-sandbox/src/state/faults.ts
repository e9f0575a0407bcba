import { FaultRegistry as SharedFaultRegistry } from "@leadsync/emulator-kit";

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
const EVENT_KINDS = new Set(["drop_notifications", "gap_events", "overflow_events"] as const);

/** Injected faults (the shared mechanics of @leadsync/emulator-kit). Each use decrements `remaining`; a used-up fault disappears. */
export class FaultRegistry extends SharedFaultRegistry<FaultKind, FaultInput, string> {
  constructor() {
    super((fault) => fault.accountId, API_KINDS);
  }

  takeForEvent(accountId: string): "drop_notifications" | "gap_events" | "overflow_events" | undefined {
    return this.takeFirst(accountId, EVENT_KINDS);
  }
}
