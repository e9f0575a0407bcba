import { Signature } from "@hubspot/api-client";
import { describe, expect, it } from "vitest";
import {
  buildRequestUri,
  decodeV3Uri,
  signHubSpotWebhook,
  verifyHubSpotSignature,
  type VerifyHubSpotSignatureInput,
} from "../src/webhook-signature.js";

// The SDK's published vectors (hubspot-facts.md §1.5) and the locally computed v3 vector (§1.6).
const SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const URI = "https://www.example.com/webhook_uri";
const V1_BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const V1_SIGNATURE = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
const V2_GET_SIGNATURE = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
const EXAMPLE_BODY = '{"example_field":"example_value"}';
const V2_POST_SIGNATURE = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";
const V3_TIMESTAMP = 1_700_000_000_000;
const V3_SIGNATURE = "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=";

function v3Input(overrides: Partial<VerifyHubSpotSignatureInput> = {}): VerifyHubSpotSignatureInput {
  return {
    method: "POST",
    requestUri: URI,
    rawBody: Buffer.from(EXAMPLE_BODY),
    headers: { "x-hubspot-signature-v3": V3_SIGNATURE, "x-hubspot-request-timestamp": String(V3_TIMESTAMP) },
    clientSecret: SECRET,
    now: V3_TIMESTAMP + 1_000,
    ...overrides,
  };
}

describe("verifyHubSpotSignature — published vectors", () => {
  it("accepts the SDK's v1 vector", () => {
    const result = verifyHubSpotSignature({
      method: "POST",
      requestUri: URI,
      rawBody: Buffer.from(V1_BODY),
      headers: { "x-hubspot-signature": V1_SIGNATURE, "x-hubspot-signature-version": "v1" },
      clientSecret: SECRET,
    });
    expect(result).toEqual({ ok: true, version: "v1" });
  });

  it("accepts the SDK's v2 GET vector (empty body)", () => {
    const result = verifyHubSpotSignature({
      method: "GET",
      requestUri: URI,
      rawBody: Buffer.alloc(0),
      headers: { "x-hubspot-signature": V2_GET_SIGNATURE, "x-hubspot-signature-version": "v2" },
      clientSecret: SECRET,
    });
    expect(result).toEqual({ ok: true, version: "v2" });
  });

  it("accepts the SDK's v2 POST vector", () => {
    const result = verifyHubSpotSignature({
      method: "POST",
      requestUri: URI,
      rawBody: Buffer.from(EXAMPLE_BODY),
      headers: { "x-hubspot-signature": V2_POST_SIGNATURE, "x-hubspot-signature-version": "v2" },
      clientSecret: SECRET,
    });
    expect(result).toEqual({ ok: true, version: "v2" });
  });

  it("accepts the fixed v3 vector", () => {
    expect(verifyHubSpotSignature(v3Input())).toEqual({ ok: true, version: "v3" });
  });

  it("agrees with the SDK's Signature.getSignature for v3 on arbitrary bodies", () => {
    const body = JSON.stringify([{ eventId: 7, portalId: 1, objectId: 9, occurredAt: 1, subscriptionType: "contact.creation", note: "héllo ✓" }]);
    const timestamp = Date.now();
    const sdk = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: SECRET,
      requestBody: body,
      url: URI,
      timestamp,
    });
    const headers = { "x-hubspot-signature-v3": sdk, "x-hubspot-request-timestamp": String(timestamp) };
    expect(verifyHubSpotSignature({ method: "POST", requestUri: URI, rawBody: Buffer.from(body), headers, clientSecret: SECRET })).toEqual({
      ok: true,
      version: "v3",
    });
    expect(signHubSpotWebhook("v3", { method: "POST", requestUri: URI, body, clientSecret: SECRET, timestamp })).toEqual(headers);
  });

  it("signHubSpotWebhook reproduces the v1 and v2 vectors", () => {
    expect(signHubSpotWebhook("v1", { method: "POST", requestUri: URI, body: V1_BODY, clientSecret: SECRET })).toEqual({
      "x-hubspot-signature": V1_SIGNATURE,
      "x-hubspot-signature-version": "v1",
    });
    expect(signHubSpotWebhook("v2", { method: "GET", requestUri: URI, body: "", clientSecret: SECRET })["x-hubspot-signature"]).toBe(
      V2_GET_SIGNATURE,
    );
  });
});

