import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * A Prisma client whose every statement is explained as it runs: each connection loads Postgres' auto_explain
 * (EXPLAIN ANALYZE with BUFFERS, JSON) and the plans come back as notices, so a test or the bench sees the plans of
 * the exact SQL and parameters the code ran — no copy of the query to drift from it. Needs a superuser connection
 * (LOAD), as the local and CI Postgres give. Its timings carry EXPLAIN ANALYZE's overhead: not for measuring.
 */

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  "Shared Dirtied Blocks"?: number;
  "Shared Written Blocks"?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

export interface CapturedPlan {
  query: string;
  plan: PlanNode;
  /** Foreign-key and other trigger time, as EXPLAIN ANALYZE reports it. */
  triggers: { "Trigger Name": string; Relation?: string; Time: number; Calls: number }[];
  durationMs: number;
}

const SETTINGS = [
  "LOAD 'auto_explain'",
  "SET auto_explain.log_min_duration = 0",
  "SET auto_explain.log_analyze = on",
  "SET auto_explain.log_buffers = on",
  "SET auto_explain.log_triggers = on",
  "SET auto_explain.log_format = json",
  "SET auto_explain.log_level = notice",
].join("; ");

export interface ExplainingPrisma {
  prisma: PrismaClient;
  /** The plans captured since the last call, oldest first. */
  take(): CapturedPlan[];
  close(): Promise<void>;
}

export function createExplainingPrisma(databaseUrl: string): ExplainingPrisma {
  let plans: CapturedPlan[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on("connect", (client) => {
    client.on("notice", (notice) => {
      const captured = parseNotice(notice.message ?? "");
      if (captured) plans.push(captured);
    });
    // Queued ahead of whatever the pool hands this client out for.
    client.query(SETTINGS).catch(() => undefined);
  });
  // A dropped test database cuts idle connections: not an error worth crashing on.
  pool.on("error", () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  return {
    prisma,
    take() {
      const taken = plans;
      plans = [];
      return taken;
    },
    async close() {
      await prisma.$disconnect();
    },
  };
}

function parseNotice(message: string): CapturedPlan | undefined {
  const match = /^duration: ([\d.]+) ms\s+plan:\s*([\s\S]*)$/.exec(message);
  if (!match) return undefined;
  const body = JSON.parse(match[2] as string) as { "Query Text": string; Plan: PlanNode; Triggers?: CapturedPlan["triggers"] };
  return { query: body["Query Text"], plan: body.Plan, triggers: body.Triggers ?? [], durationMs: Number(match[1]) };
}

/** Every node of a plan, depth first. */
export function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

/** Shared buffers the statement touched (hit + read), from its top node (which counts its children's). */
export function sharedBuffers(plan: PlanNode): number {
  return (plan["Shared Hit Blocks"] ?? 0) + (plan["Shared Read Blocks"] ?? 0);
}

/** What in a plan reads a table whole or sorts rows: a sequential scan of one of `tables`, or a Sort node. */
export function scansAndSorts(plan: PlanNode, tables: readonly string[]): string[] {
  return planNodes(plan).flatMap((node) => {
    if (node["Node Type"] === "Seq Scan" && tables.includes(node["Relation Name"] ?? "")) return [`Seq Scan on ${node["Relation Name"]}`];
    if (node["Node Type"] === "Sort" || node["Node Type"] === "Incremental Sort") {
      const input = node.Plans?.[0];
      const rows = input ? (input["Actual Rows"] ?? 0) * (input["Actual Loops"] ?? 1) : "?";
      return [`${node["Node Type"]} of ${rows} rows`];
    }
    return [];
  });
}
