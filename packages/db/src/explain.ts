import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";

/**
 * A Prisma client whose every statement is explained as it runs: each connection starts with Postgres' auto_explain loaded
 * (EXPLAIN ANALYZE with BUFFERS, JSON) and the plans come back as notices, so a test or the bench sees the plans of
 * the exact SQL and parameters the code ran — no copy of the query to drift from it. Needs a superuser connection
 * (session_preload_libraries), as the local and CI Postgres give. Its timings carry EXPLAIN ANALYZE's overhead: not for measuring.
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

/** Set when each connection starts (superuser: session_preload_libraries), so no statement runs unexplained. */
const SETTINGS = [
  "session_preload_libraries=auto_explain",
  "auto_explain.log_min_duration=0",
  "auto_explain.log_analyze=on",
  "auto_explain.log_buffers=on",
  "auto_explain.log_triggers=on",
  "auto_explain.log_format=json",
  "auto_explain.log_level=notice",
]
  .map((setting) => `-c ${setting}`)
  .join(" ");

export interface ExplainingPrisma {
  prisma: PrismaClient;
  /** The plans captured since the last call, oldest first. */
  take(): CapturedPlan[];
  close(): Promise<void>;
}

export function createExplainingPrisma(databaseUrl: string): ExplainingPrisma {
  let plans: CapturedPlan[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, options: SETTINGS });
  pool.on("connect", (client) => {
    client.on("notice", (notice) => {
      const captured = parseNotice(notice.message ?? "");
      if (captured) plans.push(captured);
    });
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

export interface TimedPrisma {
  prisma: PrismaClient;
  /** Statements run and their summed durations (as Prisma's driver adapter measured them) since the last call. */
  take(): { statements: number; ms: number };
}

/** A Prisma client that adds up the time of every statement it runs: the database's share of a piece of work. */
export function createTimedPrisma(databaseUrl: string): TimedPrisma {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }), log: [{ emit: "event", level: "query" }] });
  let totals = { statements: 0, ms: 0 };
  prisma.$on("query", (event) => {
    totals.statements++;
    totals.ms += event.duration;
  });
  return {
    prisma,
    take() {
      const taken = totals;
      totals = { statements: 0, ms: 0 };
      return taken;
    },
  };
}
