import { createQueue, createRedisConnection, QUEUES, QueueLayout } from "../../packages/queue/src/index.js";
import { onCleanup } from "../lib/cleanup.js";
import { BenchEnvironment, waitUntil } from "../lib/environment.js";
import { completedJobTimings, jobOfChange, type JobTiming } from "../lib/job-timings.js";
import { LeadWatch } from "../lib/lead-watch.js";
import { prefixFootprint, usedMemoryBytes, type PrefixFootprint } from "../lib/redis-footprint.js";
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";
import { percentile, round, sparkline } from "../lib/stats.js";
import { Trickle, type TrickleChange } from "../lib/trickle.js";

/**
 * Many tenants: connected HubSpot portals (one integration and organisation each), the receiver and one worker as
 * processes, the sandbox delivering signed webhooks. Phase A, the baseline: a steady trickle over every portal (a
 * contact created, then edited, as in HubSpot's UI). Phase B: the same trickle while ONE portal gets a burst of new
 * contacts. The figure is what the burst does to everyone else: the quiet portals' p99 change → lead latency in B
 * against A, measured in the same run (issue #13's fairness target: at most twice).
 */

// The knobs (issue #13): how many portals, how hard the trickle, how big the burst, how many jobs a worker runs.
const FULL = { portals: 1_000, perPortalIntervalMs: 20_000, warmupSeconds: 20, baselineSeconds: 30, burstContacts: 10_000 };
const QUICK = { portals: 50, perPortalIntervalMs: 1_000, warmupSeconds: 3, baselineSeconds: 8, burstContacts: 1_000 };
/** The worker's WORKER_CONCURRENCY (the default, 8; BENCH_TENANTS_CONCURRENCY overrides it). */
const WORKER_CONCURRENCY = Number(process.env["BENCH_TENANTS_CONCURRENCY"] ?? 8);
/** Every portal, the busy one included: a Starter portal (100 calls per 10 s). */
const TIER = "starter";
const STARTER_CALLS_PER_SECOND = 10;
const CONTACTS_PER_READ = 100;
/** A burst contact carries only its email: a creation and one propertyChange (email), two events per contact. */
const BURST_EVENTS_PER_CONTACT = 2;
/** One query for every pending lead this often (not one per change: the load generator shares the 2 cores). */
const POLL_MS = 100;
const SAMPLE_MS = 1_000;
const RATIO_TARGET = 2;
const MB = 2 ** 20;

export const tenantsScenario: Scenario = { id: "tenants", title: "Many tenants: a trickle on every portal, a burst on one", run };

interface Sample {
  at: number;
  rss: number;
  waiting: number;
  active: number;
  delayed: number;
}

