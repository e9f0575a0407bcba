/**
 * Where one account's state lives. Every key of an account starts with the same hash tag,
 * `{<prefix>:<provider>:<account>}`, so each script touches one Redis Cluster slot while different accounts spread
 * over the cluster. Braces are dropped from the prefix inside the tag: the app's prefix is BullMQ's hash-tagged
 * `{leadsync}`, and a nested tag would put every account of every CRM in that one slot.
 */
export function accountTag(keyPrefix: string, provider: string, accountId: string): string {
  return `{${keyPrefix.replace(/[{}]/g, "")}:${encodeURIComponent(provider)}:${encodeURIComponent(accountId)}}`;
}

export const pauseKey = (tag: string) => `${tag}:pause`;

/** A rolling window: a sorted set of bucket times, and a hash of each bucket's units plus their `total`. */
export const rollingKeys = (tag: string, stem: string): [times: string, units: string] => [`${tag}:${stem}:times`, `${tag}:${stem}:units`];

/** A daily counter: one key per local date, so a new day starts from zero without anyone resetting it. */
export const dailyKey = (tag: string, stem: string, date: string) => `${tag}:${stem}:${date}`;

/** A concurrency cap: a sorted set of lease tokens scored by when they lapse. */
export const leaseKey = (tag: string, stem: string) => `${tag}:${stem}`;
