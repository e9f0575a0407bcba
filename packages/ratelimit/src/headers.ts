import type { ObservedUsage } from "./account-limiter.js";

/**
 * The CRMs' usage headers as `observe` input. Each provider names the window its policy calls that limit; these only
 * parse (providers-facts.md §2.5, §3.5, §4.5). Missing or malformed headers give nothing to observe.
 */

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Salesforce `Sforce-Limit-Info: api-usage=10018/100000` (sometimes `; api-bursts=1/750`): the rolling 24 h requests. */
export function parseSforceLimitInfo(headers: Headers, window: string): ObservedUsage | undefined {
  const match = /api-usage=(\d+)\/(\d+)/.exec(header(headers, "sforce-limit-info") ?? "");
  if (!match) return undefined;
  return { window, used: Number(match[1]), limit: Number(match[2]) };
}

/** Zoho `X-API-CREDITS-REMAINING` (sent only once half the day's credits are spent; no reset header). */
export function parseZohoCredits(headers: Headers, window: string): ObservedUsage | undefined {
  const remaining = count(header(headers, "x-api-credits-remaining"));
  return remaining === undefined ? undefined : { window, remaining };
}

/**
 * Pipedrive's burst headers `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset`. The reset is seconds
 * left in the 2 s window: the docs name no unit, but their example after one request reads `x-ratelimit-reset: 2`.
 */
export function parsePipedriveRateLimit(headers: Headers, window: string): ObservedUsage | undefined {
  const remaining = count(header(headers, "x-ratelimit-remaining"));
  if (remaining === undefined) return undefined;
  const limit = count(header(headers, "x-ratelimit-limit"));
  const reset = count(header(headers, "x-ratelimit-reset"));
  return { window, remaining, ...(limit !== undefined && { limit }), ...(reset !== undefined && { resetInMs: reset * 1000 }) };
}
