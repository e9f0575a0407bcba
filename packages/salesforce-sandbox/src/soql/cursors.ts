import type { FieldDef } from "../state/lead-fields.js";
import type { SObjectName } from "../state/records.js";

interface Cursor {
  orgId: string;
  type: SObjectName;
  ids: string[];
  select: FieldDef[];
  expiresAt: number;
}

/** A query locator lives 15 minutes after its last use (Salesforce's inactivity timeout). */
const CURSOR_TTL_MS = 15 * 60_000;

/** Open query locators: `nextRecordsUrl` = `/services/data/vXX.X/query/<locator>-<offset>`. */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly newLocator: () => string) {}

  open(orgId: string, type: SObjectName, ids: string[], select: FieldDef[]): string {
    this.prune();
    const locator = this.newLocator();
    this.cursors.set(locator, { orgId, type, ids, select, expiresAt: Date.now() + CURSOR_TTL_MS });
    return locator;
  }

  get(orgId: string, locator: string): Cursor | undefined {
    const cursor = this.cursors.get(locator);
    if (!cursor || cursor.orgId !== orgId || cursor.expiresAt <= Date.now()) return undefined;
    cursor.expiresAt = Date.now() + CURSOR_TTL_MS;
    return cursor;
  }

  close(locator: string): void {
    this.cursors.delete(locator);
  }

  private prune(): void {
    const now = Date.now();
    for (const [locator, cursor] of this.cursors) if (cursor.expiresAt <= now) this.cursors.delete(locator);
  }
}
