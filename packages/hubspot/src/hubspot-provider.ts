import type { Client } from "@hubspot/api-client";
import type { Filter } from "@hubspot/api-client/lib/codegen/crm/contacts/index.js";
import type { Logger } from "@leadsync/config";
import { normalizeEmail } from "@leadsync/core";
import { LEAD_SOURCE_PROPERTY } from "@leadsync/core";
import type { ContactPage, CrmContact, CrmProviderClient, CrmProviderLimits, UpdateInput, UpsertInput, UpsertResult } from "@leadsync/core";
import { HubSpotApiError, RateLimitedError, toHubSpotError } from "./errors.js";
import type { RateBudget } from "./rate-budget.js";
import { LOCAL_DAILY_POLICY, type PortalRateLimiter, type RateLimitKind } from "./rate-limiter.js";
import { createHubSpotClient } from "./sdk-client.js";
import { hubspotCallMetrics } from "./call-metrics.js";
import { createWithNarrowing, updateWithNarrowing, upsertWithNarrowing } from "./upsert-batch.js";

/** HubSpot's batch endpoints take at most 100 records per call. */
export const HUBSPOT_BATCH_SIZE = 100;
const SEARCH_PAGE_SIZE = 100;

export interface HubSpotProviderOptions {
  portalId: string;
  basePath: string;
  /** Per-call timeout (ms); default the SDK client's. */
  requestTimeoutMs?: number;
  /** The current access token (private-app token, or an OAuth token kept fresh by `AccessTokenCache`). */
  getAccessToken: () => Promise<string>;
  limiter?: { limiter: PortalRateLimiter; budget: RateBudget; timeZone?: string };
  logger: Logger;
}

export type { ContactPage } from "@leadsync/core";

/** The headers and data of an SDK `…WithHttpInfo` call. */
interface HttpInfoLike<T> {
  httpStatusCode: number;
  headers: Record<string, string>;
  data: T;
}

/**
 * `CrmProviderClient` for one HubSpot portal. Every HTTP call takes a slot from the portal's shared
 * limiter first (a refusal throws `RateLimitedError`, so the job is delayed rather than failed), feeds
 * HubSpot's rate-limit headers back to it, and pauses the portal on a 429.
 */
export class HubSpotProvider implements CrmProviderClient {
  readonly provider = "hubspot";
  readonly limits: CrmProviderLimits = { maxBatchSize: HUBSPOT_BATCH_SIZE };
  readonly markerField = LEAD_SOURCE_PROPERTY;

  private readonly portalKey: string;
  private cached: { token: string; client: Client } | undefined;

  constructor(private readonly options: HubSpotProviderOptions) {
    this.portalKey = `hubspot:${options.portalId}`;
  }

