import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildWithSnapshot, readSnapshot, SnapshotWriter, writeSnapshot } from "../src/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "emulator-kit-"));
  dirs.push(dir);
  return join(dir, "nested", "emu.json");
}

interface State {
  n: number;
  big: string;
}
const parse = (state: unknown): State => {
  const s = state as State;
  if (typeof s?.n !== "number") throw new Error("n must be a number");
  return s;
};
const file = (path: string) => ({ path, emulator: "test-emu", version: 2, parse });

describe("emulator snapshots", () => {
  it("round-trips a state (bigints as strings) through an atomic write, readable by the user only", () => {
    const path = tempPath();
    writeSnapshot(path, "test-emu", 2, { n: 1, big: 12345678901234567890n });
    expect(readSnapshot(file(path))).toEqual({ state: { n: 1, big: "12345678901234567890" } });
    expect(readdirSync(join(path, ".."))).toEqual(["emu.json"]); // no temp file left behind
    expect(readFileSync(path, "utf8")).toContain('"format":"leadsync-emulator-snapshot"');
  });

  it("a missing file is 'missing'; broken JSON, another emulator's file, another version or a state that does not parse are 'unusable'", () => {
    const path = tempPath();
    expect(readSnapshot(file(path))).toEqual({ reason: "missing" });
    writeSnapshot(path, "test-emu", 2, { n: 1 });
    writeFileSync(path, readFileSync(path, "utf8").slice(0, 20));
    expect(readSnapshot(file(path))).toMatchObject({ reason: "unusable" });
    writeSnapshot(path, "other-emu", 2, { n: 1 });
    expect(readSnapshot(file(path))).toMatchObject({ reason: "unusable", detail: "a snapshot of other-emu" });
    writeSnapshot(path, "test-emu", 1, { n: 1 });
    expect(readSnapshot(file(path))).toMatchObject({ reason: "unusable", detail: "snapshot version 1, expected 2" });
    writeSnapshot(path, "test-emu", 2, { n: "x" });
    expect(readSnapshot(file(path))).toMatchObject({ reason: "unusable", detail: "n must be a number" });
  });

  it("the writer saves once per debounce window after changes, and once more on close; nothing after close", async () => {
    const path = tempPath();
    let n = 0;
    let collected = 0;
    const writer = new SnapshotWriter({ path, emulator: "test-emu", version: 2, debounceMs: 30, collect: () => (collected++, { n }) });
    n = 1;
    writer.changed();
    n = 2;
    writer.changed();
    expect(readSnapshot(file(path))).toEqual({ reason: "missing" });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(readSnapshot(file(path))).toEqual({ state: { n: 2 } });
    expect(collected).toBe(1);
    n = 3;
    writer.changed();
    writer.close(); // the pending change is written now, not lost with the process
    expect(readSnapshot(file(path))).toEqual({ state: { n: 3 } });
    n = 4;
    writer.changed();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(readSnapshot(file(path))).toEqual({ state: { n: 3 } });
  });

  it("a failed write is reported, not thrown", () => {
    const path = tempPath();
    const errors: unknown[] = [];
    const writer = new SnapshotWriter({
      path,
      emulator: "test-emu",
      version: 2,
      collect: () => {
        throw new Error("disk full");
      },
      onError: (error) => errors.push(error),
    });
    writer.flush();
    expect(errors).toHaveLength(1);
  });

  it("buildWithSnapshot: builds from the stored state; a build that rejects it is retried empty and says why; in memory without a file", async () => {
    const path = tempPath();
    writeSnapshot(path, "test-emu", 2, { n: 7 });
    const built: (State | undefined)[] = [];
    const ok = await buildWithSnapshot({ file: file(path), build: async (restore) => (built.push(restore), restore?.n ?? 0), collect: (n) => ({ n }) });
    expect(ok).toMatchObject({ built: 7, status: { path, restored: true } });

    const fallback = await buildWithSnapshot({
      file: file(path),
      build: async (restore) => {
        if (restore) throw new Error("does not fit");
        return 0;
      },
      collect: (n) => ({ n }),
    });
    expect(fallback).toMatchObject({ built: 0, status: { restored: false, reason: "unusable", detail: "does not fit" } });

    const memory = await buildWithSnapshot<State, number>({ file: undefined, build: async (restore) => restore?.n ?? 0, collect: (n) => ({ n }) });
    expect(memory).toEqual({ built: 0, status: undefined, writer: undefined });
  });

  it("buildWithSnapshot: a failed save is a warn line on the emulator's logger naming the emulator and the file", async () => {
    const path = tempPath();
    const warnings: { fields: object; message: string }[] = [];
    const { writer } = await buildWithSnapshot<State, number>({
      file: file(path),
      build: async () => 0,
      collect: () => {
        throw new Error("disk full");
      },
      logger: { warn: (fields, message) => warnings.push({ fields, message }) },
    });
    writer?.flush();
    expect(warnings).toEqual([{ fields: { err: expect.objectContaining({ message: "disk full" }), path }, message: "test-emu: could not save its snapshot" }]);
  });
});
