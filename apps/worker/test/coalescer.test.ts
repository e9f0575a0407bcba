import { describe, expect, it } from "vitest";
import { Coalescer, type FlushFailures } from "../src/coalescer.js";

interface Item {
  job: string;
  contact: string;
}

function recordingCoalescer(options: { windowMs: number; maxDistinct: number; fail?: (item: Item) => Error | undefined }) {
  const flushes: { group: string; items: Item[] }[] = [];
  const coalescer = new Coalescer<Item>({
    windowMs: options.windowMs,
    maxDistinct: options.maxDistinct,
    distinctKey: (item) => item.contact,
    async flush(group, items) {
      flushes.push({ group, items: [...items] });
      const failures = new Map<Item, Error>();
      for (const item of items) {
        const error = options.fail?.(item);
        if (error) failures.set(item, error);
      }
      return failures as FlushFailures<Item>;
    },
  });
  return { coalescer, flushes };
}

const items = (job: string, contacts: string[]) => contacts.map((contact) => ({ job, contact }));

describe("Coalescer", () => {
  it("gathers concurrent adds of one group into one flush, separate groups separately", async () => {
    const { coalescer, flushes } = recordingCoalescer({ windowMs: 30, maxDistinct: 100 });
    await Promise.all([
      coalescer.add("portal-1", items("a", ["1", "2"])),
      coalescer.add("portal-1", items("b", ["2", "3"])),
      coalescer.add("portal-2", items("c", ["9"])),
    ]);
    expect(flushes.map((f) => [f.group, f.items.length])).toEqual([
      ["portal-1", 4],
      ["portal-2", 1],
    ]);
  });

  it("flushes as soon as the batch holds maxDistinct distinct keys, splitting a job across batches", async () => {
    const { coalescer, flushes } = recordingCoalescer({ windowMs: 60_000, maxDistinct: 3 });
    const first = coalescer.add("p", items("a", ["1", "2", "1", "3", "4"]));
    const second = coalescer.add("p", items("b", ["5", "6"]));
    // The window is a minute: only the size trigger (and drain) can settle these.
    await first.then(
      () => undefined,
      () => undefined,
    );
    expect(flushes[0]?.items.map((i) => i.contact)).toEqual(["1", "2", "1", "3"]);
    await coalescer.drain();
    await second;
    expect(flushes.map((f) => new Set(f.items.map((i) => i.contact)).size)).toEqual([3, 3]);
  });

  it("rejects only the adds whose items failed", async () => {
    const { coalescer } = recordingCoalescer({
      windowMs: 10,
      maxDistinct: 100,
      fail: (item) => (item.contact === "bad" ? new Error("rejected by the CRM") : undefined),
    });
    const [good, bad] = await Promise.allSettled([coalescer.add("p", items("a", ["ok"])), coalescer.add("p", items("b", ["ok", "bad"]))]);
    expect(good.status).toBe("fulfilled");
    expect(bad.status === "rejected" && (bad.reason as Error).message).toBe("rejected by the CRM");
  });

  it("rejects every add of a batch whose flush threw", async () => {
    const coalescer = new Coalescer<Item>({
      windowMs: 10,
      maxDistinct: 100,
      distinctKey: (i) => i.contact,
      flush: async () => {
        throw new Error("database down");
      },
    });
    const results = await Promise.allSettled([coalescer.add("p", items("a", ["1"])), coalescer.add("p", items("b", ["2"]))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});

describe("Coalescer ordering", () => {
  it("runs one group's batches one after another, other groups alongside", async () => {
    const running = new Map<string, number>();
    let overlapInGroup = false;
    const coalescer = new Coalescer<Item>({
      windowMs: 5,
      maxDistinct: 1,
      distinctKey: (i) => i.contact,
      async flush(group) {
        const now = (running.get(group) ?? 0) + 1;
        running.set(group, now);
        if (now > 1) overlapInGroup = true;
        await new Promise((resolve) => setTimeout(resolve, 10));
        running.set(group, (running.get(group) ?? 1) - 1);
        return new Map();
      },
    });
    await Promise.all([coalescer.add("p", items("a", ["1", "2", "3"])), coalescer.add("q", items("b", ["1", "2"]))]);
    expect(overlapInGroup).toBe(false);
  });
});

describe("Coalescer overlap (overlapKeys)", () => {
  /** Flushes that log when they start and end; each runs a while (batch "1+2" the longest). */
  function overlappingCoalescer(maxDistinct = 2) {
    const events: string[] = [];
    const coalescer = new Coalescer<Item>({
      windowMs: 60_000,
      maxDistinct,
      distinctKey: (i) => i.contact,
      overlapKeys: (i) => [i.contact],
      async flush(_group, batch) {
        const name = batch.map((i) => i.contact).join("+");
        if (name === "fail") throw new Error("read failed");
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, name.startsWith("1") ? 40 : 5));
        events.push(`end ${name}`);
        return new Map();
      },
    });
    return { coalescer, events };
  }

  it("runs a batch that shares no key with the unfinished ones alongside them", async () => {
    const { coalescer, events } = overlappingCoalescer();
    await Promise.all([coalescer.add("p", items("a", ["1", "2"])), coalescer.add("p", items("b", ["3", "4"]))]);
    expect(events).toEqual(["start 1+2", "start 3+4", "end 3+4", "end 1+2"]);
  });

  it("starts a batch that shares a key with an unfinished one only after it", async () => {
    const { coalescer, events } = overlappingCoalescer();
    await Promise.all([coalescer.add("p", items("a", ["1", "2"])), coalescer.add("p", items("b", ["2", "3"]))]);
    expect(events).toEqual(["start 1+2", "end 1+2", "start 2+3", "end 2+3"]);
  });

  it("makes a batch that must wait follow every earlier batch, also those that ran alongside, and also after a failure", async () => {
    const { coalescer, events } = overlappingCoalescer(1);
    const results = await Promise.allSettled([
      coalescer.add("p", items("a", ["1"])),
      coalescer.add("p", items("b", ["fail"])),
      coalescer.add("p", items("c", ["3"])),
      coalescer.add("p", items("d", ["3"])),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    // "3" (second) shares its key with the first "3": it starts after it, and after "1", which started before it.
    expect(events).toEqual(["start 1", "start 3", "end 3", "end 1", "start 3", "end 3"]);
  });
});
