import type { FastifyPluginAsync } from "fastify";
import { apiContext } from "../http/api-guard.js";
import { SalesforceError } from "../http/errors.js";
import { sfDateTime } from "../state/records.js";
import type { SandboxState } from "../state/sandbox-state.js";

const MINUTE_MS = 60_000;
/** Salesforce answers for at most the last 30 days. */
const LOOKBACK_MS = 30 * 24 * 3_600_000;

function parseDate(raw: string | undefined, name: string): number {
  if (!raw) throw new SalesforceError(400, "MISSING_ARGUMENT", `${name} is required`);
  const ms = Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(ms)) throw new SalesforceError(400, "INVALID_REPLICATION_DATE", `${name}: invalid date: ${raw}`);
  return ms;
}

/**
 * The window Salesforce answers: start and end rounded down to the minute, at most 30 days back. latestDateCovered
 * never passes the current minute, so the next poll from it re-reads (rather than misses) this minute's changes.
 */
function window(query: { start?: string; end?: string }, now: number): { from: number; to: number; latestDateCovered: number } {
  const from = Math.floor(parseDate(query.start, "start") / MINUTE_MS) * MINUTE_MS;
  const to = Math.floor(parseDate(query.end, "end") / MINUTE_MS) * MINUTE_MS;
  if (to < from) throw new SalesforceError(400, "INVALID_REPLICATION_DATE", "EndDate before StartDate");
  if (from < now - LOOKBACK_MS) throw new SalesforceError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago");
  return { from, to, latestDateCovered: Math.min(to, Math.floor(now / MINUTE_MS) * MINUTE_MS) };
}

const stamp = (value: unknown) => (typeof value === "string" ? Date.parse(value.replace("+0000", "Z")) : Number.NaN);

/** sObject Get Updated / Get Deleted for Lead: ids by SystemModstamp in [start, end). */
export const replicationRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  void state;
  for (const path of ["updated", "updated/"]) {
    app.get<{ Querystring: { start?: string; end?: string } }>(`/services/data/:version/sobjects/Lead/${path}`, async (request) => {
      const { org } = apiContext(request);
      const { from, to, latestDateCovered } = window(request.query, Date.now());
      const ids = [...org.leads.records.values()]
        .filter((r) => r["IsDeleted"] !== true && stamp(r["SystemModstamp"]) >= from && stamp(r["SystemModstamp"]) < to)
        .map((r) => String(r["Id"]));
      return { ids, latestDateCovered: sfDateTime(latestDateCovered) };
    });
  }
  for (const path of ["deleted", "deleted/"]) {
    app.get<{ Querystring: { start?: string; end?: string } }>(`/services/data/:version/sobjects/Lead/${path}`, async (request) => {
      const { org } = apiContext(request);
      const now = Date.now();
      const { from, to, latestDateCovered } = window(request.query, now);
      const deletedRecords = [...org.leads.records.values()]
        .filter((r) => r["IsDeleted"] === true && stamp(r["SystemModstamp"]) >= from && stamp(r["SystemModstamp"]) < to)
        .map((r) => ({ id: String(r["Id"]), deletedDate: String(r["SystemModstamp"]) }));
      return { deletedRecords, earliestDateAvailable: sfDateTime(Math.floor((now - LOOKBACK_MS) / MINUTE_MS) * MINUTE_MS), latestDateCovered: sfDateTime(latestDateCovered) };
    });
  }
};
