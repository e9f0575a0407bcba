import { describe, expect, it } from "vitest";
import { BusyAccounts } from "../src/busy-accounts.js";

describe("BusyAccounts", () => {
  it("keeps a trickle in the normal lane and moves a burst to the bulk lane once past the threshold", () => {
    const busy = new BusyAccounts({ windowMs: 10_000, threshold: 500 });
    const t0 = 1_000_000;
    // One event every 20 s for an hour: always normal.
    for (let i = 0; i < 180; i++) expect(busy.laneFor("hubspot:quiet", 1, t0 + i * 20_000)).toBe("normal");
    // A burst of 100-event deliveries: the first five are normal (≤ 500), the rest bulk.
    const lanes = Array.from({ length: 20 }, (_, i) => busy.laneFor("hubspot:busy", 100, t0 + i * 10));
    expect(lanes.slice(0, 5)).toEqual(["normal", "normal", "normal", "normal", "normal"]);
    expect(lanes.slice(5).every((lane) => lane === "bulk")).toBe(true);
    // Another account is not affected by the burst.
    expect(busy.laneFor("hubspot:other", 100, t0 + 300)).toBe("normal");
  });

  it("lets a burst's weight fade over the next window and forgets it after two", () => {
    const busy = new BusyAccounts({ windowMs: 10_000, threshold: 500 });
    const start = 10_000_000; // a window boundary
    busy.laneFor("a", 1_000, start);
    // Early in the next window most of the last one still counts.
    expect(busy.laneFor("a", 1, start + 11_000)).toBe("bulk");
    // Near its end, 1,000 × 0.05 = 50 remain.
    expect(busy.laneFor("a", 1, start + 19_500)).toBe("normal");
    busy.laneFor("b", 1_000, start);
    expect(busy.laneFor("b", 1, start + 25_000)).toBe("normal");
  });

  it("tracks at most maxTracked keys, dropping the least recently seen", () => {
    const busy = new BusyAccounts({ maxTracked: 100, threshold: 10 });
    for (let i = 0; i < 1_000; i++) busy.laneFor(`portal-${i}`, 1, 5_000);
    expect(busy.size).toBe(100);
    // A key seen again moves to the back: it survives 99 newcomers.
    busy.laneFor("keep", 20, 5_000);
    for (let i = 0; i < 99; i++) busy.laneFor(`new-${i}`, 1, 5_000);
    expect(busy.laneFor("keep", 0, 5_000)).toBe("bulk");
  });
});
