import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "./run.js";
import { SCENARIOS } from "./scenarios/index.js";

// The benchmark code in CI: a --quick run completes every scenario and writes both reports. Figures are not
// checked (a loaded CI machine says nothing about them), only that each scenario produced its table.

const outDir = mkdtempSync(join(tmpdir(), "leadsync-bench-test-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("pnpm bench --quick", () => {
  it("runs every scenario and writes latest.json and latest.md", { timeout: 240_000 }, async () => {
    const report = await runBench({ quick: true, outDir });
    expect(report.failures).toEqual([]);
    expect(report.scenarios.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));

    const json = JSON.parse(readFileSync(join(outDir, "latest.json"), "utf8")) as typeof report;
    expect(json.quick).toBe(true);
    expect(json.machine.cores).toBeGreaterThan(0);
    for (const scenario of json.scenarios) expect(scenario.figures.length).toBeGreaterThan(0);

    const markdown = readFileSync(join(outDir, "latest.md"), "utf8");
    for (const scenario of report.scenarios) expect(markdown).toContain(`## ${scenario.title}`);
    expect(markdown).toContain("| scenario | figure | value | baseline | ratio | target | pass |");
    expect(existsSync(join(outDir, "latest.json"))).toBe(true);
  });
});
