import { createHash, timingSafeEqual } from "node:crypto";
import type { ClientContext, EnabledFeed, RejectedWebhook, VerifiedWebhook, WebhookVerifier } from "@leadsync/core";
import { PipedriveSession } from "./session.js";
import { apiDomainOf, stateOf } from "./state.js";

/** The person events the sync needs (webhooks v2). */
export const PERSON_WEBHOOK_ACTIONS = ["create", "change", "delete"] as const;
const AUTH_USER_PREFIX = "lsync-";
/**
 * Pipedrive deletes a webhook after 3 days without a successful delivery (and bans one for 30 min after 10 failed
 * first attempts): the feed is checked daily and missing webhooks are re-created (`renewChangeFeed`, 20 tokens).
 */
export const RECHECK_AFTER_MS = 24 * 60 * 60 * 1000;

/** The HTTP Basic user of an integration's webhooks: it names the integration, so the receiver needs no lookup. */
export function webhookAuthUser(integrationId: string): string {
  return `${AUTH_USER_PREFIX}${integrationId}`;
}

interface WebhookLike {
  id?: number;
  event_action?: string;
  event_object?: string;
  subscription_url?: string;
  version?: string;
  is_active?: number;
  http_auth_user?: string | null;
  http_auth_password?: string | null;
}

/**
 * Turns on webhooks v2 `create|change|delete` on `person` to `webhookUrl`, with HTTP Basic credentials
 * `lsync-<integrationId>` / `webhookSecret`. Idempotent: a matching webhook is reused; one to the same URL and event
 * with other credentials (a rotated secret) is replaced; one Pipedrive deleted is created again (so this is also the
 * feed's renewal).
 */
export async function enablePersonWebhooks(context: ClientContext, options: { webhookUrl: string | null; webhookSecret: string }): Promise<EnabledFeed> {
  if (!options.webhookUrl) throw new Error("Pipedrive pushes webhooks: enable-webhooks needs a webhookUrl");
  const webhookUrl = options.webhookUrl;
  const state = stateOf(context.integration.state);
  const session = new PipedriveSession({
    apiDomain: apiDomainOf(state, context.env),
    authType: context.integration.authType,
    getAccessToken: (o) => context.getAccessToken(o),
    limiter: context.limiter,
    logger: context.logger,
    timeoutMs: context.env.requestTimeoutMs,
  });
  const authUser = webhookAuthUser(context.integration.id);
  const existing = ((await session.call("webhooks list", (api) => api.webhooks.getWebhooks())).data ?? []) as WebhookLike[];
  const subscriptions: EnabledFeed["subscriptions"] = [];
  for (const action of PERSON_WEBHOOK_ACTIONS) {
    const sameTarget = existing.filter((w) => w.subscription_url === webhookUrl && w.event_object === "person" && w.event_action === action && w.version === "2.0");
    let webhook = sameTarget.find((w) => w.http_auth_user === authUser && w.http_auth_password === options.webhookSecret && w.is_active !== 0);
    for (const stale of sameTarget.filter((w) => w !== webhook && typeof w.id === "number")) {
      await session.call("webhook delete", (api) => api.webhooks.deleteWebhook({ id: stale.id as number }));
    }
    if (!webhook) {
      const created = await session.call("webhook create", (api) =>
        api.webhooks.addWebhook({
          AddWebhookRequest: {
            subscription_url: webhookUrl,
            event_action: action,
            event_object: "person",
            name: `LeadSync ${action}.person`,
            version: "2.0",
            http_auth_user: authUser,
            http_auth_password: options.webhookSecret,
            ...(state.userId !== undefined && { user_id: Number(state.userId) }),
          },
        }),
      );
      webhook = created.data as WebhookLike;
    }
    subscriptions.push({ id: String(webhook.id), eventType: `${action}.person`, active: webhook.is_active !== 0 });
  }
  // a webhook we had made is gone: Pipedrive deleted it (3 days of failures), so changes in between were not sent
  const present = new Set(existing.map((w) => String(w.id)));
  const recreated = (state.webhookIds ?? []).some((id) => !present.has(id));
  return { subscriptions, webhookUrl, state: { webhookIds: subscriptions.map((s) => s.id) }, renewAt: Date.now() + RECHECK_AFTER_MS, ...(recreated && { recreated }) };
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  // compare equal-length buffers even when the lengths differ, so the time says nothing about the secret
  const same = timingSafeEqual(x.length === y.length ? x : y, y);
  return same && x.length === y.length;
}

/**
 * The receiver's check of `POST /api/v1/webhooks/pipedrive`: Pipedrive signs nothing, so HTTP Basic is the only proof.
 * The user names the integration (`lsync-<id>`) and the password must equal `deriveSecret(id)`, compared in constant
 * time. The queued event is the payload as received (`{meta, data, previous}`).
 */
const rejected = (status: RejectedWebhook["status"], reason: string, message: string): RejectedWebhook => ({ ok: false, status, reason, message });

/** A redelivery (`attempt` 2–4) of an event maps to the same job: the event's own id, which every attempt keeps. */
export function pipedriveJobId(companyId: string, eventId: string): string {
  return `pd-${createHash("sha256").update(`${companyId}\u001f${eventId}`).digest("hex")}`;
}

export const pipedriveWebhookVerifier: WebhookVerifier = {
  verify(request, context): VerifiedWebhook | RejectedWebhook {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header(request.headers, "authorization") ?? "");
    if (!match?.[1]) return rejected("auth", "missing_credentials", "missing HTTP Basic credentials");
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = colon < 0 ? "" : decoded.slice(0, colon);
    const password = colon < 0 ? "" : decoded.slice(colon + 1);
    if (!user.startsWith(AUTH_USER_PREFIX) || user.length === AUTH_USER_PREFIX.length) return rejected("auth", "unknown_user", "unknown webhook user");
    const integrationId = user.slice(AUTH_USER_PREFIX.length);
    if (!constantTimeEqual(password, context.deriveSecret(integrationId))) return rejected("auth", "bad_credentials", "wrong webhook credentials");

    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return rejected("malformed", "not_json", "body is not JSON");
    }
    const meta = (body as { meta?: unknown } | null)?.meta as Record<string, unknown> | undefined;
    if (!meta || typeof meta !== "object" || typeof meta["action"] !== "string" || typeof meta["id"] !== "string") {
      return rejected("malformed", "not_webhooks_v2", "not a Pipedrive webhooks v2 payload");
    }
    if (meta["entity"] !== "person") return rejected("ignore", "not_person", "not a person event");
    const companyId = String(meta["company_id"] ?? "");
    return {
      ok: true,
      events: [body as Record<string, unknown>],
      jobId: pipedriveJobId(companyId, meta["id"]),
      types: { [`${meta["action"]}.person`]: 1 },
      accounts: companyId === "" ? [] : [companyId],
      logFields: { integrationId, webhookId: meta["webhook_id"], attempt: meta["attempt"], changeSource: meta["change_source"] },
    };
  },
};
