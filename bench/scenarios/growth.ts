import { loadavg } from "node:os";
import pg from "pg";
import { encodeCursor } from "../../apps/api/src/routes/leads/list-leads.js";
import { ensureCrmImportForm } from "../../packages/db/src/index.js";
import { copyLeads, seedCreatedAt, seedEmail, seedLeadId, type SeedOrg } from "../../test/helpers/seed-leads.js";
import { BenchEnvironment } from "../lib/environment.js";
import { createApiProbe, type ApiProbe } from "../lib/growth-api.js";
import { measureBackfill } from "../lib/growth-backfill.js";
import { createInboundRunner, type BatchContacts, type BatchTiming, type InboundRunner } from "../lib/growth-inbound.js";
import { costsOf, growthOf, type StatementCost, type StatementGrowth } from "../lib/growth-plans.js";
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";
import { percentile, round } from "../lib/stats.js";

/**
 * Growth (issue #13): the same work at 10k, 100k and 1M leads in one org — the inbound batch, the API's list —
 * must cost about the same, and a 100k-contact backfill must run near the CRM's ceiling in bounded memory.
 *
 * One database grows step by step: the org's leads (with their CRM links and the event claims that brought them
 * in) are written with COPY up to each size, beside other orgs' leads that stay the same (so every index must
 * tell the orgs apart), then VACUUM ANALYZE, as autovacuum would have done on a table that grew over months.
 * At each size: inbound batches of 150 creations and 150 edits of seeded leads (spread over the whole table)
 * through the worker's batch handler against an unlimited sandbox portal; GET /api/v1/leads on the API process
 * (first page, a page in the middle and the last page by cursor, the same filtered by source, a lookup by email);
 * and the plans of every statement both ran (auto_explain), compared size to size by the buffers they touched.
 * Last, the backfill into an empty org of a portal holding 100k contacts.
 */

interface Sizes {
  leads: number[];
  otherOrgs: number;
  otherLeadsPerOrg: number;
  batches: number;
  apiRequests: number;
  backfill: number;
}

const FULL: Sizes = { leads: [10_000, 100_000, 1_000_000], otherOrgs: 2, otherLeadsPerOrg: 100_000, batches: 20, apiRequests: 100, backfill: 100_000 };
const QUICK: Sizes = { leads: [1_000, 10_000], otherOrgs: 1, otherLeadsPerOrg: 5_000, batches: 3, apiRequests: 10, backfill: 5_000 };
const UPDATES_PER_BATCH = 150;
const CREATES_PER_BATCH = 150;
/** Growth allowed from the smallest size to the largest (ms and buffers): flat, with room for a deeper B-tree. */
const MAX_GROWTH = 2;
const MAX_WORKER_RSS_MB = 300;
/**
 * The plans are judged when the org reaches this size: on the quick run's small tables a sequential scan or hash
 * join can be Postgres' cheapest plan (the prefilter read does it at 15k leads), which says nothing of 1M.
 */
const PLANS_JUDGED_FROM = 100_000;

export const growthScenario: Scenario = { id: "growth", title: "Growth: 10k → 1M leads in one org, and a 100k-contact backfill", run };

interface SizeResult {
  leads: number;
  seedSeconds: number;
  batches: BatchTiming[];
  inboundCosts: Map<string, StatementCost>;
  api: Record<string, number[]>;
  apiCosts: Map<string, StatementCost>;
  load: number;
}