async function run({ quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const size = quick ? QUICK : FULL;
  const redis = createRedisConnection(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { role: "producer" });
  onCleanup("tenants redis", () => void redis.disconnect());
  // A producer connection does not queue commands before it is connected.
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  const usedBefore = await usedMemoryBytes(redis);

  const env = await BenchEnvironment.start({ tier: TIER, sandboxWebhooks: true });
  const busy = { portalId: env.portal.portalId, orgId: env.orgId };
  progress(`tenants: connecting ${size.portals - 1} more portals`);
  const setupStarted = Date.now();
  const quiet = await env.addPortals(size.portals - 1, TIER);
  const setupSeconds = (Date.now() - setupStarted) / 1000;
  const receiver = await env.startReceiver();
  const worker = await env.startWorker("worker", { WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) });
  const workerStarted = Date.now();
  const watch = new LeadWatch(env.db.url, POLL_MS);
  await watch.start();
  onCleanup("lead watch", () => watch.stop().catch(() => undefined));

  // Both lanes of crm-changes (one shard): the burst's jobs go to the bulk lane once the portal is busy.
  const lanes = new QueueLayout({ prefix: env.config.queuePrefix, shards: 1 }).queuesOf(QUEUES.crmChanges);
  const laneQueues = lanes.map((lane) => createQueue(QUEUES.crmChanges, { connection: redis, prefix: env.config.queuePrefix, queueName: lane.name }));
  onCleanup("tenants lane queues", () => Promise.all(laneQueues.map((q) => q.close())).then(() => undefined));
  const jobCounts = async (...states: Parameters<(typeof laneQueues)[number]["getJobCounts"]>) => {
    const all = await Promise.all(laneQueues.map((q) => q.getJobCounts(...states)));
    const sum: Record<string, number> = {};
    for (const counts of all) for (const [state, n] of Object.entries(counts)) sum[state] = (sum[state] ?? 0) + n;
    return sum;
  };

  const trickle = new Trickle(env, quiet, size.perPortalIntervalMs, watch);
  const samples: Sample[] = [];
  let phase = "warm-up";
  const sampler = setInterval(() => {
    void jobCounts("waiting", "prioritized", "active", "delayed").then((c) => {
      const waiting = (c["waiting"] ?? 0) + (c["prioritized"] ?? 0);
      samples.push({ at: Date.now(), rss: worker.rssBytes() ?? 0, waiting, active: c["active"] ?? 0, delayed: c["delayed"] ?? 0 });
      progress(`tenants: ${phase}, ${trickle.changes.length} quiet changes, ${watch.pendingCount} pending, ${c["waiting"] ?? 0} jobs waiting`);
    });
  }, SAMPLE_MS);
  onCleanup("tenants sampler", () => clearInterval(sampler));

  trickle.start();
  await sleep(size.warmupSeconds * 1000);
  // Phase A starts once the warm-up's first changes (new forms, integration lookups) are worked off.
  await waitUntil(async () => (await jobCounts("waiting"))["waiting"] === 0, { timeoutMs: 60_000, intervalMs: 200, what: "the warm-up backlog" });
  phase = "phase A";
  const phaseA = Date.now();
  const rssStart = worker.rssBytes() ?? 0;
  await sleep(size.baselineSeconds * 1000);
  const phaseB = Date.now();
  const usedAfterA = await usedMemoryBytes(redis);
  const footprint = await prefixFootprint(redis, env.config.queuePrefix);

  phase = "phase B (burst)";
  const burst = Array.from({ length: size.burstContacts }, (_, i) => ({ email: `burst-${i}@tenants.example` }));
  await env.createContacts(burst, busy.portalId);
  const burstCreated = Date.now();
  await waitUntil(async () => (await watch.countLeads(busy.orgId)) >= size.burstContacts, {
    timeoutMs: quick ? 60_000 : 600_000,
    intervalMs: 500,
    what: "the burst's leads",
  });
  const burstEnd = (await watch.lastCreatedAt(busy.orgId)) ?? Date.now();
  phase = "draining";
  await trickle.stop();
  const drained = await waitUntil(async () => watch.pendingCount === 0, { timeoutMs: quick ? 30_000 : 120_000, intervalMs: 200, what: "the quiet leads" }).then(
    () => true,
    () => false,
  );
  clearInterval(sampler);
  const rssEnd = worker.rssBytes() ?? 0;
  const rssPeak = worker.peakRssBytes() ?? 0;
  const workerSeconds = (Date.now() - workerStarted) / 1000;
  const busyStats = await env.stats(busy.portalId);
  const jobs = (await Promise.all(lanes.map((lane) => completedJobTimings(redis, env.config.queuePrefix, lane.name)))).flat();
  await watch.stop();
  await Promise.all([receiver.stop(), worker.stop()]);

  const inA = trickle.changes.filter((c) => c.sentAt >= phaseA && c.sentAt < phaseB);
  const inB = trickle.changes.filter((c) => c.sentAt >= phaseB && c.sentAt <= burstEnd);
  const latency = (c: TrickleChange) => Math.max(0, (c.appliedAt ?? Number.NaN) - c.sentAt);
  const a = summary(inA.filter((c) => c.appliedAt !== undefined).map(latency));
  const b = summary(inB.filter((c) => c.appliedAt !== undefined).map(latency));
  const missing = [...inA, ...inB].filter((c) => c.appliedAt === undefined).length;
  const ratio = b.p99 / a.p99;
  const burstSeconds = (burstEnd - phaseB) / 1000;
  const ceilingSeconds = size.burstContacts / (STARTER_CALLS_PER_SECOND * CONTACTS_PER_READ);
  const portalsDiv = size.portals;

  const figures: Figure[] = [
    { name: "quiet p50, phase A (trickle only)", value: a.p50, unit: "ms" },
    { name: "quiet p95, phase A", value: a.p95, unit: "ms" },
    { name: "quiet p99, phase A", value: a.p99, unit: "ms" },
    { name: "quiet p50, phase B (during the burst)", value: b.p50, unit: "ms", baseline: { name: "phase A", value: a.p50, unit: "ms" }, ratio: round(a.p50 / b.p50, 3) },
    { name: "quiet p95, phase B", value: b.p95, unit: "ms", baseline: { name: "phase A", value: a.p95, unit: "ms" }, ratio: round(a.p95 / b.p95, 3) },
    { name: "quiet p99, phase B", value: b.p99, unit: "ms", baseline: { name: "phase A", value: a.p99, unit: "ms" }, ratio: round(a.p99 / b.p99, 3) },
    {
      name: "quiet p99 during the burst ÷ without (p99 B ÷ p99 A)",
      value: round(ratio, 2),
      unit: "×",
      baseline: { name: "quiet p99, phase A", value: a.p99, unit: "ms" },
      target: `≤ ${RATIO_TARGET}`,
      pass: ratio <= RATIO_TARGET,
    },
    { name: "quiet max, phase B", value: b.max, unit: "ms" },
    {
      name: "busy portal: burst created → its last lead written",
      value: round(burstSeconds, 1),
      unit: "s",
      baseline: { name: "ceiling (10 calls/s × 100 contacts)", value: round(ceilingSeconds, 1), unit: "s" },
      ratio: round(ceilingSeconds / burstSeconds, 3),
    },
    { name: "quiet changes not applied", value: missing, unit: "", target: "0", pass: missing === 0 && trickle.errors === 0 },
    { name: "429 responses (busy portal)", value: busyStats.throttled, unit: "", target: "0", pass: busyStats.throttled === 0 },
    { name: "worker RSS after warm-up", value: round(rssStart / MB), unit: "MB" },
    { name: "worker RSS at the end", value: round(rssEnd / MB), unit: "MB", baseline: { name: "after warm-up", value: round(rssStart / MB), unit: "MB" } },
    { name: "worker peak RSS", value: round(rssPeak / MB), unit: "MB", target: "≤ 300 MB", pass: rssPeak <= 300 * MB },
    { name: "Redis used_memory per portal (after phase A − before the portals)", value: round((usedAfterA - usedBefore) / portalsDiv / 1024, 2), unit: "KB" },
    { name: "Redis keys per portal (bench prefix, after phase A)", value: round(footprint.keys / portalsDiv, 2), unit: "keys" },
    { name: "Redis MEMORY USAGE per portal (bench prefix, after phase A)", value: round(footprint.bytes / portalsDiv / 1024, 2), unit: "KB" },
  ];

  const where = [breakdown("A", inA, jobs), breakdown("B", inB, jobs)];
  const busyJobs = jobs.filter((j) => j.accounts.includes(String(busy.portalId)) && j.receivedAt >= phaseB);
  const busyPart = (f: (j: JobTiming) => number) => `${percentile(busyJobs.map(f), 50)} / ${Math.max(0, ...busyJobs.map(f))}`;
  return {
    id: "tenants",
    title: tenantsScenario.title,
    sizes: {
      portals: size.portals,
      tier: TIER,
      "quiet changes/s": round(trickle.rate, 1),
      "per-portal interval ms": size.perPortalIntervalMs,
      "burst contacts": size.burstContacts,
      "burst events": size.burstContacts * BURST_EVENTS_PER_CONTACT,
      "worker concurrency": WORKER_CONCURRENCY,
      "quiet samples A": a.count,
      "quiet samples B": b.count,
    },
    figures,
    notes: [
      `${size.portals} Starter portals, one integration each (createMany, ${round(setupSeconds)} s with each portal's lead_source_system property); ${quiet.length} quiet, one busy. Trickle: each quiet portal gets a change every ${size.perPortalIntervalMs / 1000} s (a contact created, then its first name edited), ${round(trickle.rate, 1)} changes/s in all; ${size.warmupSeconds} s warm-up (every portal's first change: caches, forms), then phase A ${size.baselineSeconds} s, then phase B from the burst's start (${size.burstContacts} contacts, email only, created in the busy portal through the admin route in ${round((burstCreated - phaseB) / 1000, 1)} s; the sandbox delivers ${busyStats.webhooks.delivered} events) until its last lead is written.`,
      `Latency = the lead's created_at (creation) or updated_at (edit) − the change's time; pending leads found by one query every ${POLL_MS} ms. Quiet changes in B are those made between the burst's start and its last lead.`,
      `Where a quiet change's time goes (p50 / p99, ms; from the completed jobs' timestamps): ${where.join("; ")}.`,
      `Worker RSS (VmRSS each second): ${round(rssStart / MB)} MB after warm-up, peak ${round(Math.max(...samples.map((s) => s.rss)) / MB)} MB (VmHWM ${round(rssPeak / MB)} MB), ${round(rssEnd / MB)} MB at the end (after the drain). Jobs waiting at most ${Math.max(0, ...samples.filter((s) => s.at < phaseA).map((s) => s.waiting))} in the warm-up, ${Math.max(0, ...samples.filter((s) => s.at >= phaseA && s.at < phaseB).map((s) => s.waiting))} in A, ${Math.max(0, ...samples.filter((s) => s.at >= phaseB).map((s) => s.waiting))} in B (delayed at most ${Math.max(0, ...samples.map((s) => s.delayed))}).`,
      `The busy portal's ${busyJobs.length} jobs (p50 / max, ms): queued ${busyPart((j) => j.processedOn - j.receivedAt)} (to their last pick-up: a job our rate limiter defers goes back to the delayed set, and its wait counts here), running ${busyPart((j) => j.finishedOn - j.processedOn)}.`,
      `Redis: used_memory ${round(usedBefore / MB, 1)} MB before the portals, ${round(usedAfterA / MB, 1)} MB after phase A (the whole server: other users of this Redis show here too). Under the bench prefix after phase A: ${describe(footprint)}.`,
      `The worker lived ${round(workerSeconds)} s${workerSeconds * 1000 < 300_000 ? ", less than RECONCILE_INTERVAL_MS (5 min): no reconciliation tick ran" : ": reconciliation ticks (every 5 min) ran during it"}.${drained ? "" : " Some quiet changes were still pending when the wait ended."}`,
    ],
    chart: chart(trickle.changes, samples, phaseA, phaseB, burstEnd),
    durationSeconds: round((Date.now() - workerStarted) / 1000, 1),
  };
}

