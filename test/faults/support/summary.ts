/**
 * The fault suite's report: one row per scenario — faults injected, events sent, leads expected vs found —
 * printed as a small table when the test file ends.
 */
export interface ScenarioResult {
  scenario: string;
  faults: string;
  eventsSent: number;
  leadsExpected: number;
  leadsFound: number;
  duplicates: number;
}

const rows: ScenarioResult[] = [];

export function recordScenario(row: ScenarioResult): void {
  rows.push(row);
}

export function printSummary(title: string): void {
  if (rows.length === 0) return;
  const header = ["scenario", "faults injected", "events sent", "leads expected", "leads found", "duplicates"];
  const table = rows.map((r) => [r.scenario, r.faults, String(r.eventsSent), String(r.leadsExpected), String(r.leadsFound), String(r.duplicates)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const out = [`\n${title}`, line(header), line(widths.map((w) => "-".repeat(w))), ...table.map(line)].join("\n");
  console.log(out);
}
