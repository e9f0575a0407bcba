import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { AuthType, ResolvedOptions, SandboxTier } from "../options.js";
import { AppWebhooks } from "../webhooks/app-webhooks.js";
import { WebhookDelivery } from "../webhooks/delivery.js";
import { eventsForChange, type ChangeSource, type ContactChange } from "../webhooks/events.js";
import { AuthorizationCodes } from "./authorization-codes.js";
import { FaultRegistry } from "./faults.js";
import { Portal } from "./portal.js";
import type { HubSpotSnapshot } from "./snapshot.js";

export interface AppCredentials {
  appId: number;
  clientId: string;
  clientSecret: string;
  developerApiKey: string;
}

interface AccessTokenEntry {
  portalId: number;
  /** ms epoch; null for private-app tokens, which never expire */
  expiresAt: number | null;
}

export interface PortalInput {
  tier?: SandboxTier | undefined;
  authType?: AuthType | undefined;
  /** Recreate a portal with this id (it must not exist yet). */
  portalId?: number | undefined;
  /** Recreate a private app's token (oauth portals get fresh tokens). */
  accessToken?: string | undefined;
}

/** How the emulated user answers HubSpot's install screen. */
export interface OAuthConsent {
  decision: "approve" | "deny";
  /** the portal to install on; default the first OAuth portal, else a new one */
  portalId?: number;
}

export type TokenLookup = { portal: Portal; expiresAt: number | null } | { error: "INVALID_AUTHENTICATION" | "EXPIRED_AUTHENTICATION" };

/** Everything the sandbox knows: the developer app, its portals and their credentials, webhooks and faults. */
export class SandboxState {
  readonly app: AppCredentials;
  readonly portals = new Map<number, Portal>();
  readonly webhooks: AppWebhooks;
  readonly delivery: WebhookDelivery;
  readonly faults = new FaultRegistry();
  readonly authorizationCodes: AuthorizationCodes;
  /** What `GET /oauth/authorize` does when the request does not say (`POST /__sandbox/oauth/consent`). */
  consent: OAuthConsent = { decision: "approve" };
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  /** live refresh tokens → portal; a revoked one is removed */
  private readonly refreshTokens = new Map<string, number>();
  private lastPortalId = 20_000_000;
  private lastContactId = 1000;
  private lastEventId = 0;

  constructor(private readonly options: ResolvedOptions) {
    this.app = {
      appId: options.appId,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      developerApiKey: options.developerApiKey,
    };
    this.authorizationCodes = new AuthorizationCodes(options.authorizationCodeTtlSeconds * 1000);
    this.webhooks = new AppWebhooks(options.webhookTargetUrl, options.defaultSubscriptions);
    this.delivery = new WebhookDelivery({
      clientSecret: options.clientSecret,
      flushMs: options.webhookFlushMs,
      retryDelaysMs: options.webhookRetryDelaysMs,
      timeoutMs: options.webhookTimeoutMs,
      settings: () => this.webhooks.settings,
      takeFault: (portalId) => this.faults.takeForWebhook(portalId),
      logger: options.logger === false ? undefined : (options.logger as Logger),
    });
  }

  /**
   * A new portal. `portalId` and `accessToken` (private apps) recreate a portal a previous sandbox had, so a client
   * that stored them (pnpm start's dev state) keeps working across restarts.
   */
  createPortal(input: PortalInput = {}): Portal {
    if (input.portalId !== undefined && this.portals.has(input.portalId)) throw new Error(`portal ${input.portalId} already exists`);
    const portalId = input.portalId ?? ++this.lastPortalId;
    this.lastPortalId = Math.max(this.lastPortalId, portalId);
    const portal = new Portal(portalId, input.tier ?? "starter", input.authType ?? "private_app", () => String(++this.lastContactId));
    this.portals.set(portal.portalId, portal);
    if (portal.authType === "oauth") {
      portal.refreshToken = `na1-${randomUUID()}`;
      this.refreshTokens.set(portal.refreshToken, portal.portalId);
      this.issueAccessToken(portal);
    } else {
      if (input.accessToken !== undefined && this.accessTokens.has(input.accessToken)) throw new Error("access token already in use");
      portal.accessToken = input.accessToken ?? `pat-na1-${randomUUID()}`;
      this.accessTokens.set(portal.accessToken, { portalId: portal.portalId, expiresAt: null });
    }
    return portal;
  }

  /**
   * Puts contacts back with the ids they had (restoring a portal after a restart): no webhook events, since nothing
   * changed for the client. New contacts get ids above every restored one.
   */
  restoreContacts(portalId: number, contacts: readonly { id: string; properties: Record<string, string> }[], now = Date.now()): void {
    const portal = this.portals.get(portalId);
    if (!portal) throw new Error(`portal ${portalId} does not exist`);
    for (const contact of contacts) {
      if (!/^\d+$/.test(contact.id)) throw new Error(`contact id ${contact.id} is not numeric`);
      portal.contacts.insertWithId(contact.id, contact.properties, now);
      this.lastContactId = Math.max(this.lastContactId, Number(contact.id));
    }
  }

  lookupAccessToken(token: string, now = Date.now()): TokenLookup {
    const entry = this.accessTokens.get(token);
    const portal = entry && this.portals.get(entry.portalId);
    if (!entry || !portal) return { error: "INVALID_AUTHENTICATION" };
    if (entry.expiresAt !== null && entry.expiresAt <= now) return { error: "EXPIRED_AUTHENTICATION" };
    return { portal, expiresAt: entry.expiresAt };
  }

