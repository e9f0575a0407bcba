import { creditsFor } from "./budget.js";
import { isRecord } from "./errors.js";
import type { ZohoHttp } from "./http.js";

/** The Leads module endpoints of Zoho CRM v8 that the sync uses (providers-facts §3.2). */
export const LEADS_BATCH_SIZE = 100;
export const LEADS_PAGE_SIZE = 200;

export type ZohoRecord = Record<string, unknown> & { id: string };

/** One record's outcome in a write's `data[]`. */
export interface ZohoRecordResult {
  code: string;
  status: string;
  message: string;
  details: Record<string, unknown>;
  action?: string;
}

export interface ZohoPageInfo {
  more_records?: boolean;
  next_page_token?: string | null;
  count?: number;
}

export async function getLeadsByIds(http: ZohoHttp, ids: readonly string[], fields: readonly string[]): Promise<ZohoRecord[]> {
  const response = await http.request({
    operation: "leads read",
    method: "GET",
    path: "/crm/v8/Leads",
    query: { ids: ids.join(","), fields: fields.join(",") },
  });
  return recordsOf(response.body);
}

export interface ListOptions {
  fields: readonly string[];
  sortBy: "id" | "Modified_Time";
  perPage: number;
  pageToken: string | undefined;
  /** `If-Modified-Since` (Zoho datetime) */
  modifiedSince?: string;
}

export async function listLeads(http: ZohoHttp, options: ListOptions): Promise<{ records: ZohoRecord[]; info: ZohoPageInfo }> {
  const response = await http.request({
    operation: "leads list",
    method: "GET",
    path: "/crm/v8/Leads",
    query: {
      fields: options.fields.join(","),
      sort_by: options.sortBy,
      sort_order: "asc",
      per_page: String(options.perPage),
      page_token: options.pageToken,
    },
    ...(options.modifiedSince === undefined ? {} : { headers: { "If-Modified-Since": options.modifiedSince } }),
  });
  const info = isRecord(response.body?.["info"]) ? (response.body["info"] as ZohoPageInfo) : {};
  return { records: recordsOf(response.body), info };
}

/** How many Leads the org holds (`/Leads/actions/count`, 1 credit): backfill progress. */
export async function countLeads(http: ZohoHttp): Promise<number | undefined> {
  const response = await http.request({ operation: "leads count", method: "GET", path: "/crm/v8/Leads/actions/count" });
  const count = response.body?.["count"];
  return typeof count === "number" ? count : undefined;
}

export async function insertLeads(http: ZohoHttp, data: readonly Record<string, unknown>[]): Promise<ZohoRecordResult[]> {
  return write(http, "leads insert", "POST", "/crm/v8/Leads", { data }, data.length);
}

export async function updateLeads(http: ZohoHttp, data: readonly Record<string, unknown>[]): Promise<ZohoRecordResult[]> {
  return write(http, "leads update", "PUT", "/crm/v8/Leads", { data }, data.length);
}

export async function upsertLeads(http: ZohoHttp, data: readonly Record<string, unknown>[], duplicateCheckFields: readonly string[]): Promise<ZohoRecordResult[]> {
  return write(http, "leads upsert", "POST", "/crm/v8/Leads/upsert", { data, duplicate_check_fields: duplicateCheckFields }, data.length);
}

async function write(http: ZohoHttp, operation: string, method: "POST" | "PUT", path: string, body: unknown, count: number): Promise<ZohoRecordResult[]> {
  const response = await http.request({ operation, method, path, body, credits: creditsFor(count), itemsKey: "data" });
  const data = response.body?.["data"];
  if (!Array.isArray(data) || data.length !== count) throw new Error(`Zoho ${operation}: expected ${count} results, got ${Array.isArray(data) ? data.length : "none"}`);
  return data.map((item) => (isRecord(item) ? (item as unknown as ZohoRecordResult) : { code: "UNKNOWN", status: "error", message: "no result", details: {} }));
}

function recordsOf(body: Record<string, unknown> | null): ZohoRecord[] {
  const data = body?.["data"];
  if (!Array.isArray(data)) return [];
  return data.filter((r): r is ZohoRecord => isRecord(r) && typeof r["id"] === "string");
}
