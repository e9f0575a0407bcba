import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { windowsPolicy } from "./fixtures/cross-process-policy.js";
import { REDIS_URL, testRedis } from "./redis-helpers.js";

const run = promisify(execFile);
const { redis, keyPrefix, cleanup } = testRedis();
afterAll(cleanup);

const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const child = fileURLToPath(new URL("./fixtures/hammer-account.ts", import.meta.url));

/** The most units granted inside any window of `windowMs` (each window starting at a grant: where the maximum is). */
function maxUnitsInAnyWindow(grants: [number, number][], windowMs: number): number {
  const sorted = [...grants].sort((a, b) => a[0] - b[0]);
  let max = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    const start = sorted[i]?.[0] ?? 0;
    while (j < sorted.length && (sorted[j]?.[0] ?? 0) < start + windowMs) sum += sorted[j++]?.[1] ?? 0;
    max = Math.max(max, sum);
    sum -= sorted[i]?.[1] ?? 0;
  }
  return max;
}

describe("across processes", () => {
  it("two processes hammering one account never exceed any window's budget", async () => {
    const args = [child, "windows", REDIS_URL, keyPrefix, "windows", "50"];
    const [a, b] = await Promise.all([run(tsx, args), run(tsx, args)]);
    const grants = [...(JSON.parse(a.stdout) as [number, number][]), ...(JSON.parse(b.stdout) as [number, number][])];
    expect(grants).toHaveLength(100); // every caller got through in the end
    const [burst, sustained] = windowsPolicy.limits;
    // 95% of 20 per 500 ms and of 40 per 1.5 s, on Redis's clock. Costs are 1–3, so a full window holds 17 to 19.
    expect(maxUnitsInAnyWindow(grants, burst?.kind === "rolling" ? burst.windowMs : 0)).toBeLessThanOrEqual(19);
    expect(maxUnitsInAnyWindow(grants, sustained?.kind === "rolling" ? sustained.windowMs : 0)).toBeLessThanOrEqual(38);
    // The limiter was the bottleneck, not idle: some window came close to full.
    expect(maxUnitsInAnyWindow(grants, 1_500)).toBeGreaterThanOrEqual(30);
  }, 60_000);

  it("two processes never hold more concurrency slots than the cap", async () => {
    // The counter lives under the limiter's account tag, so the test's cleanup deletes it with the rest.
    const inFlightKey = `{${keyPrefix.replace(/[{}]/g, "")}:pipedrive:concurrency}:test-in-flight`;
    const args = [child, "concurrency", REDIS_URL, keyPrefix, "concurrency", "20", inFlightKey];
    const [a, b] = await Promise.all([run(tsx, args), run(tsx, args)]);
    const seen = Math.max(JSON.parse(a.stdout) as number, JSON.parse(b.stdout) as number);
    expect(seen).toBeLessThanOrEqual(3);
    expect(seen).toBeGreaterThanOrEqual(2); // the slots were contended, not idle
    expect(await redis.zcard(`{${keyPrefix.replace(/[{}]/g, "")}:pipedrive:concurrency}:lease:concurrency`)).toBe(0); // all released
  }, 60_000);
});
