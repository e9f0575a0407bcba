import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { AuthType, ResolvedOptions, SandboxPlan } from "../options.js";
import { WebhookDelivery } from "../webhooks/delivery.js";
import { Company, newApiToken, type User } from "./company.js";
import { FaultRegistry } from "./faults.js";
import { OAuthTokens } from "./oauth-tokens.js";
import type { PersonRecord } from "./persons.js";
import type { PipedriveSnapshot } from "./snapshot.js";
import { personWebhookData, previousWebhookData, rfc3339 } from "./serialize.js";

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

/** Who a request authenticated as. */
export interface Caller {
  company: Company;
  user: User;
  authType: AuthType;
  /** the credential the burst limit counts by */
  token: string;
  /** OAuth scopes; undefined for api tokens (full access) */
  scopes: string[] | undefined;
}

export type CallerLookup = { ok: true; caller: Caller } | { ok: false; reason: "invalid" | "expired" };

/** A person change as the webhook feed sees it. */
export interface PersonChange {
  action: "create" | "change" | "delete";
  record: PersonRecord;
  /** change: the changed fields' old values; delete: null (the last state is sent) */
  previous: Record<string, unknown> | null;
  source: "app" | "api";
  userId: number;
  mergedToId?: number;
  mergedFromId?: number;
}

/** Everything the sandbox knows: companies, credentials, faults, the webhook feed and the clock. */
export class SandboxState {
  readonly app: AppCredentials;
  readonly companies = new Map<number, Company>();
  readonly faults = new FaultRegistry();
  readonly delivery: WebhookDelivery;
  readonly oauth: OAuthTokens;
  /** added to the injected clock by `POST /__sandbox/clock` */
  private clockOffsetMs = 0;
  private lastCompanyId = 13_000_000;
  private lastUserId = 22_000_000;
  private lastObjectId = 100;
  private lastWebhookId = 700;

  constructor(readonly options: ResolvedOptions) {
    this.app = { clientId: options.clientId, clientSecret: options.clientSecret };
    this.oauth = new OAuthTokens({ accessTtlMs: options.accessTokenTtlSeconds * 1000, refreshIdleMs: options.refreshTokenIdleMs });
    this.delivery = new WebhookDelivery({
      now: () => this.now(),
      retryDelaysMs: options.webhookRetryDelaysMs,
      timeoutMs: options.webhookTimeoutMs,
      banThreshold: options.webhookBanThreshold,
      banMs: options.webhookBanMs,
      takeFault: (companyId) => this.faults.takeForWebhook(companyId),
      logger: options.logger === false ? undefined : (options.logger as Logger),
    });
  }

