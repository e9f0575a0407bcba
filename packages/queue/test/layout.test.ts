import calculateSlot from "cluster-key-slot";
import { describe, expect, it } from "vitest";
import { QUEUES, QueueLayout } from "../src/index.js";

/** The slot of a BullMQ key of a queue (`<prefix>:<name>:wait`), as Redis Cluster computes it. */
const slotOf = (layout: QueueLayout, name: string) => calculateSlot(`${layout.prefix}:${name}:wait`);

describe("QueueLayout", () => {
  it("with one shard keeps today's names and prefix: each queue plus its bulk lane, all in the prefix's slot", () => {
    const layout = new QueueLayout({ prefix: "{leadsync}", shards: 1 });
    expect(layout.prefix).toBe("{leadsync}");
    expect(layout.queuesOf(QUEUES.crmChanges).map((q) => q.name)).toEqual(["crm-changes", "crm-changes-bulk"]);
    expect(layout.queuesOf(QUEUES.crmSync).map((q) => q.name)).toEqual(["crm-sync"]);
    expect(layout.route(QUEUES.crmOutbound, "any", "bulk")).toBe("crm-outbound-bulk");
    expect(new Set(layout.queuesOf(QUEUES.crmChanges).map((q) => slotOf(layout, q.name)))).toEqual(new Set([calculateSlot("leadsync")]));
  });

  it("with shards gives each its own hash tag, the slots spread evenly, and drops the prefix's braces", () => {
    const layout = new QueueLayout({ prefix: "{leadsync}", shards: 6 });
    expect(layout.prefix).toBe("leadsync");
    const normal = layout.queuesOf(QUEUES.crmChanges).filter((q) => q.lane === "normal");
    expect(normal).toHaveLength(6);
    const slots = normal.map((q) => slotOf(layout, q.name));
    // Shard i's slot lies in the i-th sixth of the slot space: a three-master cluster holds two shards per master.
    slots.forEach((slot, i) => {
      expect(slot).toBeGreaterThanOrEqual(Math.floor((i * 16384) / 6));
      expect(slot).toBeLessThan(Math.floor(((i + 1) * 16384) / 6));
    });
    // A shard's bulk lane shares its slot; the names are stable (they are Redis keys).
    const bulk = layout.queuesOf(QUEUES.crmChanges).filter((q) => q.lane === "bulk");
    expect(bulk.map((q) => slotOf(layout, q.name))).toEqual(slots);
    expect(new QueueLayout({ prefix: "x", shards: 6 }).queuesOf(QUEUES.crmChanges)).toEqual(layout.queuesOf(QUEUES.crmChanges));
  });

  it("routes an account to one shard, whatever the process, and spreads accounts over all shards", () => {
    const layout = new QueueLayout({ prefix: "leadsync", shards: 8 });
    const again = new QueueLayout({ prefix: "leadsync", shards: 8 });
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8_000; i++) {
      const key = `hubspot:${1_000_000 + i}`;
      const shard = layout.shardOf(key);
      expect(again.shardOf(key)).toBe(shard);
      counts[shard] = (counts[shard] ?? 0) + 1;
      expect(layout.route(QUEUES.crmChanges, key)).toBe(layout.queuesOf(QUEUES.crmChanges)[shard]?.name);
    }
    for (const count of counts) expect(count).toBeGreaterThan(800); // 1,000 each ± hashing noise
    // Braces in an account id cannot pick the slot.
    expect(layout.shardOf("zoho:{x}")).toBe(layout.shardOf("zoho:x"));
  });

  it("refuses a shard count that is not a positive integer", () => {
    expect(() => new QueueLayout({ prefix: "p", shards: 0 })).toThrow(/positive integer/);
  });
});
