import { createHash } from "node:crypto";
import { eventIdentity, parseHubSpotEventBatch, type HubSpotEvent, type RejectedWebhook, type WebhookVerifier } from "@leadsync/core";
import type { z } from "zod";
import { buildRequestUri, verifyHubSpotSignature, type SignatureRejection } from "./webhook-signature.js";

const SIGNATURE_MESSAGES: Record<SignatureRejection, string> = {
  missing_signature: "Missing HubSpot signature",
  bad_signature: "Signature does not match",
  stale_timestamp: "Request timestamp is older than 5 minutes",
  future_timestamp: "Request timestamp is in the future",
  bad_timestamp: "Missing or malformed request timestamp",
  unsupported_version: "Unsupported signature version",
};

/**
 * The job id of a delivered batch: "hs-" + sha256 of its events' identities, sorted. attemptNumber is not part of an
 * event's identity, so HubSpot redelivering the same batch maps to the same id and BullMQ ignores the second add
 * (while the first job is retained: 48 h, longer than HubSpot's 24 h retry window). Hex only: BullMQ ids may not contain ":".
 * One hash over the joined identities rather than one per event: this runs on every webhook request.
 */
export function hubspotBatchJobId(events: readonly HubSpotEvent[]): string {
  const identities = events.map(eventIdentity).sort();
  return `hs-${createHash("sha256").update(identities.join("\u001e")).digest("hex")}`;
}

const malformed = (reason: string, message: string): RejectedWebhook => ({ ok: false, status: "malformed", reason, message });

/** A few of zod's issues, "path: message", enough to debug a sender without echoing the whole body. */
function summariseIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`);
  const more = error.issues.length > shown.length ? ` (+${error.issues.length - shown.length} more)` : "";
  return `Not a HubSpot event batch: ${shown.join("; ")}${more}`;
}

/**
 * HubSpot's webhooks: the signature over the raw bytes (v3 first, then v1/v2; the signed URI rebuilt from the public
 * base URL), then the batch schema (1–100 events; core's fast path for plain batches). The body is the events array,
 * so the job is built around its bytes.
 */
export const hubspotWebhookVerifier: WebhookVerifier = {
  verify(request, { env, publicBaseUrl }) {
    const signature = verifyHubSpotSignature({
      method: request.method,
      requestUri: buildRequestUri(publicBaseUrl, request.url),
      rawBody: request.rawBody,
      headers: request.headers,
      clientSecret: env.clientSecret ?? "",
    });
    if (!signature.ok) return { ok: false, status: "auth", code: "invalid_signature", reason: signature.reason, message: SIGNATURE_MESSAGES[signature.reason] };

    let json: unknown;
    try {
      json = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      return malformed("invalid_json", "Body is not valid JSON");
    }
    const parsed = parseHubSpotEventBatch(json);
    if (!parsed.success) return malformed("invalid_events", summariseIssues(parsed.error));

    const types: Record<string, number> = {};
    const accounts = new Set<string>();
    let maxAttemptNumber = 0;
    for (const event of parsed.data) {
      accounts.add(event.portalId);
      types[event.subscriptionType] = (types[event.subscriptionType] ?? 0) + 1;
      if (event.attemptNumber > maxAttemptNumber) maxAttemptNumber = event.attemptNumber;
    }
    return {
      ok: true,
      // The schema accepted an array of objects, so the raw elements are records.
      events: json as Record<string, unknown>[],
      eventsJson: request.rawBody,
      jobId: hubspotBatchJobId(parsed.data),
      types,
      accounts: [...accounts],
      logFields: { portalIds: [...accounts], signatureVersion: signature.version, maxAttemptNumber },
    };
  },
};
