import { describe, expect, it } from "vitest";
import { salesforceBudget, salesforceDailyAllowance, salesforceLimitPolicy } from "../src/budget.js";
import { PLACEHOLDER } from "../src/constants.js";
import { SalesforceApiError, SalesforceRateLimitedError, parseLimitInfo, rateLimitOf, redactSecrets, toSalesforceError } from "../src/errors.js";
import { createBody, readValue, toCrmContact, updateBody } from "../src/lead-properties.js";
import { duplicateLeadId, toUpsertResult } from "../src/save-results.js";
import { dateTimeLiteral, idList, parseSalesforceDateTime, quote, selectList } from "../src/soql.js";

const MARKER = "Lead_Source_System__c";

describe("required Lead fields", () => {
  it("fills LastName and Company with the placeholder on create, and keeps the lead's values", () => {
    expect(createBody({ FirstName: "Ada", lead_source_system: "jazzaam" }, " Ada@Example.com ", MARKER)).toEqual({
      FirstName: "Ada",
      Lead_Source_System__c: "jazzaam",
      Email: "ada@example.com",
      LastName: PLACEHOLDER,
      Company: PLACEHOLDER,
    });
    expect(createBody({ LastName: "Lovelace", Company: "Analytical", Email: "ada@example.com" }, "ada@example.com", MARKER)).toMatchObject({ LastName: "Lovelace", Company: "Analytical" });
  });

  it("never sends a blank or the placeholder over a person's value on update", () => {
    expect(updateBody({ LastName: PLACEHOLDER, Company: "  ", Phone: "+1" }, MARKER)).toEqual({ Phone: "+1" });
    expect(updateBody({ LastName: "Lovelace" }, MARKER)).toEqual({ LastName: "Lovelace" });
  });

  it("reads the placeholder back as no value", () => {
    expect(readValue({ LastName: PLACEHOLDER }, "LastName")).toBeNull();
    expect(readValue({ Company: PLACEHOLDER }, "Company")).toBeNull();
    expect(readValue({ Title: PLACEHOLDER }, "Title")).toBe(PLACEHOLDER);
    expect(readValue({ IsConverted: true }, "IsConverted")).toBe("true");
    expect(readValue({ Account: { Name: "Acme" } }, "Account.Name")).toBe("Acme");
  });

  it("keys a read record by the requested properties, the marker under core's name too", () => {
    const contact = toCrmContact("00Q5g00000AbCdEFGH", { Email: "a@b.co", Lead_Source_System__c: "jazzaam", SystemModstamp: "2026-12-03T06:27:17.000+0000" }, ["Email", "lead_source_system"], MARKER);
    expect(contact).toEqual({ id: "00Q5g00000AbCdEFGH", properties: { Email: "a@b.co", lead_source_system: "jazzaam" }, updatedAt: Date.UTC(2026, 11, 3, 6, 27, 17) });
  });
});

describe("SOQL building", () => {
  it("escapes literals, checks ids and names", () => {
    expect(quote("o'brien\\x")).toBe("'o\\'brien\\\\x'");
    expect(idList(["00Q5g00000AbCdEFGH"])).toBe("('00Q5g00000AbCdEFGH')");
    expect(() => idList(["00Q' OR Id != '"])).toThrow();
    expect(() => selectList(["Email", "Id FROM User--"])).toThrow();
    expect(selectList(["Id", "Email", "email", "Account.Name"])).toBe("Id, Email, Account.Name");
  });

  it("writes datetimes in whole seconds and reads Salesforce's +0000 form", () => {
    expect(dateTimeLiteral(Date.UTC(2026, 11, 3, 6, 27, 17, 999))).toBe("2026-12-03T06:27:17Z");
    expect(parseSalesforceDateTime("2026-12-03T06:27:17.000+0000")).toBe(Date.UTC(2026, 11, 3, 6, 27, 17));
    expect(parseSalesforceDateTime("2026-12-03T06:27:17.000Z")).toBe(Date.UTC(2026, 11, 3, 6, 27, 17));
  });
});

