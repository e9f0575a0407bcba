import { describe, expect, it } from "vitest";
import { fromHttpError, HubSpotApiError, msUntilMidnight, RateLimitedError, redactSecrets, toHubSpotError } from "../src/errors.js";

const NOW = Date.UTC(2026, 5, 1, 22, 0, 0, 0);

describe("HubSpot error mapping", () => {
  it("429: Retry-After wins, else the policy decides the delay", () => {
    const body = (policyName?: string, message = "You have reached your ten_secondly_rolling limit.") => ({
      status: "error",
      message,
      errorType: "RATE_LIMIT",
      correlationId: "c0ffee00-0000-4000-8000-000000000000",
      ...(policyName ? { policyName } : {}),
    });
    const withHeader = fromHttpError(429, body("TEN_SECONDLY_ROLLING"), { "Retry-After": "3" }, "read", { now: NOW });
    expect(withHeader).toBeInstanceOf(RateLimitedError);
    expect(withHeader).toMatchObject({ retryAfterMs: 3_000, retryable: true, correlationId: "c0ffee00-0000-4000-8000-000000000000" });
    expect(fromHttpError(429, body("TEN_SECONDLY_ROLLING"), {}, "read", { now: NOW }).retryAfterMs).toBe(10_000);
    expect(fromHttpError(429, body("DAILY"), {}, "read", { now: NOW }).retryAfterMs).toBe(2 * 3_600_000);
    expect(fromHttpError(429, body(undefined, "You have reached your secondly limit."), {}, "search", { now: NOW }).retryAfterMs).toBe(1_000);
  });

  it("5xx, 423 and network failures are retryable; other 4xx are not", () => {
    expect(fromHttpError(503, {}, {}, "read").retryable).toBe(true);
    expect(fromHttpError(502, {}, {}, "read").retryable).toBe(true);
    expect(fromHttpError(423, {}, {}, "read")).toMatchObject({ retryable: true, retryAfterMs: 2_000 });
    const validation = fromHttpError(400, { category: "VALIDATION_ERROR", message: "bad", errors: [{ message: "x", code: "INVALID_OPTION", context: { propertyName: ["lead_source_system"] } }] }, {}, "upsert");
    expect(validation).toMatchObject({ retryable: false, status: 400, category: "VALIDATION_ERROR" });
    expect(validation.details[0]).toMatchObject({ code: "INVALID_OPTION", context: { propertyName: ["lead_source_system"] } });
    expect(fromHttpError(401, {}, {}, "read").retryable).toBe(false);
    const network = toHubSpotError(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") }), "read");
    expect(network).toBeInstanceOf(HubSpotApiError);
    expect(network).toMatchObject({ retryable: true, status: undefined });
    expect(network.message).toContain("ECONNREFUSED");
  });

  it("never carries tokens in messages", () => {
    expect(redactSecrets("GET /webhooks/v3/1/subscriptions?hapikey=abc123 Bearer pat-na1-xyz")).toBe(
      "GET /webhooks/v3/1/subscriptions?hapikey=[redacted] Bearer [redacted]",
    );
    expect(new HubSpotApiError("failed at https://x/?hapikey=secret", { retryable: false }).message).not.toContain("secret");
  });

  it("computes the time to the portal's midnight", () => {
    expect(msUntilMidnight(NOW)).toBe(2 * 3_600_000);
    // 22:00 UTC is 18:00 in New York (EDT): 6 h to local midnight.
    expect(msUntilMidnight(NOW, "America/New_York")).toBe(6 * 3_600_000);
  });
});