describe("verifyHubSpotSignature — rejections", () => {
  it("rejects a tampered body", () => {
    const rawBody = Buffer.from(EXAMPLE_BODY.replace("value", "valuf"));
    expect(verifyHubSpotSignature(v3Input({ rawBody }))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a tampered v1 body", () => {
    const result = verifyHubSpotSignature({
      method: "POST",
      requestUri: URI,
      rawBody: Buffer.from(V1_BODY.replace('"objectId":123', '"objectId":124')),
      headers: { "x-hubspot-signature": V1_SIGNATURE, "x-hubspot-signature-version": "v1" },
      clientSecret: SECRET,
    });
    expect(result).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects the wrong secret", () => {
    expect(verifyHubSpotSignature(v3Input({ clientSecret: "another-secret" }))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a wrong URI", () => {
    expect(verifyHubSpotSignature(v3Input({ requestUri: "https://www.example.com/other_uri" }))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyHubSpotSignature(v3Input({ requestUri: "http://www.example.com/webhook_uri" }))).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a stale timestamp (older than 5 minutes) and accepts one just inside", () => {
    expect(verifyHubSpotSignature(v3Input({ now: V3_TIMESTAMP + 300_001 }))).toEqual({ ok: false, reason: "stale_timestamp" });
    expect(verifyHubSpotSignature(v3Input({ now: V3_TIMESTAMP + 300_000 }))).toEqual({ ok: true, version: "v3" });
  });

  it("rejects a timestamp too far in the future", () => {
    expect(verifyHubSpotSignature(v3Input({ now: V3_TIMESTAMP - 60_001 }))).toEqual({ ok: false, reason: "future_timestamp" });
    expect(verifyHubSpotSignature(v3Input({ now: V3_TIMESTAMP - 60_000 }))).toEqual({ ok: true, version: "v3" });
  });

  it("rejects a timestamp that is not a number, and a missing timestamp", () => {
    for (const ts of ["abc", "", "1700000000000.5", "-1", "1e12", "NaN"]) {
      const headers = { "x-hubspot-signature-v3": V3_SIGNATURE, "x-hubspot-request-timestamp": ts };
      expect(verifyHubSpotSignature(v3Input({ headers }))).toEqual({ ok: false, reason: "bad_timestamp" });
    }
    expect(verifyHubSpotSignature(v3Input({ headers: { "x-hubspot-signature-v3": V3_SIGNATURE } }))).toEqual({
      ok: false,
      reason: "bad_timestamp",
    });
  });

  it("rejects a request without any signature header", () => {
    expect(verifyHubSpotSignature(v3Input({ headers: { "content-type": "application/json" } }))).toEqual({
      ok: false,
      reason: "missing_signature",
    });
  });

  it("rejects a legacy signature with a missing or unknown version", () => {
    const rawBody = Buffer.from(V1_BODY);
    for (const headers of [{ "x-hubspot-signature": V1_SIGNATURE }, { "x-hubspot-signature": V1_SIGNATURE, "x-hubspot-signature-version": "v9" }]) {
      expect(verifyHubSpotSignature({ method: "POST", requestUri: URI, rawBody, headers, clientSecret: SECRET })).toEqual({
        ok: false,
        reason: "unsupported_version",
      });
    }
  });

  it("checks v3 first: a wrong v3 signature is not rescued by a valid v1 one", () => {
    const headers = {
      "x-hubspot-signature-v3": "AAAA" + V3_SIGNATURE.slice(4),
      "x-hubspot-request-timestamp": String(V3_TIMESTAMP),
      "x-hubspot-signature": V1_SIGNATURE,
      "x-hubspot-signature-version": "v1",
    };
    expect(verifyHubSpotSignature(v3Input({ rawBody: Buffer.from(V1_BODY), headers }))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("treats a header whose '+' became a space as a bad signature", () => {
    const mangled = V3_SIGNATURE.replace("+", " ");
    expect(mangled).not.toBe(V3_SIGNATURE);
    const headers = { "x-hubspot-signature-v3": mangled, "x-hubspot-request-timestamp": String(V3_TIMESTAMP) };
    expect(verifyHubSpotSignature(v3Input({ headers }))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("rejects a signature of the wrong length without throwing", () => {
    const headers = { "x-hubspot-signature-v3": "short", "x-hubspot-request-timestamp": String(V3_TIMESTAMP) };
    expect(verifyHubSpotSignature(v3Input({ headers }))).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("looks headers up case-insensitively", () => {
    const headers = { "X-HubSpot-Signature-V3": V3_SIGNATURE, "X-HubSpot-Request-Timestamp": String(V3_TIMESTAMP) };
    expect(verifyHubSpotSignature(v3Input({ headers }))).toEqual({ ok: true, version: "v3" });
  });

  it("refuses to verify with an empty secret", () => {
    expect(() => verifyHubSpotSignature(v3Input({ clientSecret: "" }))).toThrow(/clientSecret/);
  });
});

describe("v3 URI decoding", () => {
  it("decodes only the percent-encodings HubSpot lists, in either case", () => {
    expect(decodeV3Uri("https://x.test/hook?next=https%3A%2F%2Fa.test%2Fb%3Fc%40d%21%24%27%28%29%2a%2C%3b&q=a%20b%26c%3Dd")).toBe(
      "https://x.test/hook?next=https://a.test/b?c@d!$'()*,;&q=a%20b%26c%3Dd",
    );
  });

  it("verifies a request whose query carries %3A / %2F (signed decoded) and %20 (signed encoded)", () => {
    const received = "https://www.example.com/webhook_uri?redirect=https%3A%2F%2Fapp.test%2Fx&name=a%20b";
    const signedOver = "https://www.example.com/webhook_uri?redirect=https://app.test/x&name=a%20b";
    const timestamp = V3_TIMESTAMP;
    const signature = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: SECRET,
      requestBody: EXAMPLE_BODY,
      url: signedOver,
      timestamp,
    });
    const headers = { "x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": String(timestamp) };
    expect(verifyHubSpotSignature(v3Input({ requestUri: received, headers }))).toEqual({ ok: true, version: "v3" });

    // Had %20 been decoded as well, the signature would differ.
    const overDecoded = Signature.getSignature("POST", "v3", {
      signature: "",
      clientSecret: SECRET,
      requestBody: EXAMPLE_BODY,
      url: signedOver.replace("%20", " "),
      timestamp,
    });
    const wrong = { "x-hubspot-signature-v3": overDecoded, "x-hubspot-request-timestamp": String(timestamp) };
    expect(verifyHubSpotSignature(v3Input({ requestUri: received, headers: wrong }))).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("buildRequestUri", () => {
  it("joins the public base URL and the raw path + query", () => {
    expect(buildRequestUri("https://hooks.example.com", "/api/v1/webhooks/hubspot?a=1")).toBe("https://hooks.example.com/api/v1/webhooks/hubspot?a=1");
    expect(buildRequestUri("https://hooks.example.com/", "/api/v1/webhooks/hubspot")).toBe("https://hooks.example.com/api/v1/webhooks/hubspot");
    expect(buildRequestUri("https://example.com/leadsync", "/api/v1/webhooks/hubspot")).toBe("https://example.com/leadsync/api/v1/webhooks/hubspot");
  });
});
