import type { LeadRecord } from "./leads.js";
import { ZohoError } from "../http/zoho-error.js";

export const SORT_FIELDS = ["id", "Created_Time", "Modified_Time"] as const;
export type SortField = (typeof SORT_FIELDS)[number];
/** `page` alone reaches 2,000 records; beyond that Zoho asks for `page_token`. */
export const DISCRETE_PAGING_LIMIT = 2000;

export interface ListQuery {
  sortBy: SortField;
  sortOrder: "asc" | "desc";
  /** If-Modified-Since (ms epoch, second resolution) */
  since: number | undefined;
  perPage: number;
  page: number;
  pageToken: string | undefined;
}

export interface ListPage {
  records: LeadRecord[];
  info: Record<string, unknown>;
}

/** The records of one list read, sorted, and the page `page` or `page_token` asks for. */
export function listPage(all: Iterable<LeadRecord>, query: ListQuery): ListPage {
  const fingerprint = `${query.sortBy}|${query.sortOrder}|${query.since ?? ""}`;
  let records = [...all];
  if (query.since !== undefined) {
    const since = query.since;
    records = records.filter((r) => Math.floor(r.modifiedAt / 1000) * 1000 >= since);
  }
  const direction = query.sortOrder === "asc" ? 1 : -1;
  records.sort((a, b) => direction * (compareKeys(keyOf(a, query.sortBy), keyOf(b, query.sortBy))));

  let start: number;
  if (query.pageToken !== undefined) {
    // Our tokens are keyset positions (the last record's sort key), so records changing during a run are not skipped.
    const decoded = decodeToken(query.pageToken);
    if (!decoded || decoded.q !== fingerprint) throw new ZohoError(400, "INVALID_DATA", "invalid page token", { param_name: "page_token" });
    const after = decoded.k;
    start = records.findIndex((r) => direction * compareKeys(keyOf(r, query.sortBy), after) > 0);
    if (start === -1) start = records.length;
  } else {
    if (query.page * query.perPage > DISCRETE_PAGING_LIMIT) {
      throw new ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "cannot fetch more than 2000 records without page_token", { limit: DISCRETE_PAGING_LIMIT });
    }
    start = (query.page - 1) * query.perPage;
  }
  const pageRecords = records.slice(start, start + query.perPage);
  const more = start + query.perPage < records.length;
  const last = pageRecords.at(-1);
  return {
    records: pageRecords,
    info: {
      per_page: query.perPage,
      count: pageRecords.length,
      page: query.pageToken === undefined ? query.page : null,
      sort_by: query.sortBy,
      sort_order: query.sortOrder,
      more_records: more,
      next_page_token: more && last ? encodeToken({ q: fingerprint, k: keyOf(last, query.sortBy) }) : null,
      previous_page_token: null,
      page_token_expiry: more ? new Date(Date.now() + 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00") : null,
    },
  };
}

type Key = [number, string];

function keyOf(record: LeadRecord, sortBy: SortField): Key {
  const id = record.id.padStart(24, "0");
  if (sortBy === "Created_Time") return [Math.floor(record.createdAt / 1000), id];
  if (sortBy === "Modified_Time") return [Math.floor(record.modifiedAt / 1000), id];
  return [0, id];
}

function compareKeys(a: Key, b: Key): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function encodeToken(token: { q: string; k: Key }): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(raw: string): { q: string; k: Key } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as { q?: unknown; k?: unknown };
    if (typeof parsed.q !== "string" || !Array.isArray(parsed.k) || typeof parsed.k[0] !== "number" || typeof parsed.k[1] !== "string") return undefined;
    return { q: parsed.q, k: [parsed.k[0], parsed.k[1]] };
  } catch {
    return undefined;
  }
}
