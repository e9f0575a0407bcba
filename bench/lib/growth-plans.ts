import { scansAndSorts, sharedBuffers, type CapturedPlan } from "../../packages/db/src/testing.js";

/**
 * The plans of one piece of work (an inbound batch, one API request) at each size, statement by statement: the
 * buffers each touched (a count of pages, which unlike a time does not move with the machine's load) and what in
 * it reads a big table whole or sorts.
 */

export const BIG_TABLES = ["leads", "lead_crm_links", "webhook_events"];

export interface StatementCost {
  label: string;
  buffers: number;
  ms: number;
  findings: string[];
  /** Statements of this shape in the piece of work. */
  count: number;
}

/** One line per statement shape: the SQL with its parameter lists collapsed, whitespace squeezed. */
export function statementKey(query: string): string {
  return query
    .replace(/\$\d+(\s*,\s*\$\d+)*/g, "$n")
    .replace(/\s+/g, " ")
    .trim();
}

/** A short name for a statement: its verb and tables. */
export function statementLabel(key: string): string {
  const tag = /^\[([^\]]+)\]\s*/.exec(key);
  if (tag) return `${tag[1]}: ${statementLabel(key.slice(tag[0].length))}`;
  const verb = /^\s*(WITH|SELECT|INSERT INTO|UPDATE|DELETE FROM)/i.exec(key)?.[1]?.toUpperCase() ?? "SQL";
  const tables = [...new Set([...key.matchAll(/(?:FROM|JOIN|INTO|UPDATE)\s+"?(?:public"?\."?)?([a-z_]+)"?/gi)].map((m) => m[1]))];
  const lock = /FOR UPDATE/i.test(key) ? " FOR UPDATE" : "";
  return `${verb} ${tables.join(", ")}${lock}`;
}

export function costsOf(plans: readonly CapturedPlan[]): Map<string, StatementCost> {
  const costs = new Map<string, StatementCost>();
  for (const { query, plan } of plans) {
    const key = statementKey(query);
    const cost = costs.get(key) ?? { label: statementLabel(key), buffers: 0, ms: 0, findings: [], count: 0 };
    cost.buffers += sharedBuffers(plan);
    cost.ms += Number(plan["Actual Total Time"] ?? 0);
    cost.count++;
    for (const finding of scansAndSorts(plan, BIG_TABLES)) if (!cost.findings.includes(finding)) cost.findings.push(finding);
    costs.set(key, cost);
  }
  return costs;
}

export interface StatementGrowth {
  label: string;
  /** Buffers at each size, in the order of the sizes (undefined where the statement did not run). */
  buffers: (number | undefined)[];
  /** Largest size ÷ smallest size. */
  ratio: number;
  /** Seq Scans of big tables and sorts, at the largest size. */
  findings: string[];
  seqScan: boolean;
}

/** Statement by statement, the buffers at each size and how they grew (sizes in increasing order). */
export function growthOf(bySize: readonly Map<string, StatementCost>[]): StatementGrowth[] {
  const keys = [...new Set(bySize.flatMap((costs) => [...costs.keys()]))];
  return keys.map((key) => {
    const buffers = bySize.map((costs) => costs.get(key)?.buffers);
    const first = buffers.find((b) => b !== undefined) ?? 0;
    const last = [...buffers].reverse().find((b) => b !== undefined) ?? 0;
    const largest = [...bySize].reverse().find((costs) => costs.has(key))?.get(key);
    const findings = largest?.findings ?? [];
    return {
      label: largest?.label ?? statementLabel(key),
      buffers,
      ratio: Math.round((last / Math.max(1, first)) * 100) / 100,
      findings,
      seqScan: findings.some((f) => f.startsWith("Seq Scan")),
    };
  });
}
