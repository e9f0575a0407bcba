import { describe, expect, it } from "vitest";
import { parsePipedriveRateLimit, parseSforceLimitInfo, parseZohoCredits } from "../src/index.js";

describe("usage headers", () => {
  it("reads Salesforce's Sforce-Limit-Info", () => {
    expect(parseSforceLimitInfo({ "Sforce-Limit-Info": "api-usage=10018/100000; api-bursts=1/750" }, "DailyApiRequests")).toEqual({
      window: "DailyApiRequests",
      used: 10_018,
      limit: 100_000,
    });
    expect(parseSforceLimitInfo({ "sforce-limit-info": "nonsense" }, "DailyApiRequests")).toBeUndefined();
    expect(parseSforceLimitInfo({}, "DailyApiRequests")).toBeUndefined();
  });

  it("reads Zoho's X-API-CREDITS-REMAINING (absent below half the day's use)", () => {
    expect(parseZohoCredits({ "x-api-credits-remaining": "2400" }, "credits")).toEqual({ window: "credits", remaining: 2_400 });
    expect(parseZohoCredits({}, "credits")).toBeUndefined();
    expect(parseZohoCredits({ "X-API-CREDITS-REMAINING": "-3" }, "credits")).toBeUndefined();
  });

  it("reads Pipedrive's burst headers, the reset in seconds", () => {
    expect(parsePipedriveRateLimit({ "x-ratelimit-limit": "40", "x-ratelimit-remaining": "39", "x-ratelimit-reset": "2" }, "burst")).toEqual({
      window: "burst",
      remaining: 39,
      limit: 40,
      resetInMs: 2_000,
    });
    expect(parsePipedriveRateLimit({ "x-ratelimit-remaining": ["0"] }, "burst")).toEqual({ window: "burst", remaining: 0 });
    expect(parsePipedriveRateLimit({ "x-ratelimit-limit": "40" }, "burst")).toBeUndefined();
  });
});