describe("collection results", () => {
  const duplicate = {
    statusCode: "DUPLICATES_DETECTED",
    message: "You're creating a duplicate record.",
    fields: [],
    duplicateResult: {
      matchResults: [
        { entityType: "Contact", matchRecords: [{ record: { attributes: { type: "Contact" }, Id: "0035g00000AbCdEAAA" } }] },
        { entityType: "Lead", matchRecords: [{ record: { attributes: { type: "Lead" }, Id: "00Q5g00000ExistAAA" } }] },
      ],
    },
  };

  it("links a duplicate-rule match to the existing Lead, never a Contact", () => {
    expect(duplicateLeadId(duplicate)).toBe("00Q5g00000ExistAAA");
    expect(duplicateLeadId({ ...duplicate, duplicateResult: { matchResults: [duplicate.duplicateResult.matchResults[0] as never] } })).toBeUndefined();
    expect(toUpsertResult("lead-1", { success: false, errors: [duplicate] }, true, {})).toMatchObject({ ok: false, retryable: false, existingId: "00Q5g00000ExistAAA" });
  });

  it("fails a record alone, retryable only for transient codes", () => {
    expect(toUpsertResult("l", { success: false, errors: [{ statusCode: "STRING_TOO_LONG", message: "Title: data value too large", fields: ["Title"] }] }, true, {})).toMatchObject({
      ok: false,
      retryable: false,
      message: expect.stringContaining("STRING_TOO_LONG") as string,
    });
    expect(toUpsertResult("l", { success: false, errors: [{ statusCode: "UNABLE_TO_LOCK_ROW", message: "locked" }] }, false, {})).toMatchObject({ ok: false, retryable: true });
    expect(toUpsertResult("l", { id: "00Q5g00000AbCdEFGH", success: true, errors: [] }, true, { Email: "a@b.co" })).toEqual({
      leadId: "l",
      ok: true,
      externalId: "00Q5g00000AbCdEFGH",
      created: true,
      properties: { Email: "a@b.co" },
    });
  });
});

describe("errors and limits", () => {
  it("tells the rolling daily allowance from the concurrency cap", () => {
    expect(rateLimitOf("TotalRequests Limit exceeded.")).toMatchObject({ policy: "TotalRequests", daily: true });
    expect(rateLimitOf("ConcurrentPerOrgLongTxn Limit exceeded.")).toMatchObject({ policy: "ConcurrentPerOrgLongTxn", daily: false });
    const err = Object.assign(new Error("TotalRequests Limit exceeded."), { errorCode: "REQUEST_LIMIT_EXCEEDED" });
    const mapped = toSalesforceError(err, "lead read");
    expect(mapped).toBeInstanceOf(SalesforceRateLimitedError);
    expect((mapped as SalesforceRateLimitedError).daily).toBe(true);
  });

  it("marks server trouble and network failures retryable, bad requests not", () => {
    expect((toSalesforceError(Object.assign(new Error("x"), { errorCode: "SERVER_UNAVAILABLE" }), "op") as SalesforceApiError).retryable).toBe(true);
    expect((toSalesforceError(Object.assign(new Error("x"), { errorCode: "ERROR_HTTP_502" }), "op") as SalesforceApiError).retryable).toBe(true);
    expect((toSalesforceError(new TypeError("fetch failed"), "op") as SalesforceApiError).retryable).toBe(true);
    expect((toSalesforceError(Object.assign(new Error("bad"), { errorCode: "MALFORMED_QUERY" }), "op") as SalesforceApiError).retryable).toBe(false);
  });

  it("reads Sforce-Limit-Info and redacts tokens", () => {
    expect(parseLimitInfo("api-usage=18/15000")).toEqual({ used: 18, limit: 15000 });
    expect(parseLimitInfo("api-usage=10018/100000; per-app-api-usage=17/250(appName=x)")).toEqual({ used: 10018, limit: 100000 });
    expect(redactSecrets("Authorization: Bearer 00D5g000000AbCd!AQ4AQFx.abc")).not.toContain("AQ4AQ");
    expect(redactSecrets("token 00D5g000000AbCdEAF!ARcAQ.x_y-z")).toBe("token [redacted session id]");
  });

  it("budgets by edition: rolling 24 h allowance, 25 or 5 concurrent long requests", () => {
    expect(salesforceDailyAllowance("enterprise", 15)).toBe(115_000);
    expect(salesforceDailyAllowance("unlimited", 10)).toBe(150_000);
    expect(salesforceDailyAllowance("developer", 2)).toBe(15_000);
    expect(salesforceBudget("enterprise", 15)).toEqual({
      limits: [{ kind: "rolling", name: "daily", limit: 115_000, windowMs: 86_400_000 }],
      concurrency: { name: "long-requests", maxConcurrent: 25, leaseMs: 660_000 },
    });
    expect(salesforceBudget("developer", 1, { share: 0.5 }).limits[0].limit).toBe(7_500);
    expect(salesforceBudget("developer", 1).concurrency.maxConcurrent).toBe(5);
  });

  it("takes the org's reported allowance, the edition's cap and operator overrides", () => {
    expect(salesforceLimitPolicy({ tier: "enterprise", settings: {}, state: { dailyApiRequests: 123_456 } })).toMatchObject({ limits: [{ limit: 123_456 }], concurrency: { maxConcurrent: 25 } });
    expect(salesforceLimitPolicy({ tier: "starter", settings: {}, state: {} })).toMatchObject({ limits: [{ limit: 15_000 }], concurrency: { maxConcurrent: 5 } });
    expect(salesforceLimitPolicy({ tier: "unlimited", settings: { rateLimit: { daily: 40_000, concurrency: 3 } }, state: { dailyApiRequests: 200_000 } })).toMatchObject({
      limits: [{ limit: 40_000 }],
      concurrency: { maxConcurrent: 3 },
    });
  });
});
