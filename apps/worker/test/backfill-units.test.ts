import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { backfillSummary, createProgressBar, formatDuration, progressLine } from "../src/backfill/progress-bar.js";
import { STALE_AFTER_MS, liveOwner } from "../src/backfill/sync-job-store.js";

const progress = { processed: 4_500, total: 10_000, created: 0, updated: 0, linked: 0, unchanged: 0, skipped: 0, skippedByReason: {} };

describe("backfill progress line", () => {
  it("shows the bar, the count, the rate since this run started and the ETA", () => {
    // 4,000 done in this run's 5 s (it resumed at 500): 800/s, 5,500 left → 7 s.
    const line = progressLine(progress, 0, 500, 5_000);
    expect(line).toBe(`[${"#".repeat(14)}${"-".repeat(16)}]  45% 4,500/10,000  800/s  ETA 7s`);
  });

  it("says ? while the total or the rate is unknown", () => {
    expect(progressLine({ ...progress, total: null }, 0, 4_500, 1_000)).toMatch(/4,500\/\?\s+0\/s\s+ETA \?$/);
  });

  it("off a TTY, the last line is written when the backfill ends, even between two plain lines", () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream & PassThrough;
    let written = "";
    stream.on("data", (chunk: Buffer) => (written += chunk.toString()));
    const bar = createProgressBar(stream, 0);
    bar.update({ ...progress, processed: 100, total: 102 });
    bar.update({ ...progress, processed: 102, total: 102 }); // within 5 s of the first: not drawn
    bar.done({ ...progress, processed: 102, total: 102 });
    expect(written.trim().split("\n").at(-1)).toMatch(/\] 100% 102\/102 /);
  });

  it("the summary puts every contact this run read in exactly one outcome", () => {
    const done = { processed: 402, total: 402, created: 300, updated: 0, linked: 0, unchanged: 101, skipped: 1, skippedByReason: { no_email: 1 } };
    expect(backfillSummary(done, 0)).toBe("402 contact(s) read: 300 created, 0 updated, 0 linked, 101 already in sync, 1 skipped (no_email 1)");
    expect(backfillSummary({ ...done, processed: 502 }, 100)).toMatch(/^402 contact\(s\) read: .*; 502 in all with the earlier run\(s\)$/);
  });

  it("formats durations", () => {
    expect([formatDuration(7_400), formatDuration(125_000), formatDuration(3_725_000)]).toEqual(["7s", "2m05s", "1h02m"]);
  });
});

describe("sync job ownership", () => {
  const now = Date.now();
  const running = (owner: string | null, ageMs = 0) => ({ owner, status: "running" as const, updatedAt: new Date(now - ageMs) });

  it("a live process of this host holds its run", () => {
    expect(liveOwner(running(`${hostname()}:${process.pid}`), now)).toBe(`${hostname()}:${process.pid}`);
  });

  it("a dead process of this host holds nothing, however fresh its heartbeat (kill -9 is resumed at once)", () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    expect(liveOwner(running(`${hostname()}:${dead}`), now)).toBeNull();
  });

  it("another host's run is judged by its heartbeat", () => {
    expect(liveOwner(running("elsewhere:1"), now)).toBe("elsewhere:1");
    expect(liveOwner(running("elsewhere:1", STALE_AFTER_MS + 1), now)).toBeNull();
  });

  it("released or finished runs have no owner", () => {
    expect(liveOwner(running(null), now)).toBeNull();
    expect(liveOwner({ ...running(`${hostname()}:${process.pid}`), status: "completed" }, now)).toBeNull();
  });
});
