/**
 * The local day of a daily limit. Lua has no time zones, so the caller names the day (its key) and the time to the
 * next local midnight (the refusal's wait and the key's expiry); the script only counts.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

// Building an Intl.DateTimeFormat costs far more than using one; one per time zone (a handful in practice).
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const clockFormats = new Map<string, Intl.DateTimeFormat>();

function cached(map: Map<string, Intl.DateTimeFormat>, timeZone: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let format = map.get(timeZone);
  if (!format) {
    format = make();
    map.set(timeZone, format);
  }
  return format;
}

/** The local date at `now` in `timeZone`, as YYYY-MM-DD. */
export function localDate(now: number, timeZone = "UTC"): string {
  return cached(dateFormats, timeZone, () => new Intl.DateTimeFormat("en-CA", { timeZone })).format(new Date(now));
}

/** Milliseconds since local midnight at `now` in `timeZone`. */
function sinceLocalMidnight(now: number, timeZone: string): number {
  const format = cached(
    clockFormats,
    timeZone,
    () => new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  );
  const parts = format.formatToParts(new Date(now));
  const value = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return ((value("hour") * 60 + value("minute")) * 60 + value("second")) * 1000 + (((now % 1000) + 1000) % 1000);
}

/** Milliseconds from `now` to the next midnight in `timeZone`, also on the 23 h and 25 h days of a DST change. */
export function msUntilLocalMidnight(now: number, timeZone = "UTC"): number {
  let midnight = now + DAY_MS - sinceLocalMidnight(now, timeZone);
  // Across a DST change that guess lands an hour off midnight (23:00 or 01:00 local): step to the midnight it missed.
  const off = sinceLocalMidnight(midnight, timeZone);
  if (off !== 0) midnight += off > DAY_MS / 2 ? DAY_MS - off : -off;
  return Math.max(1, midnight - now);
}