  /** `grant_type=refresh_token`: a new access token; HubSpot keeps the refresh token the same. */
  refreshAccessToken(refreshToken: string): { portal: Portal; accessToken: string; expiresAt: number } | undefined {
    const portalId = this.refreshTokens.get(refreshToken);
    const portal = portalId === undefined ? undefined : this.portals.get(portalId);
    if (!portal) return undefined;
    const accessToken = this.issueAccessToken(portal);
    return { portal, accessToken, expiresAt: Date.now() + this.options.accessTokenTtlSeconds * 1000 };
  }

  /**
   * The app installed on an OAuth portal (the authorization-code grant): a fresh access token, and the portal's live
   * refresh token (a new one when it was revoked or never issued).
   */
  installApp(portal: Portal): { accessToken: string; refreshToken: string; expiresAt: number } {
    if (portal.refreshToken === undefined || !this.refreshTokens.has(portal.refreshToken)) {
      portal.refreshToken = `na1-${randomUUID()}`;
      this.refreshTokens.set(portal.refreshToken, portal.portalId);
    }
    const accessToken = this.issueAccessToken(portal);
    return { accessToken, refreshToken: portal.refreshToken, expiresAt: Date.now() + this.options.accessTokenTtlSeconds * 1000 };
  }

  revokeRefreshToken(portal: Portal): void {
    if (portal.refreshToken !== undefined) this.refreshTokens.delete(portal.refreshToken);
  }

  /** Makes every access token of the portal expired now (the next call answers 401 EXPIRED_AUTHENTICATION). */
  expireAccessTokens(portal: Portal): void {
    for (const entry of this.accessTokens.values()) {
      if (entry.portalId === portal.portalId) entry.expiresAt = Date.now() - 1;
    }
  }

  /** Turns a contact change into webhook events for the app's subscriptions and queues them for delivery. */
  recordChange(portal: Portal, change: ContactChange, source: ChangeSource): void {
    if (!this.webhooks.settings) return; // no target URL: HubSpot has nowhere to send events
    const events = eventsForChange(change, this.webhooks, {
      portalId: portal.portalId,
      appId: this.app.appId,
      source,
      nextEventId: () => ++this.lastEventId,
    });
    this.delivery.enqueue(portal.portalId, events);
  }

  uiSource(portal: Portal): ChangeSource {
    return { changeSource: "CRM_UI", sourceId: `userId:${portal.uiUserId}` };
  }

  integrationSource(): ChangeSource {
    return { changeSource: "INTEGRATION", sourceId: String(this.app.appId) };
  }

  close(): void {
    this.delivery.close();
  }

  /** The state a restarted sandbox needs (state/snapshot.ts says what is left out). */
  snapshot(): HubSpotSnapshot {
    const webhooks = this.webhooks.snapshot();
    return {
      app: { appId: this.app.appId, clientId: this.app.clientId, developerApiKey: this.app.developerApiKey },
      portals: [...this.portals.values()].map((portal) => ({
        portalId: portal.portalId,
        tier: portal.tier,
        authType: portal.authType,
        accessToken: portal.accessToken,
        ...(portal.refreshToken !== undefined && { refreshToken: portal.refreshToken }),
        overrides: portal.overrides,
        contacts: portal.contacts.snapshot(),
        properties: portal.properties.list(),
      })),
      accessTokens: [...this.accessTokens.entries()],
      refreshTokens: [...this.refreshTokens.entries()],
      webhooks: { ...(webhooks.settings && { settings: webhooks.settings }), subscriptions: webhooks.subscriptions, nextId: webhooks.nextId },
      consent: this.consent,
      counters: { lastPortalId: this.lastPortalId, lastContactId: this.lastContactId, lastEventId: this.lastEventId },
    };
  }

  /** Loads a snapshot into this (new, empty) state; the app's ids come from the options (see startSandbox). */
  restoreSnapshot(snapshot: HubSpotSnapshot): void {
    for (const stored of snapshot.portals) {
      const portal = new Portal(stored.portalId, stored.tier, stored.authType, () => String(++this.lastContactId));
      portal.accessToken = stored.accessToken;
      if (stored.refreshToken !== undefined) portal.refreshToken = stored.refreshToken;
      portal.overrides = withoutUndefined(stored.overrides);
      portal.contacts.restoreSnapshot(stored.contacts.map(withoutUndefined));
      portal.properties.restoreSnapshot(stored.properties.map((p) => ({ ...p, options: p.options.map(withoutUndefined) })));
      this.portals.set(portal.portalId, portal);
    }
    for (const [token, entry] of snapshot.accessTokens) this.accessTokens.set(token, entry);
    for (const [token, portalId] of snapshot.refreshTokens) this.refreshTokens.set(token, portalId);
    const { settings, subscriptions, nextId } = snapshot.webhooks;
    this.webhooks.restoreSnapshot({ settings, subscriptions: subscriptions.map(withoutUndefined), nextId });
    this.consent = withoutUndefined(snapshot.consent);
    ({ lastPortalId: this.lastPortalId, lastContactId: this.lastContactId, lastEventId: this.lastEventId } = snapshot.counters);
  }

  private issueAccessToken(portal: Portal): string {
    const token = `CO${randomBytes(32).toString("base64url")}`;
    this.accessTokens.set(token, { portalId: portal.portalId, expiresAt: Date.now() + this.options.accessTokenTtlSeconds * 1000 });
    portal.accessToken = token;
    return token;
  }
}

/** A parsed object without its undefined optional keys (zod's optional allows them; exact optional types do not). */
function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
