import { createHash, timingSafeEqual } from "node:crypto";
import type { RejectedWebhook, WebhookVerifier } from "@leadsync/core";
import { channelIdFor } from "./change-feed.js";
import { isRecord } from "./errors.js";

/** Zoho callbacks are small (≤100 ids); anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;

const rejected = (status: RejectedWebhook["status"], reason: string, message: string): RejectedWebhook => ({ ok: false, status, reason, message });

/**
 * `POST /api/v1/webhooks/zoho?integration=<id>&org=<org>`: Zoho signs nothing, it echoes the channel's `token` and
 * `channel_id`. Both are checked in constant time against values derived from the integration id, without a lookup.
 */
export const zohoWebhookVerifier: WebhookVerifier = {
  verify(request, { deriveSecret }) {
    if (request.method !== "POST") return rejected("ignore", "not_a_callback", "Zoho callbacks are POSTs");
    const integrationId = new URL(request.url, "http://receiver.invalid").searchParams.get("integration");
    if (!integrationId) return rejected("auth", "unknown_integration", "Callback URL names no integration");
    if (request.rawBody.length > MAX_BODY_BYTES) return rejected("malformed", "too_large", "Callback body is too large");
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return rejected("malformed", "invalid_json", "Body is not valid JSON");
    }
    if (!isRecord(body)) return rejected("malformed", "invalid_callback", "Body is not a Zoho callback");
    // both checks run whatever the first says: the answer's timing tells nothing about which failed
    const tokenOk = constantTimeEqual(typeof body["token"] === "string" ? body["token"] : "", deriveSecret(integrationId));
    const channelOk = constantTimeEqual(String(body["channel_id"] ?? ""), channelIdFor(integrationId));
    if (!tokenOk || !channelOk) return { ...rejected("auth", tokenOk ? "unknown_channel" : "bad_token", "Wrong channel token or channel id"), code: "unauthorized" };
    const ids = body["ids"];
    if (!Array.isArray(ids) || typeof body["operation"] !== "string") return rejected("malformed", "invalid_callback", "Callback without ids or operation");
    const query = isRecord(body["query_params"]) ? body["query_params"] : {};
    const org = typeof query["org"] === "string" ? query["org"] : undefined;
    return {
      ok: true,
      events: [body],
      jobId: callbackJobId(body),
      types: { [`Leads.${body["operation"]}`]: ids.length },
      accounts: org === undefined ? [] : [org],
      logFields: { integrationId, channelId: String(body["channel_id"]), ids: ids.length },
    };
  },
};

/** A redelivered callback (same channel, operation, time and ids) maps to the same job. Hex: BullMQ ids may not hold ":". */
export function callbackJobId(body: Record<string, unknown>): string {
  const ids = Array.isArray(body["ids"]) ? body["ids"].map(String) : [];
  const parts = [String(body["channel_id"] ?? ""), String(body["operation"] ?? ""), String(body["server_time"] ?? ""), ...ids];
  return `zo-${createHash("sha256").update(parts.join("\u001f")).digest("hex")}`;
}

/** Equal-length digests, so neither the content nor the length leaks through timing. */
function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
