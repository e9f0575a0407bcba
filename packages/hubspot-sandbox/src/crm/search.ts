import { validationError } from "../http/errors.js";
import type { ContactRecord } from "../state/contacts.js";
import type { PropertyStore } from "../state/properties.js";
import { propertyValue } from "./serialize.js";

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string | number | boolean | undefined;
  highValue?: string | number | boolean | undefined;
  values?: Array<string | number | boolean> | undefined;
}

export interface SearchRequest {
  filterGroups?: Array<{ filters: SearchFilter[] }> | undefined;
  sorts?: Array<string | { propertyName: string; direction?: string | undefined }> | undefined;
  query?: string | undefined;
  properties?: string[] | undefined;
  limit?: number | undefined;
  after?: string | number | undefined;
}

export const MAX_SEARCH_LIMIT = 200;
/** HubSpot returns at most 10,000 results per query. */
export const MAX_SEARCH_RESULTS = 10_000;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const QUERY_PROPERTIES = ["email", "firstname", "lastname", "phone", "company", "website"];

export interface SearchPage {
  total: number;
  results: ContactRecord[];
  nextAfter: string | undefined;
}

/** CRM search over live contacts: groups ORed, filters ANDed, one sort, offset paging (hubspot-facts.md §4.3). */
export function searchContacts(contacts: ContactRecord[], request: SearchRequest, properties: PropertyStore): SearchPage {
  const groups = request.filterGroups ?? [];
  validateShape(request, groups);
  const limit = request.limit ?? 10;
  const offset = request.after === undefined || request.after === "" ? 0 : Number(request.after);
  if (!Number.isInteger(offset) || offset < 0) throw validationError(`after must be a non-negative integer, got ${String(request.after)}`);
  if (offset >= MAX_SEARCH_RESULTS) {
    throw validationError(`Paging past ${MAX_SEARCH_RESULTS} results is not supported. Narrow the search.`);
  }

  const comparator = makeComparator(properties);
  const matches = contacts.filter(
    (record) =>
      matchesQuery(record, request.query) &&
      (groups.length === 0 || groups.some((g) => g.filters.every((f) => matchesFilter(record, f, comparator)))),
  );
  sortRecords(matches, request.sorts, comparator);
  const results = matches.slice(offset, offset + limit);
  const nextOffset = offset + limit;
  return {
    total: matches.length,
    results,
    nextAfter: nextOffset < matches.length && nextOffset < MAX_SEARCH_RESULTS ? String(nextOffset) : undefined,
  };
}

function validateShape(request: SearchRequest, groups: Array<{ filters: SearchFilter[] }>): void {
  if (request.limit !== undefined && (request.limit < 0 || request.limit > MAX_SEARCH_LIMIT)) {
    throw validationError(`limit must be between 0 and ${MAX_SEARCH_LIMIT}`);
  }
  const total = groups.reduce((n, g) => n + g.filters.length, 0);
  if (groups.length > MAX_GROUPS || groups.some((g) => g.filters.length > MAX_FILTERS_PER_GROUP) || total > MAX_FILTERS) {
    throw validationError(
      `Too many filters: at most ${MAX_GROUPS} filterGroups, ${MAX_FILTERS_PER_GROUP} filters per group and ${MAX_FILTERS} filters in total.`,
    );
  }
  if ((request.sorts?.length ?? 0) > 1) throw validationError("Only one sort is supported.");
}

type Comparable = number | string;
interface Comparator {
  /** the comparable form of a stored or requested value for this property */
  normalise(propertyName: string, value: string): Comparable;
  isCaseSensitive(propertyName: string): boolean;
}

function makeComparator(properties: PropertyStore): Comparator {
  const typeOf = (name: string) => properties.get(name)?.type ?? "string";
  return {
    normalise(name, value) {
      const type = typeOf(name);
      if (type === "number") return Number(value);
      if (type === "date" || type === "datetime") return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      return type === "enumeration" ? value : value.toLowerCase();
    },
    isCaseSensitive: (name) => typeOf(name) === "enumeration",
  };
}

function matchesFilter(record: ContactRecord, filter: SearchFilter, comparator: Comparator): boolean {
  const raw = propertyValue(record, filter.propertyName);
  const has = raw !== null && raw !== "";
  const norm = (v: unknown) => comparator.normalise(filter.propertyName, String(v));
  switch (filter.operator) {
    case "HAS_PROPERTY":
      return has;
    case "NOT_HAS_PROPERTY":
      return !has;
    case "NEQ":
      return !has || norm(raw) !== norm(filter.value);
    case "NOT_IN":
      return !has || !(filter.values ?? []).some((v) => norm(v) === norm(raw));
    case "NOT_CONTAINS_TOKEN":
      return !has || !containsToken(raw, filter.value);
  }
  if (!has) return false;
  const value = norm(raw);
  switch (filter.operator) {
    case "EQ":
      return value === norm(filter.value);
    case "LT":
      return value < norm(filter.value);
    case "LTE":
      return value <= norm(filter.value);
    case "GT":
      return value > norm(filter.value);
    case "GTE":
      return value >= norm(filter.value);
    case "BETWEEN":
      return value >= norm(filter.value) && value <= norm(filter.highValue);
    case "IN":
      return (filter.values ?? []).some((v) => norm(v) === value);
    case "CONTAINS_TOKEN":
      return containsToken(raw, filter.value);
    default:
      throw validationError(`Unsupported filter operator ${filter.operator}`);
  }
}

/** `*` is a wildcard; otherwise a whole-token, case-insensitive match. */
function containsToken(raw: string, token: unknown): boolean {
  const pattern = String(token ?? "").toLowerCase();
  const regex = new RegExp(`^${pattern.split("*").map(escapeRegex).join(".*")}$`);
  return raw
    .toLowerCase()
    .split(/[\s@.,;]+/)
    .concat(raw.toLowerCase())
    .some((part) => regex.test(part));
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function matchesQuery(record: ContactRecord, query: string | undefined): boolean {
  if (!query) return true;
  const needle = query.toLowerCase();
  return QUERY_PROPERTIES.some((name) => propertyValue(record, name)?.toLowerCase().includes(needle));
}

function sortRecords(records: ContactRecord[], sorts: SearchRequest["sorts"], comparator: Comparator): void {
  const sort = sorts?.[0];
  if (sort === undefined) {
    records.sort((a, b) => Number(a.id) - Number(b.id));
    return;
  }
  const { propertyName, descending } =
    typeof sort === "string"
      ? { propertyName: sort.replace(/^-/, ""), descending: sort.startsWith("-") }
      : { propertyName: sort.propertyName, descending: sort.direction === "DESCENDING" };
  const key = (r: ContactRecord): Comparable | null => {
    const raw = propertyValue(r, propertyName);
    return raw === null ? null : comparator.normalise(propertyName, raw);
  };
  records.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) return Number(a.id) - Number(b.id);
    if (ka === null) return 1; // records without the value go last either way
    if (kb === null) return -1;
    return (ka < kb ? -1 : 1) * (descending ? -1 : 1);
  });
}
