import { createHash } from "node:crypto";
import { eventDedupeKey, type HubSpotEvent } from "@leadsync/core";
import type { HubspotEventsJob } from "@leadsync/queue";

/**
 * The job id of a delivered batch: "hs-" + sha256 of its events' sorted dedupe keys. attemptNumber is not part of an
 * event's key, so HubSpot redelivering the same batch maps to the same id and BullMQ ignores the second add
 * (while the first job is retained: 48 h, longer than HubSpot's 24 h retry window). Hex only: BullMQ ids may not contain ":".
 */
export function hubspotBatchJobId(events: readonly HubSpotEvent[]): string {
  const keys = events.map((event) => eventDedupeKey(event)).sort();
  return `hs-${createHash("sha256").update(keys.join("\n")).digest("hex")}`;
}

/** The queued payload keeps the events as HubSpot sent them; the worker re-validates them with core's schema. */
export function hubspotEventsJob(rawEvents: readonly Record<string, unknown>[], receivedAt: number): HubspotEventsJob {
  return { v: 1, provider: "hubspot", receivedAt, events: [...rawEvents] };
}
