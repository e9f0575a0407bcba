import { createHash, timingSafeEqual } from "node:crypto";
import type { WebhookVerifier } from "@leadsync/core";
import { channelIdFor } from "./change-feed.js";
import { isRecord } from "./errors.js";

/** Zoho callbacks are small (≤100 ids); anything far larger is not one. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * `POST /api/v1/webhooks/zoho?integration=<id>&org=<org>`: Zoho signs nothing, it echoes the channel's `token` and
 * `channel_id`. Both are checked in constant time against values derived from the integration id, without a lookup.
 */
export const zohoWebhookVerifier: WebhookVerifier = {
  verify(request, { deriveSecret }) {
    if (request.method !== "POST") return { ok: false, status: "ignore", message: "not a callback" };
    const integrationId = new URL(request.url, "http://receiver.invalid").searchParams.get("integration");
    if (!integrationId) return { ok: false, status: "auth", message: "callback without an integration" };
    if (request.rawBody.length > MAX_BODY_BYTES) return { ok: false, status: "malformed", message: "callback too large" };
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return { ok: false, status: "malformed", message: "callback is not JSON" };
    }
    if (!isRecord(body)) return { ok: false, status: "malformed", message: "callback is not an object" };
    const tokenOk = constantTimeEqual(typeof body["token"] === "string" ? body["token"] : "", deriveSecret(integrationId));
    const channelOk = constantTimeEqual(String(body["channel_id"] ?? ""), channelIdFor(integrationId));
    if (!tokenOk || !channelOk) return { ok: false, status: "auth", message: "wrong channel token or channel id" };
    if (!Array.isArray(body["ids"]) || typeof body["operation"] !== "string") return { ok: false, status: "malformed", message: "callback without ids/operation" };
    return { ok: true, events: [body] };
  },
};

/** Equal-length digests, so neither the content nor the length leaks through timing. */
function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}
