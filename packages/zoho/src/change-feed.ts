import { createHash } from "node:crypto";
import { ProviderConnectError, type ClientContext, type EnabledFeed } from "@leadsync/core";
import { isRecord } from "./errors.js";
import type { ZohoHttp } from "./http.js";
import { zohoDateTime } from "./lead-values.js";
import { readState } from "./state.js";

/** Zoho's maximum channel life since v4 (providers-facts §3.4), less a minute of clock skew. */
export const MAX_CHANNEL_LIFE_MS = 7 * 24 * 60 * 60 * 1000 - 60_000;
export const CHANNEL_EVENTS = ["Leads.create", "Leads.edit", "Leads.delete"] as const;
export const MAX_CHANNEL_TOKEN_LENGTH = 50;

/**
 * The channel id of an integration: a positive 63-bit long derived from the integration id, so the receiver checks
 * a callback's `channel_id` without a lookup, and a re-created channel keeps its id.
 */
export function channelIdFor(integrationId: string): string {
  const digest = createHash("sha256").update(`leadsync-zoho-channel\u001f${integrationId}`).digest();
  const value = digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
  // at least 16 digits, like Zoho's own ids
  return (value < 1_000_000_000_000_000n ? value + 1_000_000_000_000_000n : value).toString();
}

/** The callback URL: the caller's webhook URL plus `integration` and `org`, which Zoho echoes in `query_params`. */
export function notifyUrlFor(webhookUrl: string, integrationId: string, orgId: string): string {
  const url = new URL(webhookUrl);
  url.searchParams.set("integration", integrationId);
  url.searchParams.set("org", orgId);
  return url.toString();
}

interface FeedOptions {
  webhookUrl: string | null;
  webhookSecret: string;
}

/** Subscribes (POST) the integration's channel; idempotent, an existing channel is updated instead. */
export async function enableChannel(http: ZohoHttp, context: ClientContext, options: FeedOptions): Promise<EnabledFeed> {
  const watch = channelBody(context, options);
  const created = await watchCall(http, "POST", watch);
  if (created.code !== "SUCCESS") {
    const updated = await watchCall(http, "PATCH", watch);
    if (updated.code !== "SUCCESS") throw new Error(`Zoho refused the notification channel: ${created.code} / ${updated.code}`);
  }
  return enabled(options.webhookUrl, watch, {});
}

/**
 * Renews the channel before it expires (PATCH). A channel Zoho forgot (expired and garbage-collected:
 * `NOT_SUBSCRIBED`) is re-created and the feed says so (`recreated`; state `channelRecreatedAt`, `channelGapSince`):
 * changes in between were never notified, and the caller reconciles.
 */
export async function renewChannel(http: ZohoHttp, context: ClientContext, options: FeedOptions): Promise<EnabledFeed> {
  const watch = channelBody(context, options);
  const renewed = await watchCall(http, "PATCH", watch);
  if (renewed.code === "SUCCESS") return enabled(options.webhookUrl, watch, {});
  if (renewed.code !== "NOT_SUBSCRIBED") throw new Error(`Zoho refused to renew the notification channel: ${renewed.code}`);
  const created = await watchCall(http, "POST", watch);
  if (created.code !== "SUCCESS") throw new Error(`Zoho refused to re-create the notification channel: ${created.code}`);
  const previous = readState(context.integration.state).channelExpiresAt;
  context.logger.warn({ integrationId: context.integration.id, channelId: watch.channel_id, expiredAt: previous }, "Zoho channel had expired; re-created it (reconcile the gap)");
  return { ...enabled(options.webhookUrl, watch, { channelRecreatedAt: Date.now(), channelGapSince: previous ?? Date.now() }), recreated: true };
}

interface WatchBody {
  channel_id: string;
  events: string[];
  notify_url: string;
  token: string;
  channel_expiry: string;
  notify_on_related_action: false;
  expiresAt: number;
  lifeMs: number;
}

function channelBody(context: ClientContext, options: FeedOptions): WatchBody {
  if (!options.webhookUrl) throw new ProviderConnectError("webhook_url_required", "Zoho notifications need a public webhookUrl", 400);
  if (options.webhookSecret.length === 0 || options.webhookSecret.length > MAX_CHANNEL_TOKEN_LENGTH) {
    throw new Error(`Zoho channel tokens are 1–${MAX_CHANNEL_TOKEN_LENGTH} characters (got ${options.webhookSecret.length})`);
  }
  const state = readState(context.integration.state);
  const lifeMs = Math.min(state.channelLifeMs ?? MAX_CHANNEL_LIFE_MS, MAX_CHANNEL_LIFE_MS);
  const expiresAt = Date.now() + lifeMs;
  return {
    channel_id: channelIdFor(context.integration.id),
    events: [...CHANNEL_EVENTS],
    notify_url: notifyUrlFor(options.webhookUrl, context.integration.id, context.integration.externalAccountId),
    token: options.webhookSecret,
    channel_expiry: zohoDateTime(expiresAt),
    notify_on_related_action: false,
    expiresAt,
    lifeMs,
  };
}

async function watchCall(http: ZohoHttp, method: "POST" | "PATCH", watch: WatchBody): Promise<{ code: string }> {
  const { expiresAt: _expiresAt, lifeMs: _lifeMs, ...item } = watch;
  const response = await http.request({ operation: `channel ${method === "POST" ? "subscribe" : "update"}`, method, path: "/crm/v8/actions/watch", body: { watch: [item] }, itemsKey: "watch" });
  const result = Array.isArray(response.body?.["watch"]) ? (response.body["watch"][0] as unknown) : undefined;
  return { code: isRecord(result) && typeof result["code"] === "string" ? result["code"] : "UNKNOWN" };
}

/** Renewed at half its life: a failed renewal has days of retries before the channel lapses. */
function enabled(webhookUrl: string | null, watch: WatchBody, extra: Record<string, unknown>): EnabledFeed {
  return {
    subscriptions: watch.events.map((eventType) => ({ id: watch.channel_id, eventType, active: true })),
    // the caller's URL: renewals add `integration` and `org` again
    webhookUrl,
    state: { channelId: watch.channel_id, channelExpiresAt: Math.floor(watch.expiresAt / 1000) * 1000, ...extra },
    renewAt: watch.expiresAt - Math.floor(watch.lifeMs / 2),
  };
}
