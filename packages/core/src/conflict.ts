import type { ConflictRule } from "./field-mapping.js";

/**
 * One lead field against the CRM's value for it (per field, not per record). Times are ms epoch.
 *
 * The platform side has a change of its own "since the last sync" when the lead's field was stamped after the
 * link last synced (a platform edit not yet pushed). Only then is it a conflict, and the integration's rule
 * decides; otherwise the CRM value is simply the later change — unless it is older than the lead's (issue 5:
 * an older value never overwrites a newer one) or it is our own last push coming back.
 */
export interface FieldSides {
  crmValue: string;
  /** When the CRM value was set: the property change's occurredAt, else the record's last modification. */
  crmChangedAt: number;
  /** The value comes from a change a person (or another app) made, known from the event's source. */
  crmChangeIsForeign: boolean;
  leadValue: string | null;
  /** fieldVersions[field]: when the lead's value was set (by the platform or by an earlier sync). */
  leadChangedAt: number;
  /** What we last pushed for the property, if anything. */
  lastPushedValue: unknown;
  /** When the field was last in sync with the CRM (our push or pull of it; else the link's last sync); 0 when never. */
  lastSyncedAt: number;
  /**
   * The CRM's clock tick (ms): Zoho and Pipedrive stamp records to the second, so within one tick their time cannot
   * order a person's edit against our own. Default 1 (exact).
   */
  crmClockResolutionMs?: number;
  /** When the CRM value was read (ms epoch), if known: only a read after the field's last sync can show a newer change. */
  crmReadAt?: number;
}

export type FieldResolution =
  | { winner: "crm"; conflict: boolean }
  | { winner: "platform"; reason: "same_value" | "own_push" | "older" | "conflict" };

export function resolveField(sides: FieldSides, rule: ConflictRule): FieldResolution {
  if (sides.crmValue === sides.leadValue) return { winner: "platform", reason: "same_value" };
  // The CRM still (or again) shows what we pushed: the lead moved on since, unless a person set it back.
  if (sides.lastPushedValue === sides.crmValue && !sides.crmChangeIsForeign) return { winner: "platform", reason: "own_push" };

  const platformPending = sides.leadChangedAt > sides.lastSyncedAt;
  if (platformPending) {
    const crmWins = rule === "prefer_crm" || (rule === "latest_wins" && sides.crmChangedAt > sides.leadChangedAt);
    return crmWins ? { winner: "crm", conflict: true } : { winner: "platform", reason: "conflict" };
  }
  if (sides.crmChangedAt < sides.leadChangedAt) {
    // Within one tick of a coarse CRM clock the time cannot say which came first, but the ledger can: the CRM held
    // what we last synced, and now holds something else, so a person changed it after that sync.
    // Only a read made after that sync can show it: a read from before it (a worker stalled mid-batch) is just old.
    const withinTick = sides.leadChangedAt - sides.crmChangedAt < (sides.crmClockResolutionMs ?? 1);
    const readAfterSync = sides.crmReadAt !== undefined && sides.crmReadAt > sides.lastSyncedAt;
    if (!(withinTick && readAfterSync && typeof sides.lastPushedValue === "string")) return { winner: "platform", reason: "older" };
  }
  return { winner: "crm", conflict: false };
}