function summary(values: number[]) {
  return { count: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

/** Delivery (change → receiver), waiting in the queue, running (worker took the job → job done). */
function breakdown(label: string, changes: readonly TrickleChange[], jobs: readonly JobTiming[]): string {
  const matched = jobOfChange(changes, jobs);
  const part = (f: (c: TrickleChange, j: JobTiming) => number) => {
    const values = [...matched].map(([c, j]) => f(c, j));
    return `${percentile(values, 50)} / ${percentile(values, 99)}`;
  };
  return `${label}: delivery ${part((c, j) => j.receivedAt - c.sentAt)}, queued ${part((_, j) => j.processedOn - j.receivedAt)}, running ${part((_, j) => j.finishedOn - j.processedOn)} (${matched.size} of ${changes.length} matched to their job)`;
}

function describe(footprint: PrefixFootprint): string {
  const top = footprint.byKind.slice(0, 6).map((k) => `${k.kind} ${k.keys} keys ${round(k.bytes / 1024)} KB`);
  return `${footprint.keys} keys, ${round(footprint.bytes / MB, 2)} MB by MEMORY USAGE (${top.join(", ")})`;
}

/** Quiet p99 per second of the run (by when the change was made), and jobs waiting. */
function chart(changes: readonly TrickleChange[], samples: readonly Sample[], phaseA: number, phaseB: number, burstEnd: number): string {
  const start = phaseA;
  const seconds = Math.max(1, Math.ceil((burstEnd - start) / 1000));
  const p99s: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const values = changes.filter((c) => c.appliedAt !== undefined && c.sentAt >= start + s * 1000 && c.sentAt < start + (s + 1) * 1000).map((c) => (c.appliedAt as number) - c.sentAt);
    p99s.push(values.length ? percentile(values, 99) : 0);
  }
  const waiting = samples.filter((s) => s.at >= start && s.at <= burstEnd + 1000).map((s) => s.waiting);
  const bMark = Math.round((phaseB - start) / 1000);
  return [
    `quiet p99 per second from phase A's start (phase B from second ${bMark}; ms, scale 0–${Math.max(...p99s)}), then jobs waiting (scale 0–${Math.max(0, ...waiting)}):`,
    "",
    "```",
    sparkline(p99s),
    sparkline(waiting),
    "```",
  ].join("\n");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
