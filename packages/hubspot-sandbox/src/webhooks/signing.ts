import { createHash, createHmac } from "node:crypto";

/** v1: sha256 hex of clientSecret + body (hubspot-facts.md §1.3). */
export function signV1(clientSecret: string, body: string): string {
  return createHash("sha256").update(clientSecret + body, "utf8").digest("hex");
}

/** v3: base64 HMAC-SHA256(clientSecret, method + uri + body + timestamp). */
export function signV3(clientSecret: string, method: string, uri: string, body: string, timestamp: number): string {
  return createHmac("sha256", clientSecret).update(`${method}${uri}${body}${timestamp}`, "utf8").digest("base64");
}

/** The headers HubSpot puts on a webhook POST: both the legacy v1 and the current v3 signature. */
export function signatureHeaders(clientSecret: string, targetUrl: string, body: string, timestamp: number): Record<string, string> {
  return {
    "x-hubspot-signature": signV1(clientSecret, body),
    "x-hubspot-signature-version": "v1",
    "x-hubspot-signature-v3": signV3(clientSecret, "POST", targetUrl, body, timestamp),
    "x-hubspot-request-timestamp": String(timestamp),
  };
}
