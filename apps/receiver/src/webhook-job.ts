import { createHash } from "node:crypto";
import { eventIdentity, type HubSpotEvent } from "@leadsync/core";
import type { HubspotEventsJob } from "@leadsync/queue";

/**
 * The job id of a delivered batch: "hs-" + sha256 of its events' identities, sorted. attemptNumber is not part of an
 * event's identity, so HubSpot redelivering the same batch maps to the same id and BullMQ ignores the second add
 * (while the first job is retained: 48 h, longer than HubSpot's 24 h retry window). Hex only: BullMQ ids may not contain ":".
 * One hash over the joined identities rather than one per event: this runs on every webhook request.
 */
export function hubspotBatchJobId(events: readonly HubSpotEvent[]): string {
  const identities = events.map(eventIdentity).sort();
  return `hs-${createHash("sha256").update(identities.join("\u001e")).digest("hex")}`;
}


/** The queued payload keeps the events as HubSpot sent them; the worker re-validates them with core's schema. */
export function hubspotEventsJob(rawEvents: readonly Record<string, unknown>[], receivedAt: number): HubspotEventsJob {
  return { v: 1, provider: "hubspot", receivedAt, events: [...rawEvents] };
}

/**
 * The JSON of `hubspotEventsJob(JSON.parse(body), receivedAt)` as UTF-8 bytes, built around the body's own bytes: the
 * events are not stringified again (nor re-encoded). `body` must be the JSON array the events were parsed from.
 */
export function hubspotEventsJobJson(body: Buffer, receivedAt: number): Buffer {
  return Buffer.concat([Buffer.from(`{"v":1,"provider":"hubspot","receivedAt":${receivedAt},"events":`), body, JOB_JSON_END]);
}
const JOB_JSON_END = Buffer.from("}");