  /**
   * Reads the contacts, 100 per call. The calls' budget is taken all at once: when the portal cannot afford every
   * chunk now, nothing is read (the caller's jobs wait) instead of spending calls on a part it would drop.
   */
  async fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]> {
    const contacts: CrmContact[] = [];
    const parts = chunks([...new Set(ids)], HUBSPOT_BATCH_SIZE);
    if (parts.length === 0) return contacts;
    // A budget smaller than the chunks (a tiny per-integration override) takes the rest one call at a time.
    const together = Math.min(parts.length, this.callsPerWindow("standard") ?? parts.length);
    await this.acquire("contacts batch read", "standard", together);
    for (const [i, chunk] of parts.entries()) {
      // A 207 lists unknown ids as errors: HubSpot's way of saying "absent", not a failure.
      const read = (client: Client) =>
        client.crm.contacts.batchApi.readWithHttpInfo({ inputs: chunk.map((id) => ({ id })), properties: [...properties], propertiesWithHistory: [] }, false);
      const response = i < together ? await this.callAcquired("contacts batch read", "standard", read) : await this.call("contacts batch read", "standard", read);
      contacts.push(...response.results.map(toCrmContact));
    }
    return contacts;
  }

  /**
   * Creates or updates by email, 100 per call. A batch HubSpot rejects for one bad value is narrowed
   * down so the other inputs still go through (see upsert-batch.ts). A transient failure before any
   * chunk succeeded throws (the job is retried or delayed); after that, the remaining inputs come back
   * as retryable failures so the results already written are not lost.
   */
  async upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (const chunk of chunks(inputs, HUBSPOT_BATCH_SIZE)) {
      try {
        results.push(
          ...(await upsertWithNarrowing(chunk, (batch) =>
            this.call("contacts batch upsert", "standard", (client) =>
              client.crm.contacts.batchApi.upsertWithHttpInfo({
                inputs: batch.map((input) => ({
                  id: normalizeEmail(input.email),
                  idProperty: "email",
                  objectWriteTraceId: input.leadId,
                  properties: { ...input.properties, email: normalizeEmail(input.email) },
                })),
              }),
            ),
          )),
        );
      } catch (err) {
        const error = toHubSpotError(err, "contacts batch upsert");
        if (results.length === 0 || !error.retryable) throw error;
        this.options.logger.warn({ err: error, portalId: this.options.portalId }, "HubSpot upsert interrupted; remaining inputs left for retry");
        results.push(...chunk.map((input) => ({ leadId: input.leadId, ok: false as const, message: error.message, retryable: true })));
      }
    }
    return results;
  }

  /**
   * Batch create, 100 per call, each input traced by its lead id so HubSpot answers per input (207): a taken
   * email comes back with `existingId` and nothing is written to that contact. Chunks run like `upsertContacts`.
   */
  async createContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    return this.writeInChunks("contacts batch create", inputs, (chunk) =>
      createWithNarrowing(chunk, (batch) =>
        this.call("contacts batch create", "standard", (client) =>
          client.crm.contacts.batchApi.createWithHttpInfo({
            inputs: batch.map((input) => ({
              associations: [],
              objectWriteTraceId: input.leadId,
              properties: { ...input.properties, email: normalizeEmail(input.email) },
            })),
          }),
        ),
      ),
    );
  }

  /** Batch update by contact id, 100 per call, with exactly the given properties. */
  async updateContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    return this.writeInChunks("contacts batch update", inputs, (chunk) =>
      updateWithNarrowing(chunk, (batch) =>
        this.call("contacts batch update", "standard", (client) =>
          client.crm.contacts.batchApi.updateWithHttpInfo({
            inputs: batch.map((input) => ({ id: input.externalId, properties: input.properties })),
          }),
        ),
      ),
    );
  }

  /** A transient failure before any chunk was written throws; after that the rest come back retryable, keeping what was written. */
  private async writeInChunks<I extends { leadId: string }>(
    operation: string,
    inputs: readonly I[],
    write: (chunk: I[]) => Promise<UpsertResult[]>,
  ): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (const chunk of chunks(inputs, HUBSPOT_BATCH_SIZE)) {
      try {
        results.push(...(await write(chunk)));
      } catch (err) {
        const error = toHubSpotError(err, operation);
        if (results.length === 0 || !error.retryable) throw error;
        this.options.logger.warn({ err: error, portalId: this.options.portalId }, `HubSpot ${operation} interrupted; remaining inputs left for retry`);
        results.push(...chunk.map((input) => ({ leadId: input.leadId, ok: false as const, message: error.message, retryable: true })));
      }
    }
    return results;
  }

  /** Contacts modified at or after `sinceMs`, oldest first (for reconciliation). Search is limited to 5/s. */
  async searchContactsModifiedSince(sinceMs: number, after?: string, properties?: readonly string[]): Promise<ContactPage> {
    const response = await this.call("contacts search", "search", (client) =>
      client.crm.contacts.searchApi.doSearchWithHttpInfo({
        filterGroups: [{ filters: [{ propertyName: "lastmodifieddate", operator: "GTE" as Filter["operator"], value: String(sinceMs) }] }],
        sorts: ["lastmodifieddate"],
        limit: SEARCH_PAGE_SIZE,
        ...(after === undefined ? {} : { after }),
        ...(properties === undefined ? {} : { properties: [...properties] }),
      }),
    );
    const next = response.paging?.next?.after;
    return { contacts: response.results.map(toCrmContact), ...(next ? { after: next } : {}) };
  }

  /**
   * Every live contact with an id above `afterId`, in id order, `limit` (≤200) per call, for backfills. Keyset
   * paging by `hs_object_id` never reaches search's 10,000-result cap; `total` counts what is left.
   */
  async searchContactsAfterId(afterId: string | undefined, properties: readonly string[], limit = 200): Promise<ContactPage & { total: number }> {
    const response = await this.call("contacts search", "search", (client) =>
      client.crm.contacts.searchApi.doSearchWithHttpInfo({
        filterGroups: [{ filters: [{ propertyName: "hs_object_id", operator: "GT" as Filter["operator"], value: afterId ?? "0" }] }],
        sorts: ["hs_object_id"],
        limit,
        properties: [...properties],
      }),
    );
    const contacts = response.results.map(toCrmContact);
    const last = contacts.at(-1);
    return { contacts, total: response.total, ...(response.paging?.next && last ? { after: last.id } : {}) };
  }

  async listFieldNames(): Promise<string[]> {
    const page = await this.call("contact properties", "standard", (client) => client.crm.properties.coreApi.getAllWithHttpInfo("contacts", false));
    return page.results.map((p) => p.name);
  }

  listContactsAfter(afterId: string | undefined, properties: readonly string[], limit?: number): Promise<ContactPage> {
    return this.searchContactsAfterId(afterId, properties, limit);
  }

  listContactsModifiedSince(sinceMs: number, after: string | undefined, properties: readonly string[]): Promise<ContactPage> {
    return this.searchContactsModifiedSince(sinceMs, after, properties);
  }

  /** limiter → SDK → observe headers; errors mapped, 429s pause the portal for every process. */
  private async call<T>(operation: string, kind: RateLimitKind, send: (client: Client) => Promise<HttpInfoLike<T>>): Promise<T> {
    await this.acquire(operation, kind);
    return this.callAcquired(operation, kind, send);
  }

  /** `call` for a request whose slot in the portal's budget was already taken (see fetchContacts). */
  private async callAcquired<T>(operation: string, kind: RateLimitKind, send: (client: Client) => Promise<HttpInfoLike<T>>): Promise<T> {
    const client = await this.client();
    const labels = { portal: this.options.portalId, endpoint: operation };
    const stopTimer = hubspotCallMetrics.duration.startTimer(labels);
    try {
      const response = await send(client);
      hubspotCallMetrics.calls.inc({ ...labels, status: String(response.httpStatusCode) });
      await this.observe(response.headers);
      return response.data;
    } catch (err) {
      const error = toHubSpotError(err, operation, this.timeZoneOption());
      hubspotCallMetrics.calls.inc({ ...labels, status: error.status === undefined ? "network" : String(error.status) });
      if (error instanceof RateLimitedError) {
        hubspotCallMetrics.throttled.inc({ ...labels, policy: error.policy });
        await this.pauseAfter429(error, kind);
      }
      throw error;
    } finally {
      stopTimer();
    }
  }

  private callsPerWindow(kind: RateLimitKind): number | null {
    const limiter = this.options.limiter;
    return limiter ? limiter.limiter.callsPerWindow({ ...limiter.budget, kind }) : null;
  }

  private async acquire(operation: string, kind: RateLimitKind, calls = 1): Promise<void> {
    const limiter = this.options.limiter;
    if (!limiter) return;
    const result = await limiter.limiter.acquire(this.portalKey, { ...limiter.budget, kind, calls, ...this.timeZoneOption() });
    if (!result.ok) {
      const daily = result.reason === "daily";
      const limit = daily ? `daily cap (resets in ${Math.ceil(result.retryAfterMs / 60_000)} min)` : "rate limit";
      throw new RateLimitedError(`HubSpot ${operation} deferred: portal ${this.options.portalId} is at its ${limit}`, {
        retryAfterMs: result.retryAfterMs,
        policy: daily ? LOCAL_DAILY_POLICY : "local",
      });
    }
  }

  private async observe(headers: Record<string, string>): Promise<void> {
    const limiter = this.options.limiter;
    if (!limiter) return;
    try {
      await limiter.limiter.observe(this.portalKey, headers, this.timeZoneOption());
    } catch (err) {
      // The call itself succeeded; a missed correction only makes the limiter less precise.
      this.options.logger.warn({ err, portalId: this.options.portalId }, "could not record HubSpot rate-limit headers");
    }
  }

  private async pauseAfter429(error: RateLimitedError, kind: RateLimitKind): Promise<void> {
    this.options.logger.warn(
      { portalId: this.options.portalId, policy: error.policy, retryAfterMs: error.retryAfterMs, correlationId: error.correlationId },
      "HubSpot answered 429; pausing the portal",
    );
    const limiter = this.options.limiter;
    if (!limiter) return;
    // A daily cap stops every kind of call; the 10 s and search limits only their own.
    await limiter.limiter.pause(this.portalKey, error.retryAfterMs, error.policy === "DAILY" ? undefined : kind);
  }

  private timeZoneOption(): { timeZone?: string } {
    const timeZone = this.options.limiter?.timeZone;
    return timeZone === undefined ? {} : { timeZone };
  }

  /** One SDK client per token: OAuth tokens change every 30 minutes. */
  private async client(): Promise<Client> {
    let token: string;
    try {
      token = await this.options.getAccessToken();
    } catch (err) {
      if (err instanceof HubSpotApiError) throw err;
      throw toHubSpotError(err, "access token lookup");
    }
    if (this.cached?.token !== token) {
      this.cached = { token, client: createHubSpotClient({
          accessToken: token,
          basePath: this.options.basePath,
          ...(this.options.requestTimeoutMs === undefined ? {} : { timeoutMs: this.options.requestTimeoutMs }),
        }) };
    }
    return this.cached.client;
  }
}

function toCrmContact(record: {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date;
  archived?: boolean;
}): CrmContact {
  return {
    id: record.id,
    properties: record.properties,
    updatedAt: record.updatedAt.getTime(),
    ...(record.archived === undefined ? {} : { archived: record.archived }),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
