import { identityOf, type ChangeKind, type RecordChange } from "@leadsync/core";
import { isRecord } from "./errors.js";

/** Zoho's callback operations (`insert`/`update`/`delete` in its examples; `create`/`edit` in some summaries). */
const KINDS: Readonly<Record<string, ChangeKind>> = { insert: "create", create: "create", update: "update", edit: "update", delete: "delete" };

/**
 * Callbacks → one change per id. They carry ids only (no values, no actor): `fields` stays absent so the worker reads
 * the records, and `origin` is `unknown` so the write ledger (and `Modified_By`) decide what is an echo.
 */
export function parseZohoChanges(events: readonly unknown[]): RecordChange[] {
  const changes: RecordChange[] = [];
  for (const event of events) {
    if (!isRecord(event) || !Array.isArray(event["ids"])) continue;
    const operation = typeof event["operation"] === "string" ? event["operation"] : "";
    const kind = KINDS[operation] ?? "unsupported";
    const channelId = String(event["channel_id"] ?? "");
    const serverTime = typeof event["server_time"] === "number" ? event["server_time"] : Number(event["server_time"] ?? 0);
    const query = isRecord(event["query_params"]) ? event["query_params"] : {};
    const accountId = typeof query["org"] === "string" ? query["org"] : "";
    for (const id of event["ids"]) {
      if (typeof id !== "string" && typeof id !== "number") continue;
      const recordId = String(id);
      changes.push({
        provider: "zoho",
        accountId,
        recordId,
        kind,
        type: operation,
        origin: "unknown",
        occurredAt: Number.isFinite(serverTime) ? serverTime : 0,
        eventId: `${channelId}:${serverTime}:${recordId}`,
        identity: identityOf([channelId, operation, recordId, serverTime]),
      });
    }
  }
  return changes;
}
