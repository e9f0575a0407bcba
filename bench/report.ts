import { cpus, totalmem } from "node:os";
import type { ScenarioResult } from "./lib/scenario.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
}

export interface BenchReport {
  startedAt: string;
  quick: boolean;
  machine: MachineInfo;
  scenarios: ScenarioResult[];
  failures: { id: string; error: string }[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const cell = (text: string) => text.replaceAll("|", "\\|");

function formatValue(value: number, unit: string): string {
  return unit ? `${value} ${unit}` : String(value);
}

/** The readable report: machine, then one table per scenario with its notes and chart. */
export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# LeadSync benchmarks${report.quick ? " (quick sizes: a smoke run, not the figures to report)" : ""}`,
    "",
    `Run ${report.startedAt} on ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node} (${m.platform}). Postgres, Redis, the sandbox and every process share this machine.`,
    "",
    "| scenario | figure | value | baseline | ratio | target | pass |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const s of report.scenarios) {
    for (const f of s.figures.filter((x) => x.target !== undefined)) {
      lines.push(
        `| ${cell(s.id)} | ${cell(f.name)} | ${formatValue(f.value, f.unit)} | ${f.baseline ? formatValue(f.baseline.value, f.baseline.unit) : ""} | ${f.ratio ?? ""} | ${cell(f.target ?? "")} | ${f.pass === undefined ? "" : f.pass ? "✅" : "❌"} |`,
      );
    }
  }
  for (const failure of report.failures) lines.push(`| ${failure.id} | did not complete | ${cell(failure.error)} | | | | ❌ |`);
  for (const s of report.scenarios) {
    const load = s.loadAverage ? ` Load average (1 min) ${s.loadAverage.before} before, ${s.loadAverage.after} after (${m.cores} cores).` : "";
    lines.push("", `## ${s.title}`, "", `Sizes: ${Object.entries(s.sizes).map(([k, v]) => `${k} ${v}`).join(", ")}.${load}`, "");
    lines.push("| figure | value | baseline | ratio | target | pass |", "| --- | --- | --- | --- | --- | --- |");
    for (const f of s.figures) {
      const baseline = f.baseline ? `${cell(f.baseline.name)}: ${formatValue(f.baseline.value, f.baseline.unit)}` : "";
      lines.push(
        `| ${cell(f.name)} | ${formatValue(f.value, f.unit)} | ${baseline} | ${f.ratio ?? ""} | ${cell(f.target ?? "")} | ${f.pass === undefined ? "" : f.pass ? "✅" : "❌"} |`,
      );
    }
    if (s.notes.length > 0) lines.push("", ...s.notes.map((n) => `- ${n}`));
    if (s.chart) lines.push("", s.chart);
  }
  if (report.failures.length > 0) {
    lines.push("", "## Scenarios that did not complete", "");
    for (const f of report.failures) lines.push(`- **${f.id}**: ${f.error}`);
  }
  return `${lines.join("\n")}\n`;
}
