import { CrmRateLimitedError, type UpsertResult } from "@leadsync/core";
import { describe, expect, it } from "vitest";
import { writeEach } from "../src/parallel.js";

const inputs = Array.from({ length: 6 }, (_, i) => ({ leadId: `l${i}` }));
const ok = (leadId: string): UpsertResult => ({ leadId, ok: true, externalId: leadId.slice(1), created: true, properties: {} });

describe("writeEach", () => {
  it("a rate limit midway keeps what was written and hands the rest back with when to try again", async () => {
    const results = await writeEach(inputs, 1, async (input) => {
      if (input.leadId === "l2") throw new CrmRateLimitedError("search has no room", { retryAfterMs: 1_500 });
      return ok(input.leadId);
    });
    expect(results.slice(0, 2).every((r) => r.ok)).toBe(true);
    // The unwritten inputs wait for budget (the worker delays their jobs without spending an attempt).
    expect(results.slice(2)).toEqual(inputs.slice(2).map((i) => ({ leadId: i.leadId, ok: false, message: "search has no room", retryable: true, retryAfterMs: 1_500 })));
  });

  it("a transient failure midway hands the rest back retryable, with no wait named", async () => {
    const results = await writeEach(inputs, 1, async (input) => {
      if (input.leadId === "l3") throw new Error("socket hang up");
      return ok(input.leadId);
    });
    expect(results[3]).toEqual({ leadId: "l3", ok: false, message: "socket hang up", retryable: true });
  });

  it("nothing written: the error itself is thrown (the whole job is delayed or retried)", async () => {
    await expect(writeEach(inputs, 2, async () => Promise.reject(new CrmRateLimitedError("no budget", { retryAfterMs: 10 })))).rejects.toBeInstanceOf(CrmRateLimitedError);
  });
});
