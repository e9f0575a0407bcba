/**
 * `pnpm bench [--quick] [--only <scenario>[,<scenario>…]] [--out <dir>]`: runs the benchmarks on this machine, each
 * beside its baseline, and writes `bench/results/latest.json` and `latest.md`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cleanupMark, cleanupOnSignals, cleanupSince } from "./lib/cleanup.js";
import { done, progress } from "./lib/progress.js";
import type { Scenario, ScenarioResult } from "./lib/scenario.js";
import { machineInfo, toMarkdown, type BenchReport } from "./report.js";
import { SCENARIOS } from "./scenarios/index.js";

export interface BenchOptions {
  quick: boolean;
  only?: string[];
  outDir?: string;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const selected = selectScenarios(options.only);
  const report: BenchReport = { startedAt: new Date().toISOString(), quick: options.quick, machine: machineInfo(), scenarios: [], failures: [] };
  for (const [index, scenario] of selected.entries()) {
    const label = `[${index + 1}/${selected.length}] ${scenario.id}`;
    progress(`${label}: starting`);
    const mark = cleanupMark();
    const started = Date.now();
    const loadBefore = loadavg()[0] ?? 0;
    try {
      const result: ScenarioResult = await scenario.run({ quick: options.quick, progress: (m) => progress(`${label} ${m}`) });
      result.loadAverage = { before: Math.round(loadBefore * 100) / 100, after: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
      report.scenarios.push(result);
      const failed = result.figures.filter((f) => f.pass === false).map((f) => f.name);
      done(`${label}: done in ${Math.round((Date.now() - started) / 100) / 10} s${failed.length > 0 ? ` (below target: ${failed.join(", ")})` : ""}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.failures.push({ id: scenario.id, error: message });
      done(`${label}: FAILED: ${message}`);
    } finally {
      await cleanupSince(mark);
    }
  }
  writeReports(report, options.outDir ?? join(import.meta.dirname, "results"));
  return report;
}

function selectScenarios(only: string[] | undefined): Scenario[] {
  if (!only || only.length === 0) return SCENARIOS;
  const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
  return SCENARIOS.filter((s) => only.includes(s.id));
}

function writeReports(report: BenchReport, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, "latest.md"), toMarkdown(report));
  process.stderr.write(`wrote ${join(outDir, "latest.json")} and latest.md\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: "boolean", default: false }, only: { type: "string", multiple: true }, out: { type: "string" } },
  });
  cleanupOnSignals();
  const only = values.only?.flatMap((v) => v.split(",")).filter((v) => v !== "");
  const report = await runBench({ quick: values.quick ?? false, ...(only ? { only } : {}), ...(values.out ? { outDir: values.out } : {}) });
  process.exit(report.failures.length > 0 ? 1 : 0);
}

if (import.meta.filename === process.argv[1]) {
  main().catch(async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanupSince(0);
    process.exit(1);
  });
}
