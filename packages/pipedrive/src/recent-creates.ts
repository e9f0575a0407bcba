/**
 * Persons this process created lately, by integration and email. Pipedrive's search index lags writes, so a person
 * created a moment ago may not be found by the search-before-create of the next job yet; without this the lead's
 * second write (a quick edit after the create) could make a duplicate. Bounded and short-lived: the search covers
 * everything older, and other processes rely on it alone.
 */
/** Pipedrive's index catches up within seconds; two minutes is plenty and keeps a deleted person's id short-lived. */
const TTL_MS = 2 * 60 * 1000;
const MAX_ENTRIES = 20_000;

const entries = new Map<string, { personId: string; at: number }>();

const keyOf = (integrationId: string, email: string) => `${integrationId}\u001f${email}`;

export function rememberCreated(integrationId: string, email: string, personId: string, now = Date.now()): void {
  const key = keyOf(integrationId, email);
  entries.delete(key);
  entries.set(key, { personId, at: now });
  // Maps iterate in insertion order: the first entries are the oldest
  for (const [oldest] of entries) {
    if (entries.size <= MAX_ENTRIES) break;
    entries.delete(oldest);
  }
}

export function recentlyCreated(integrationId: string, email: string, now = Date.now()): string | undefined {
  const entry = entries.get(keyOf(integrationId, email));
  if (!entry) return undefined;
  if (now - entry.at > TTL_MS) {
    entries.delete(keyOf(integrationId, email));
    return undefined;
  }
  return entry.personId;
}

/** The person was deleted or merged away: forget it. */
export function forgetCreated(integrationId: string, personId: string): void {
  for (const [key, entry] of entries) if (entry.personId === personId && key.startsWith(`${integrationId}\u001f`)) entries.delete(key);
}
