import { createHash } from "node:crypto";
import type { VerifiedWebhook } from "@leadsync/core";
import type { CrmChangesJob } from "@leadsync/queue";

/**
 * A delivery's job id when its provider names none: provider + sha256 of the events as delivered. Hex only: BullMQ
 * ids may not contain ":". (HubSpot's verifier gives one from its events' identities, so a retry with a higher
 * attemptNumber maps to the same job; the worker's claims make any other redelivery a no-op too.)
 */
export function changesJobId(provider: string, events: readonly Record<string, unknown>[]): string {
  return `${provider}-${createHash("sha256").update(JSON.stringify(events)).digest("hex")}`;
}

/** The queued payload keeps the events as the CRM sent them; the worker turns them into changes with the provider. */
export function changesJob(provider: string, verdict: Pick<VerifiedWebhook, "events" | "accounts">, receivedAt: number): CrmChangesJob {
  return { v: 1, provider, receivedAt, accounts: [...verdict.accounts], events: [...verdict.events] };
}

/**
 * The JSON of `changesJob(…)` as UTF-8 bytes, built around the verified body's own bytes (`eventsJson`, the JSON array
 * the events were parsed from): the events are not stringified again (nor re-encoded).
 */
export function changesJobJson(provider: string, verdict: Pick<VerifiedWebhook, "accounts" | "eventsJson">, receivedAt: number): Buffer {
  const head = `{"v":1,"provider":${JSON.stringify(provider)},"receivedAt":${receivedAt},"accounts":${JSON.stringify(verdict.accounts)},"events":`;
  return Buffer.concat([Buffer.from(head), verdict.eventsJson ?? Buffer.from("[]"), JOB_JSON_END]);
}
const JOB_JSON_END = Buffer.from("}");
