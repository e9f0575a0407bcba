import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";

export type ChangeType = "CREATE" | "UPDATE" | "DELETE" | "UNDELETE" | "GAP_CREATE" | "GAP_UPDATE" | "GAP_DELETE" | "GAP_UNDELETE" | "GAP_OVERFLOW";
export type FieldValue = string | boolean | null;

/** One change event as the sandbox keeps it; the Pub/Sub server Avro-encodes it on delivery (cdc/avro-schema.ts). */
export interface ChangeEvent {
  /** increasing, not contiguous (Salesforce's replay ids are opaque) */
  replayId: bigint;
  /** the Avro schema the event was written with (the Lead schema changes when a custom field is added) */
  schemaId: string;
  entityName: string;
  changeType: ChangeType;
  recordIds: string[];
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  /** field API names (FirstName, not Name.FirstName); encoded as bitmaps on the wire */
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
  /** the record's fields in the event: CREATE/UNDELETE carry every non-null field, UPDATE only the changed ones */
  fields: Record<string, FieldValue>;
}

export type NewChangeEvent = Omit<ChangeEvent, "replayId" | "schemaId" | "transactionKey" | "sequenceNumber" | "commitNumber" | "commitTimestamp">;

/**
 * An org's event bus for LeadChangeEvent: retained for the retention window, replayable by replay id,
 * observed by the Pub/Sub subscriptions (`"event"` on the emitter).
 */
export class ChangeLog extends EventEmitter<{ event: [ChangeEvent] }> {
  private readonly events: ChangeEvent[] = [];
  private nextReplay = 1000n + BigInt(Math.floor(Math.random() * 1000));
  private commitNumber = 10_000_000_000 + Math.floor(Math.random() * 1_000_000);
  /** the lowest replay id one may resume from: the bus's start, then one past the newest event that aged out */
  private replayFloor = this.nextReplay;
  /** events dropped by a fault, never published */
  dropped = 0;

  constructor(private readonly retentionMs: () => number) {
    super();
    this.setMaxListeners(0);
  }

  /** Publishes the changes of one transaction: a shared transactionKey, sequenceNumber 1..n. */
  publish(changes: NewChangeEvent[], schemaId: string, now = Date.now()): ChangeEvent[] {
    const transactionKey = randomUUID().replaceAll("-", "").slice(0, 26);
    const commitNumber = (this.commitNumber += 1 + Math.floor(Math.random() * 5));
    const published = changes.map((change, index) => {
      // steps of 1–3 keep ids increasing but not contiguous, as Salesforce's are
      this.nextReplay += BigInt(1 + Math.floor(Math.random() * 3));
      const event: ChangeEvent = {
        ...change,
        replayId: this.nextReplay,
        schemaId,
        transactionKey,
        sequenceNumber: index + 1,
        commitNumber,
        commitTimestamp: now,
      };
      this.events.push(event);
      return event;
    });
    for (const event of published) this.emit("event", event);
    return published;
  }

  /** the retained events, oldest first */
  retained(now = Date.now()): ChangeEvent[] {
    const cutoff = now - this.retentionMs();
    let drop = 0;
    while (drop < this.events.length && (this.events[drop] as ChangeEvent).commitTimestamp < cutoff) drop++;
    if (drop > 0) this.replayFloor = (this.events[drop - 1] as ChangeEvent).replayId + 1n;
    if (drop > 0) this.events.splice(0, drop);
    return this.events;
  }

  /** the replay id of the newest event ever published (also after it aged out) */
  latestReplayId(): bigint {
    return this.nextReplay;
  }

  /** Up to `limit` retained events after `replayId`, oldest first (binary search: the log is in replay order). */
  after(replayId: bigint, limit: number, now = Date.now()): ChangeEvent[] {
    const events = this.retained(now);
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((events[mid] as ChangeEvent).replayId <= replayId) lo = mid + 1;
      else hi = mid;
    }
    return events.slice(lo, lo + limit);
  }

  /** How many retained events come after `replayId`. */
  countAfter(replayId: bigint, now = Date.now()): number {
    const events = this.retained(now);
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((events[mid] as ChangeEvent).replayId <= replayId) lo = mid + 1;
      else hi = mid;
    }
    return events.length - lo;
  }

  /** A CUSTOM replay id is usable while its event is retained (or no event ever aged out) and it was issued here. */
  isReplayable(replayId: bigint, now = Date.now()): boolean {
    this.retained(now);
    return replayId >= this.replayFloor && replayId <= this.nextReplay;
  }

  /** The bus as a snapshot keeps it (bigints are written as strings by the snapshot file). */
  snapshot(): { events: ChangeEvent[]; nextReplay: bigint; replayFloor: bigint; commitNumber: number; dropped: number } {
    return { events: this.retained(), nextReplay: this.nextReplay, replayFloor: this.replayFloor, commitNumber: this.commitNumber, dropped: this.dropped };
  }

  /** Loads a snapshot's bus: the retained events and the replay position continue where the last run stopped. */
  restoreSnapshot(snapshot: { events: readonly ChangeEvent[]; nextReplay: bigint; replayFloor: bigint; commitNumber: number; dropped: number }): void {
    this.events.splice(0, this.events.length, ...snapshot.events);
    this.nextReplay = snapshot.nextReplay;
    this.replayFloor = snapshot.replayFloor;
    this.commitNumber = snapshot.commitNumber;
    this.dropped = snapshot.dropped;
  }

  /** Test hook: makes retained events look older, so they age out of the retention window. */
  ageBy(ms: number): void {
    for (const event of this.events) event.commitTimestamp -= ms;
  }
}
