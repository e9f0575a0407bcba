import { FaultRegistry as SharedFaultRegistry } from "@leadsync/emulator-kit";

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
}

const API_KINDS: ReadonlySet<FaultKind> = new Set(["latency", "error", "rate_limit"]);
const NOTIFICATION_KINDS = new Set(["drop_notifications", "fail_notifications"] as const);

/** Injected faults (the shared mechanics of @leadsync/emulator-kit). Each use decrements `remaining`; a used-up fault disappears. */
export class FaultRegistry extends SharedFaultRegistry<FaultKind, FaultInput, string> {
  constructor() {
    super((fault) => fault.accountId, API_KINDS);
  }

  takeForNotification(accountId: string): "drop_notifications" | "fail_notifications" | undefined {
    return this.takeFirst(accountId, NOTIFICATION_KINDS);
  }
}
