import { normalizeEmail, type CrmContact } from "@leadsync/core";
import { RateLimitedError, createHubSpotClient, toHubSpotError, type PortalRateLimiter, type RateBudget } from "@leadsync/hubspot";

/**
 * Batch read by email (`idProperty: "email"`), with the provider's limiter discipline. The outbound worker no
 * longer needs it (batch create answers a taken email per input); it stays available on `SyncProvider` for
 * lookups by email.
 */
export interface ContactsByEmailReader {
  fetchContactsByEmail(emails: readonly string[], properties: readonly string[]): Promise<CrmContact[]>;
}

export interface HubSpotEmailReaderOptions {
  portalId: string;
  basePath: string;
  requestTimeoutMs?: number;
  getAccessToken: () => Promise<string>;
  limiter?: { limiter: PortalRateLimiter; budget: RateBudget };
}

const BATCH_SIZE = 100;

export function createHubSpotEmailReader(options: HubSpotEmailReaderOptions): ContactsByEmailReader {
  // The provider's limiter key: both draw on the same per-portal budget.
  const portalKey = `hubspot:${options.portalId}`;

  async function acquire(): Promise<void> {
    if (!options.limiter) return;
    const result = await options.limiter.limiter.acquire(portalKey, { ...options.limiter.budget, kind: "standard" });
    if (!result.ok) {
      throw new RateLimitedError(`HubSpot contacts batch read deferred: portal ${options.portalId} is at its rate limit`, {
        retryAfterMs: result.retryAfterMs,
        policy: "local",
      });
    }
  }

  return {
    async fetchContactsByEmail(emails, properties) {
      const unique = [...new Set(emails.map(normalizeEmail))];
      const contacts: CrmContact[] = [];
      for (let i = 0; i < unique.length; i += BATCH_SIZE) {
        await acquire();
        const client = createHubSpotClient({
          accessToken: await options.getAccessToken(),
          basePath: options.basePath,
          ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
        });
        try {
          const response = await client.crm.contacts.batchApi.read(
            {
              inputs: unique.slice(i, i + BATCH_SIZE).map((id) => ({ id })),
              idProperty: "email",
              properties: [...new Set(["email", ...properties])],
              propertiesWithHistory: [],
            },
            false,
          );
          contacts.push(...response.results.map((r) => ({ id: r.id, properties: r.properties, updatedAt: r.updatedAt.getTime() })));
        } catch (err) {
          throw toHubSpotError(err, "contacts batch read by email");
        }
      }
      return contacts;
    },
  };
}
