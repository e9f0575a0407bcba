/** Zoho's datetime format: ISO 8601 to the second with an offset, e.g. `2026-12-03T06:40:00+00:00`. */
export function zohoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/** Parses a Zoho datetime (or any ISO 8601 string); NaN when it is not one. */
export function parseZohoTime(value: string): number {
  return Date.parse(value);
}