  now(): number {
    return this.options.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  createCompany(input: { plan?: SandboxPlan | undefined; seats?: number | undefined } = {}): Company {
    const seats = input.seats ?? 3;
    const firstUserId = this.lastUserId + 1;
    this.lastUserId += Math.max(2, seats);
    const company = new Company(++this.lastCompanyId, input.plan ?? "growth", seats, firstUserId, this.now(), () => ++this.lastObjectId);
    this.companies.set(company.id, company);
    return company;
  }

  nextWebhookId(): number {
    return ++this.lastWebhookId;
  }

  lookupApiToken(token: string): CallerLookup {
    for (const company of this.companies.values()) {
      const user = company.users.find((u) => u.apiToken === token);
      if (user) return { ok: true, caller: { company, user, authType: "api_token", token, scopes: undefined } };
    }
    return { ok: false, reason: "invalid" };
  }

  lookupBearer(token: string): CallerLookup {
    const found = this.oauth.lookupAccess(token, this.now());
    if (!found.ok) return found;
    const company = this.companies.get(found.grant.companyId);
    const user = company?.user(found.grant.userId);
    if (!company || !user) return { ok: false, reason: "invalid" };
    return { ok: true, caller: { company, user, authType: "oauth", token, scopes: found.grant.scopes } };
  }

  /** admin: a new API token for the user; the old one answers 401 from now on */
  rotateApiToken(user: User): string {
    user.apiToken = newApiToken();
    return user.apiToken;
  }

  /** Raises webhooks v2 events for every matching webhook of the company (v1 webhooks are kept but not delivered). */
  personChanged(company: Company, change: PersonChange): void {
    const { record } = change;
    const data = change.action === "delete" ? null : personWebhookData(record, company.personFields);
    const previous =
      change.action === "create"
        ? null
        : change.action === "delete"
          ? personWebhookData(record, company.personFields)
          : previousWebhookData(change.previous ?? {}, company.personFields);
    const correlationId = randomUUID();
    for (const webhook of company.webhooks) {
      if (webhook.is_active === 0 || webhook.version !== "2.0") continue;
      if (webhook.event_object !== "*" && webhook.event_object !== "person") continue;
      if (webhook.event_action !== "*" && webhook.event_action !== change.action) continue;
      const meta: Record<string, unknown> = {
        action: change.action,
        company_id: String(company.id),
        correlation_id: correlationId,
        entity_id: String(record.id),
        entity: "person",
        id: randomUUID(),
        is_bulk_edit: false,
        timestamp: new Date(this.now()).toISOString(),
        type: "general",
        webhook_id: String(webhook.id),
        webhook_owner_id: String(webhook.owner_id),
        change_source: change.source,
        permitted_user_ids: company.users.map((u) => String(u.id)),
        attempt: 1,
        host: `${company.domain}.pipedrive.com`,
        user_id: String(change.userId),
        version: "2.0",
        ...(change.mergedToId !== undefined && { merged_to_id: String(change.mergedToId) }),
        ...(change.mergedFromId !== undefined && { merged_from_id: String(change.mergedFromId) }),
      };
      this.delivery.enqueue({ company, webhook, meta, data, previous });
    }
  }

  /** The state a restarted emulator needs (state/snapshot.ts says what is left out). */
  snapshot(): PipedriveSnapshot {
    return {
      app: { ...this.app },
      counters: { clockOffsetMs: this.clockOffsetMs, lastCompanyId: this.lastCompanyId, lastUserId: this.lastUserId, lastObjectId: this.lastObjectId, lastWebhookId: this.lastWebhookId },
      companies: [...this.companies.values()].map((company) => ({
        id: company.id,
        plan: company.plan,
        seats: company.seats,
        status: company.status,
        users: company.users,
        persons: company.persons.all(),
        personFields: company.personFields.snapshot(),
        organizations: [...company.organizations.values()],
        leads: [...company.leads.values()],
        webhooks: company.webhooks,
      })),
      oauth: this.oauth.snapshot(),
    };
  }

  /** Loads a snapshot into this (new, empty) state; the app's credentials come from the options (see startSandbox). */
  restoreSnapshot(snapshot: PipedriveSnapshot): void {
    ({ clockOffsetMs: this.clockOffsetMs, lastCompanyId: this.lastCompanyId, lastUserId: this.lastUserId, lastObjectId: this.lastObjectId, lastWebhookId: this.lastWebhookId } = snapshot.counters);
    for (const stored of snapshot.companies) {
      const company = new Company(stored.id, stored.plan, stored.seats, stored.users[0]?.id ?? 0, this.now(), () => ++this.lastObjectId);
      company.status = stored.status;
      company.users.splice(0, company.users.length, ...stored.users);
      company.persons.restoreSnapshot(stored.persons);
      company.personFields.restoreSnapshot(stored.personFields);
      for (const org of stored.organizations) company.organizations.set(org.id, org);
      for (const lead of stored.leads) company.leads.set(lead.id, lead);
      company.webhooks.push(...stored.webhooks);
      this.companies.set(company.id, company);
    }
    this.oauth.restoreSnapshot(snapshot.oauth);
  }

  close(): void {
    this.delivery.close();
  }
}

export { rfc3339 };
