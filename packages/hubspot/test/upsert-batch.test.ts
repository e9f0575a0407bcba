import type { UpsertInput } from "@leadsync/core";
import { describe, expect, it } from "vitest";
import { fromHttpError } from "../src/errors.js";
import { upsertWithNarrowing, type UpsertBatchResponse } from "../src/upsert-batch.js";

/** A HubSpot-like batch upsert: 400 for the whole batch when any input has an invalid `score` (names the property only). */
function fakeHubSpot() {
  const calls: number[] = [];
  const send = async (batch: readonly UpsertInput[]): Promise<UpsertBatchResponse> => {
    calls.push(batch.length);
    if (batch.some((i) => i.properties.score === "NaN")) {
      throw fromHttpError(400, { category: "VALIDATION_ERROR", message: "Property values were not valid", errors: [{ message: "NaN is not a valid number", code: "INVALID_INTEGER", context: { propertyName: ["score"] } }] }, {}, "upsert");
    }
    return { results: batch.map((i, n) => ({ id: `c-${i.email.toLowerCase()}`, _new: n % 2 === 0, properties: { email: i.email.toLowerCase() } })) };
  };
  return { send, calls };
}

const input = (n: number, properties: Record<string, string> = {}): UpsertInput => ({ leadId: `lead-${n}`, email: `p${n}@example.com`, properties });

describe("upsertWithNarrowing", () => {
  it("resends inputs without the blamed property in one batch and bisects the rest", async () => {
    const hubspot = fakeHubSpot();
    const inputs = [
      ...Array.from({ length: 90 }, (_, n) => input(n)),
      ...Array.from({ length: 10 }, (_, n) => input(90 + n, { score: n === 3 ? "NaN" : "5" })),
    ];
    const results = await upsertWithNarrowing(inputs, hubspot.send);
    expect(results.filter((r) => !r.ok).map((r) => r.leadId)).toEqual(["lead-93"]);
    expect(results.map((r) => r.leadId)).toEqual(inputs.map((i) => i.leadId));
    // 1 failed batch + 1 batch of the 90 clean inputs + a bisection of 10 suspects: far fewer than 100 single calls.
    expect(hubspot.calls[1]).toBe(90);
    expect(hubspot.calls.length).toBeLessThanOrEqual(12);
  });

  it("sends one email once and gives every lead with it the same result", async () => {
    const hubspot = fakeHubSpot();
    const results = await upsertWithNarrowing(
      [
        { leadId: "a", email: "Same@Example.com", properties: { firstname: "A" } },
        { leadId: "b", email: "same@example.com", properties: { lastname: "B" } },
      ],
      hubspot.send,
    );
    expect(hubspot.calls).toEqual([1]);
    expect(results).toMatchObject([
      { leadId: "a", ok: true, externalId: "c-same@example.com" },
      { leadId: "b", ok: true, externalId: "c-same@example.com" },
    ]);
  });

  it("passes transient errors through for the job to retry", async () => {
    const failing = async (): Promise<UpsertBatchResponse> => {
      throw fromHttpError(503, {}, {}, "upsert");
    };
    await expect(upsertWithNarrowing([input(1)], failing)).rejects.toMatchObject({ status: 503, retryable: true });
  });
});
