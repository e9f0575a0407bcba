import pg from "pg";

/** A change made in the sandbox whose lead we wait for: a new contact (its lead appears) or an edit (the value lands). */
export interface WatchedChange {
  orgId: string;
  /** Lower-case, as leads store it. */
  email: string;
  /** For an edit: the first name the lead must carry; undefined for a creation. */
  firstName?: string;
  sentAt: number;
  /** The lead's created_at (creation) or updated_at (edit) when first seen in that state; undefined until then. */
  appliedAt?: number;
}

/**
 * Watches many pending changes with one query per poll (not one per change), so the load generator stays cheap
 * while the pipeline it measures shares the machine. The time taken is the row's own timestamp, not the poll's,
 * so the poll interval does not add to the latency measured.
 */
export class LeadWatch {
  private readonly pending = new Set<WatchedChange>();
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  polls = 0;

  constructor(databaseUrl: string, private readonly intervalMs: number) {
    this.client = new pg.Client({ connectionString: databaseUrl });
  }

  async start(): Promise<void> {
    await this.client.connect();
    const loop = () => {
      this.polling = this.poll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.intervalMs);
      });
    };
    this.timer = setTimeout(loop, this.intervalMs);
  }

  watch(change: WatchedChange): void {
    this.pending.add(change);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** One count, for a portal whose leads we only count (the busy one). */
  async countLeads(orgId: string): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>("SELECT count(*) AS n FROM leads WHERE org_id = $1", [orgId]);
    return Number(rows[0]?.n ?? 0);
  }

  async lastCreatedAt(orgId: string): Promise<number | undefined> {
    const { rows } = await this.client.query<{ t: Date | null }>("SELECT max(created_at) AS t FROM leads WHERE org_id = $1", [orgId]);
    return rows[0]?.t?.getTime();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.client.end();
  }

  private async poll(): Promise<void> {
    if (this.pending.size === 0) return;
    const byKey = new Map<string, WatchedChange[]>();
    for (const change of this.pending) {
      const key = `${change.orgId}\u0000${change.email}`;
      byKey.set(key, [...(byKey.get(key) ?? []), change]);
    }
    const orgIds: string[] = [];
    const emails: string[] = [];
    for (const [first] of byKey.values()) {
      if (!first) continue;
      orgIds.push(first.orgId);
      emails.push(first.email);
    }
    // (org_id, email) is the leads' unique index: one index probe per pending lead.
    const { rows } = await this.client.query<{ org_id: string; email: string; first_name: string | null; created_at: Date; updated_at: Date }>(
      "SELECT l.org_id, l.email, l.first_name, l.created_at, l.updated_at FROM leads l JOIN unnest($1::text[], $2::text[]) AS p(org_id, email) ON l.org_id = p.org_id AND l.email = p.email",
      [orgIds, emails],
    );
    this.polls++;
    for (const row of rows) {
      for (const change of byKey.get(`${row.org_id}\u0000${row.email}`) ?? []) {
        if (change.firstName === undefined) change.appliedAt = row.created_at.getTime();
        else if (row.first_name === change.firstName) change.appliedAt = row.updated_at.getTime();
        if (change.appliedAt !== undefined) this.pending.delete(change);
      }
    }
  }
}