async function run({ quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const sizes = quick ? QUICK : FULL;
  const started = Date.now();
  const env = await BenchEnvironment.start({ tier: "unlimited" });
  const org: SeedOrg = {
    index: 0,
    orgId: env.orgId,
    formId: (await ensureCrmImportForm(env.db.prisma, env.orgId)).id,
    integrationId: env.integration.id,
    accountId: env.integration.externalAccountId,
  };
  const others = await createOtherOrgs(env, sizes.otherOrgs);
  const batchesPerSize = sizes.batches + 2; // one warm-up, the measured ones, one explained
  progress(`growth: creating the sandbox contacts of ${batchesPerSize * sizes.leads.length} batches`);
  const plan = await planBatches(env, org, sizes.leads, batchesPerSize);

  const client = new pg.Client({ connectionString: env.db.url });
  await client.connect();
  const { url: apiUrl } = await env.startApi();
  const inbound = createInboundRunner(env);
  const api = await createApiProbe(env, apiUrl);
  const results: SizeResult[] = [];
  let otherSeedSeconds = 0;
  try {
    const seedStarted = performance.now();
    for (const other of others) {
      progress(`growth: COPY ${sizes.otherLeadsPerOrg} leads of ${other.orgId}`);
      await copyLeads(client, other, { from: 0, to: sizes.otherLeadsPerOrg });
    }
    otherSeedSeconds = (performance.now() - seedStarted) / 1000;
    let seeded = 0;
    for (const [step, size] of sizes.leads.entries()) {
      progress(`growth: COPY leads ${seeded}–${size} of the org`);
      const copyStarted = performance.now();
      await copyLeads(client, org, { from: seeded, to: size, externalIds: plan.externalIds });
      await client.query("VACUUM ANALYZE leads, lead_crm_links, webhook_events");
      const seedSeconds = (performance.now() - copyStarted) / 1000;
      seeded = size;
      results.push(await measureSize(size, seedSeconds, plan.batches[step] as BatchContacts[], inbound, api, org, sizes, progress));
    }
  } finally {
    await client.end();
  }

  progress(`growth: backfill of ${sizes.backfill} contacts`);
  const backfill = await measureBackfill(env, apiUrl, sizes.backfill, (m) => progress(`growth: ${m}`));
  return report(sizes, results, backfill, otherSeedSeconds, (Date.now() - started) / 1000);
}

async function createOtherOrgs(env: BenchEnvironment, count: number): Promise<SeedOrg[]> {
  const orgs: SeedOrg[] = [];
  for (let i = 1; i <= count; i++) {
    const orgId = `${env.orgId}-other-${i}`;
    const accountId = String(900_000_000 + i);
    const integration = await env.db.prisma.crmIntegration.create({ data: { orgId, provider: "hubspot", externalAccountId: accountId } });
    orgs.push({ index: i, orgId, formId: (await ensureCrmImportForm(env.db.prisma, orgId)).id, integrationId: integration.id, accountId });
  }
  return orgs;
}

/**
 * The contacts each size's batches touch, created in the sandbox before any lead is seeded: edits of seeded leads
 * spread evenly over the leads that exist at that size (never one an earlier size edited), and new contacts. The
 * seeded leads that are edited get the sandbox contact's id as their link.
 */
async function planBatches(env: BenchEnvironment, org: SeedOrg, leadSizes: number[], batchesPerSize: number) {
  const taken = new Set<number>();
  const perSize = batchesPerSize * UPDATES_PER_BATCH;
  const targets = leadSizes.map((size) =>
    Array.from({ length: perSize }, (_, j) => {
      let n = Math.floor(((j + 0.5) * size) / perSize);
      while (taken.has(n)) n = (n + 1) % size;
      taken.add(n);
      return n;
    }),
  );
  const updateIds = await env.createContacts(
    targets.flat().map((n) => ({ email: seedEmail(org, n), firstname: `Edited${n}`, lastname: `Last${n}`, phone: `+1555${String(n % 10_000_000).padStart(7, "0")}`, company: `Company ${n % 997}`, jobtitle: "Buyer" })),
  );
  const newIds = await env.createContacts(
    Array.from({ length: leadSizes.length * batchesPerSize * CREATES_PER_BATCH }, (_, i) => ({ email: `growth-new-${i}@example.com`, firstname: `New${i}`, lastname: "Growth", company: "Bench Inc", jobtitle: "Buyer" })),
  );
  const externalIds = new Map<number, string>();
  targets.flat().forEach((n, i) => externalIds.set(n, updateIds[i] as string));
  const batches = targets.map((sizeTargets, step) =>
    Array.from({ length: batchesPerSize }, (_, b): BatchContacts => ({
      updates: sizeTargets.slice(b * UPDATES_PER_BATCH, (b + 1) * UPDATES_PER_BATCH).map((n) => ({ contactId: externalIds.get(n) as string, firstname: `Edited${n}` })),
      creates: newIds.slice((step * batchesPerSize + b) * CREATES_PER_BATCH, (step * batchesPerSize + b + 1) * CREATES_PER_BATCH),
    })),
  );
  return { externalIds, batches };
}

async function measureSize(
  size: number,
  seedSeconds: number,
  batches: BatchContacts[],
  inbound: InboundRunner,
  api: ApiProbe,
  org: SeedOrg,
  sizes: Sizes,
  progress: (message: string) => void,
): Promise<SizeResult> {
  const [warmup, ...rest] = batches;
  const explained = rest.pop() as BatchContacts;
  await inbound.run(warmup as BatchContacts);
  const timings: BatchTiming[] = [];
  for (const [i, batch] of rest.entries()) {
    progress(`growth: ${size} leads, inbound batch ${i + 1}/${rest.length}`);
    timings.push(await inbound.run(batch));
  }
  const inboundCosts = costsOf(await inbound.explain(explained));

  const cursorAt = (n: number) => encodeCursor({ createdAt: seedCreatedAt(n), id: seedLeadId(org, n) });
  const paths: Record<string, string> = {
    "first page": "/api/v1/leads",
    "middle page (cursor)": `/api/v1/leads?cursor=${cursorAt(Math.floor(size / 2))}`,
    "last page (cursor)": `/api/v1/leads?cursor=${cursorAt(25)}`,
    "source=jazzaam, first page": "/api/v1/leads?source=jazzaam",
    "source=jazzaam, middle page": `/api/v1/leads?source=jazzaam&cursor=${cursorAt(Math.floor(size / 2))}`,
    "email lookup": `/api/v1/leads?email=${encodeURIComponent(seedEmail(org, Math.floor(size / 3)))}`,
  };
  const apiTimes: Record<string, number[]> = {};
  const apiPlans = [];
  for (const [name, path] of Object.entries(paths)) {
    progress(`growth: ${size} leads, GET ${name}`);
    apiTimes[name] = await api.latencies(path, sizes.apiRequests);
    apiPlans.push(...(await api.explain(path)).map((p) => ({ ...p, query: `[${name}] ${p.query}` })));
  }
  return { leads: size, seedSeconds, batches: timings, inboundCosts, api: apiTimes, apiCosts: costsOf(apiPlans), load: round(loadavg()[0] ?? 0, 2) };
}

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

function report(sizes: Sizes, results: SizeResult[], backfill: Awaited<ReturnType<typeof measureBackfill>>, otherSeedSeconds: number, seconds: number): ScenarioResult {
  const first = results[0] as SizeResult;
  const last = results.at(-1) as SizeResult;
  const median = (r: SizeResult) => percentile(r.batches.map((b) => b.ms), 50);
  const p95 = (r: SizeResult) => percentile(r.batches.map((b) => b.ms), 95);
  const dbMedian = (r: SizeResult) => percentile(r.batches.map((b) => b.dbMs), 50);
  const apiP50 = (r: SizeResult, name: string) => percentile(r.api[name] ?? [], 50);
  const inboundGrowth = growthOf(results.map((r) => r.inboundCosts));
  const apiGrowth = growthOf(results.map((r) => r.apiCosts));
  const allGrowth = [...inboundGrowth, ...apiGrowth];
  const grown = allGrowth.filter((g) => g.ratio > MAX_GROWTH);
  const seqScans = allGrowth.filter((g) => g.seqScan);
  const backfillRatio = backfill.ceilingSeconds / backfill.seconds;

  const timeFigure = (name: string, value: (r: SizeResult) => number, target = true): Figure => {
    const ratio = value(first) / Math.max(0.001, value(last));
    return {
      name: `${name} at ${label(last.leads)} leads`,
      value: round(value(last)),
      unit: "ms",
      baseline: { name: `the same at ${label(first.leads)} leads`, value: round(value(first)), unit: "ms" },
      ratio: round(ratio, 2),
      ...(target ? { target: `≤ ${MAX_GROWTH}× the ${label(first.leads)} figure`, pass: ratio >= 1 / MAX_GROWTH } : {}),
    };
  };
  const figures: Figure[] = [
    timeFigure(`inbound batch (${UPDATES_PER_BATCH} edits + ${CREATES_PER_BATCH} creations), median`, median),
    timeFigure("inbound batch, p95", p95, false),
    timeFigure("inbound batch, DB time (median)", dbMedian),
    ...Object.keys(first.api).map((name) => timeFigure(`GET /api/v1/leads ${name}, p50`, (r) => apiP50(r, name))),
    {
      name: `statements whose buffers grow more than ${MAX_GROWTH}× from ${label(first.leads)} to ${label(last.leads)} leads`,
      value: grown.length,
      unit: `of ${allGrowth.length}`,
      ...(last.leads >= PLANS_JUDGED_FROM ? { target: "0", pass: grown.length === 0 } : {}),
    },
    {
      name: `plans with a Seq Scan of leads, lead_crm_links or webhook_events at ${label(last.leads)} leads`,
      value: seqScans.length,
      unit: "",
      ...(last.leads >= PLANS_JUDGED_FROM ? { target: "0", pass: seqScans.length === 0 } : {}),
    },
    {
      name: `backfill of ${label(backfill.contacts)} contacts into an empty org`,
      value: round(backfill.seconds / 60, 2),
      unit: "min",
      baseline: { name: "sandbox ceiling (search: 5 calls/s × 200 contacts)", value: round(backfill.ceilingSeconds / 60, 2), unit: "min" },
      ratio: round(backfillRatio, 3),
      target: "≥ 50% of the ceiling",
      pass: backfillRatio >= 0.5,
    },
    {
      name: "backfill CRM calls",
      value: backfill.calls,
      unit: "calls",
      baseline: { name: "one search call per 200 contacts", value: Math.ceil(backfill.contacts / 200), unit: "calls" },
      ratio: round(Math.ceil(backfill.contacts / 200) / Math.max(1, backfill.calls), 3),
    },
    { name: "backfill 429 responses", value: backfill.throttled, unit: "", target: "0", pass: backfill.throttled === 0 },
    { name: "backfill worker peak RSS (VmHWM)", value: round(backfill.peakRssBytes / 2 ** 20, 1), unit: "MB", target: `≤ ${MAX_WORKER_RSS_MB} MB`, pass: backfill.peakRssBytes <= MAX_WORKER_RSS_MB * 2 ** 20 },
    { name: "backfill leads created", value: backfill.leads, unit: `of ${backfill.contacts}`, target: `${backfill.contacts}`, pass: backfill.leads === backfill.contacts },
  ];

  const header = `| | ${results.map((r) => `${label(r.leads)} leads`).join(" | ")} |`;
  const rule = `| --- | ${results.map(() => "---").join(" | ")} |`;
  const row = (name: string, value: (r: SizeResult) => string | number) => `| ${name} | ${results.map((r) => String(value(r))).join(" | ")} |`;
  const sideBySide = [
    header,
    rule,
    row("COPY of the org's new leads + links + claims, VACUUM ANALYZE (s)", (r) => round(r.seedSeconds, 1)),
    row("inbound batch median / p95 (ms)", (r) => `${round(median(r))} / ${round(p95(r))}`),
    row("inbound batch DB time median (ms)", (r) => round(dbMedian(r))),
    row("inbound batch statements", (r) => r.batches[0]?.statements ?? 0),
    ...Object.keys(first.api).map((name) => row(`GET ${name} p50 / p95 (ms)`, (r) => `${round(apiP50(r, name))} / ${round(percentile(r.api[name] ?? [], 95))}`)),
    row("load average (1 min) after the size", (r) => r.load),
  ];
  const planTable = (title: string, growth: StatementGrowth[]) => [
    `${title}: shared buffers (hit + read) per statement, EXPLAIN (ANALYZE, BUFFERS) via auto_explain`,
    "",
    `| statement | ${results.map((r) => label(r.leads)).join(" | ")} | ratio | at ${label(last.leads)}: Seq Scan / Sort |`,
    `| --- | ${results.map(() => "---").join(" | ")} | --- | --- |`,
    ...growth.map((g) => `| ${g.label.replaceAll("|", "\\|")} | ${g.buffers.map((b) => b ?? "").join(" | ")} | ${g.ratio} | ${g.findings.join("; ") || "none"} |`),
  ];
  const chart = [
    "Side by side:",
    "",
    ...sideBySide,
    "",
    ...planTable("Inbound batch (explained batch)", inboundGrowth),
    "",
    ...planTable("GET /api/v1/leads", apiGrowth),
  ].join("\n");

  return {
    id: "growth",
    title: growthScenario.title,
    sizes: {
      leads: results.map((r) => label(r.leads)).join(" → "),
      otherOrgs: `${sizes.otherOrgs} × ${label(sizes.otherLeadsPerOrg)} leads`,
      batchesPerSize: sizes.batches,
      apiRequestsPerPath: sizes.apiRequests,
      backfill: backfill.contacts,
    },
    figures,
    notes: [
      `One database, grown step by step with COPY (pg-copy-streams): at each size the org's leads, a CRM link each (HubSpot ids) and one claimed webhook event each; ${sizes.otherOrgs} other org(s) with ${label(sizes.otherLeadsPerOrg)} leads each seeded first (${round(otherSeedSeconds, 1)} s) so that every index must tell the orgs apart. VACUUM ANALYZE after each step.`,
      `Inbound: the worker's batch handler (apps/worker/src/inbound/handle-batch.ts) run in the bench process on batches of ${UPDATES_PER_BATCH} firstname edits of seeded leads (spread over the whole table) + ${CREATES_PER_BATCH} new contacts; each batch reads its 300 contacts from an unlimited sandbox portal (3 batch reads) and writes in one transaction. ${sizes.batches} batches per size after one warm-up; DB time = the sum of the statements' durations as Prisma's driver adapter times them.`,
      `API: GET /api/v1/leads on the API process, ${sizes.apiRequests} sequential requests per path after 10 warm-ups (50 leads a page with their links); the cursors are the API's own (encodeCursor) for a lead in the middle of the org's list and near its oldest.`,
      `Plans: every statement of one more batch and of each API path, explained as it ran (auto_explain with ANALYZE and BUFFERS on the app's own connections, so the SQL and parameters are the code's). Buffers count pages touched, which moves with the work and not with the machine's load; growth = buffers at ${label(last.leads)} ÷ at ${label(first.leads)}. A sort listed there sorts the rows the statement returns (a batch's ~300 leads in id order for the row locks), not the org's leads.`,
      `Backfill: a new org connects a starter portal holding ${backfill.contacts} contacts (created in ${round(backfill.createSeconds, 1)} s through the sandbox's admin route) and asks POST /api/v1/crm-integration/:id/backfill on the API process; one worker process (started for it, \`start:worker\`'s flags) runs it from crm-sync; the clock stops when sync_jobs says completed. ${backfill.searchCalls} of its ${backfill.calls} CRM calls were searches. Its peak RSS is the process's VmHWM.`,
      `Whole scenario: ${round(seconds / 60, 1)} min.`,
    ],
    chart,
    durationSeconds: round(seconds, 1),
  };
}
