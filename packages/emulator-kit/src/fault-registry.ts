import { randomUUID } from "node:crypto";

/**
 * The fault injection every CRM emulator offers under `/__sandbox/faults`: faults added by tests, each scoped to one
 * account (or all), used up call by call. Each emulator names its own kinds and options; this holds the mechanics.
 */

export interface FaultInputBase<K extends string> {
  kind: K;
  /** how many calls (or deliveries) it affects; absent = every one until cleared */
  count?: number | undefined;
  /** matching calls let through before the fault starts (e.g. fail the second chunk of a write) */
  skip?: number | undefined;
}

/** A stored fault: the input, its id, and its remaining uses (null = unlimited). */
export type StoredFault<I> = I & { id: string; remaining: number | null };

/** The latency kind every emulator has: all latencies apply to a call, beside at most one failing fault. */
const LATENCY = "latency";

export class FaultRegistry<K extends string, I extends FaultInputBase<K>, Scope> {
  private faults: StoredFault<I>[] = [];
  /** Calls let through so far, per fault with a `skip` (kept out of the fault so `list()` shows what was added). */
  private readonly skipped = new WeakMap<StoredFault<I>, number>();

  /**
   * @param scopeOf the account a fault is limited to (undefined: every account)
   * @param apiKinds the kinds that hit API calls (the others hit deliveries or events)
   */
  constructor(
    private readonly scopeOf: (fault: I) => Scope | undefined,
    private readonly apiKinds: ReadonlySet<K>,
  ) {}

  add(input: I): StoredFault<I> {
    const fault: StoredFault<I> = { ...input, id: randomUUID(), remaining: input.count ?? null };
    this.faults.push(fault);
    return fault;
  }

  list(): StoredFault<I>[] {
    return [...this.faults];
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults hitting one API call of `scope`: every applicable latency, then at most one failing fault. */
  takeForApiCall(scope: Scope): StoredFault<I>[] {
    const taken: StoredFault<I>[] = [];
    let failing = false;
    for (const fault of this.applicable(scope, this.apiKinds)) {
      if (this.skipping(fault)) continue;
      if (fault.kind !== LATENCY) {
        if (failing) continue;
        failing = true;
      }
      taken.push(this.use(fault));
    }
    return taken;
  }

  /** The kind of the first applicable fault among `kinds` (a delivery dropped or failed, an event turned into a gap). */
  takeFirst<T extends K>(scope: Scope, kinds: ReadonlySet<T>): T | undefined {
    const fault = this.applicable(scope, kinds).find((f) => !this.skipping(f));
    return fault ? (this.use(fault).kind as T) : undefined;
  }

  private applicable(scope: Scope, kinds: ReadonlySet<K>): StoredFault<I>[] {
    return this.faults.filter((f) => {
      const limitedTo = this.scopeOf(f);
      return kinds.has(f.kind) && (limitedTo === undefined || limitedTo === scope);
    });
  }

  private skipping(fault: StoredFault<I>): boolean {
    const skipped = this.skipped.get(fault) ?? 0;
    if (skipped >= (fault.skip ?? 0)) return false;
    this.skipped.set(fault, skipped + 1);
    return true;
  }

  private use(fault: StoredFault<I>): StoredFault<I> {
    if (fault.remaining !== null) {
      fault.remaining--;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}
