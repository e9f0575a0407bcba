import { describe, expect, it } from "vitest";
import { Coalescer } from "../src/coalescer.js";
import { GrowingBatchWindow } from "../src/outbound/batch-window.js";

describe("GrowingBatchWindow", () => {
  it("doubles an integration's window after a timed-out batch of several leads, up to the maximum", () => {
    const window = new GrowingBatchWindow(50, 500);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push(window.windowMs("int-1"));
      window.closed("int-1", { distinct: 20, full: false });
    }
    expect(seen).toEqual([50, 100, 200, 400, 500, 500]);
    expect(window.windowMs("int-2")).toBe(50);
  });

  it("keeps the window while batches close full, and drops back to the base after a lone lead", () => {
    const window = new GrowingBatchWindow(50, 500);
    window.closed("int-1", { distinct: 30, full: false });
    window.closed("int-1", { distinct: 100, full: true });
    expect(window.windowMs("int-1")).toBe(100);
    window.closed("int-1", { distinct: 1, full: false });
    expect(window.windowMs("int-1")).toBe(50);
  });

  it("never grows a zero window (flush at once)", () => {
    const window = new GrowingBatchWindow(0, 500);
    window.closed("int-1", { distinct: 5, full: false });
    expect(window.windowMs("int-1")).toBe(0);
  });
});

describe("Coalescer with a growing window", () => {
  it("asks the window for each new batch and reports how each batch closed", async () => {
    const closed: { group: string; distinct: number; full: boolean }[] = [];
    const asked: string[] = [];
    const coalescer = new Coalescer<string>({
      windowMs: (group) => {
        asked.push(group);
        return 5;
      },
      onBatchClosed: (group, batch) => closed.push({ group, ...batch }),
      maxDistinct: 3,
      distinctKey: (item) => item,
      flush: async () => new Map(),
    });
    await Promise.all([coalescer.add("a", ["1", "2", "3", "4"]), coalescer.add("b", ["9"])]);
    expect(asked).toEqual(["a", "a", "b"]);
    expect(closed[0]).toEqual({ group: "a", distinct: 3, full: true });
    // The two timed-out batches, in either order.
    expect(closed.slice(1)).toHaveLength(2);
    expect(closed.slice(1)).toEqual(
      expect.arrayContaining([
        { group: "a", distinct: 1, full: false },
        { group: "b", distinct: 1, full: false },
      ]),
    );
  });
});
