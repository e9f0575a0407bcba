import type { BenchEnvironment, TenantPortal } from "./environment.js";
import type { LeadWatch, WatchedChange } from "./lead-watch.js";

/** One change the trickle made, with the account (portal id) its webhook names. */
export interface TrickleChange extends WatchedChange {
  account: string;
  kind: "create" | "edit";
}

interface PortalState {
  round: number;
  contactId?: string;
  email?: string;
}

/**
 * A steady trickle over many portals, as their users work in HubSpot's UI: every portal gets one change every
 * `perPortalIntervalMs`, the portals taking turns evenly (so the total rate is portals ÷ interval). A portal's
 * changes alternate: create a contact, then edit that contact's first name. Each change is handed to the lead watch.
 */
export class Trickle {
  readonly changes: TrickleChange[] = [];
  errors = 0;
  private readonly state: PortalState[];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  constructor(
    private readonly env: BenchEnvironment,
    private readonly portals: readonly TenantPortal[],
    private readonly perPortalIntervalMs: number,
    private readonly watch: LeadWatch,
  ) {
    this.state = portals.map(() => ({ round: 0 }));
  }

  /** Changes per second over all portals. */
  get rate(): number {
    return (this.portals.length * 1000) / this.perPortalIntervalMs;
  }

  start(): void {
    const started = Date.now();
    const gapMs = this.perPortalIntervalMs / this.portals.length;
    const tick = () => {
      const due = Math.floor((Date.now() - started) / gapMs) + 1;
      while (this.sent < due) this.send(this.sent++);
      this.timer = setTimeout(tick, Math.max(1, started + this.sent * gapMs - Date.now()));
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all([...this.inFlight]);
  }

  private send(n: number): void {
    const index = n % this.portals.length;
    const portal = this.portals[index] as TenantPortal;
    const state = this.state[index] as PortalState;
    const round = state.round++;
    const edit = round % 2 === 1 && state.contactId !== undefined && state.email !== undefined;
    const base = { orgId: portal.orgId, account: String(portal.portalId), sentAt: Date.now() };
    let work: Promise<unknown>;
    if (edit) {
      const firstName = `e${round}`;
      const change: TrickleChange = { ...base, email: state.email as string, firstName, kind: "edit" };
      work = this.env.admin("PATCH", `/__sandbox/portals/${portal.portalId}/contacts/${state.contactId}`, { properties: { firstname: firstName } });
      this.record(change);
    } else {
      const email = `t${index}-r${round}@tenants.example`;
      const change: TrickleChange = { ...base, email, kind: "create" };
      work = this.env.createContacts([{ email, firstname: `c${round}` }], portal.portalId).then(([id]) => {
        if (id === undefined) return;
        state.contactId = id;
        state.email = email;
      });
      this.record(change);
    }
    const settled = work.then(
      () => undefined,
      () => {
        this.errors++;
      },
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private record(change: TrickleChange): void {
    this.changes.push(change);
    this.watch.watch(change);
  }
}
