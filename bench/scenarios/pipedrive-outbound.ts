import { waitUntil } from "../lib/environment.js";
import { callsBetween, describeCalls, startBenchWorld, type EmulatorStats } from "../lib/provider-world.js";
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";
import { round } from "../lib/stats.js";
import { pipedriveKit } from "../../test/providers/kits/pipedrive.js";

/**
 * Pipedrive: leads created through the platform API (`POST /api/v1/leads`, the org's JWT, 10 in flight) on an org
 * connected with an api token to a growth company of 3 seats (the emulator's default account) → one outbound job
 * each → persons. Pipedrive takes one person per call and the client searches the email before each create (an
 * existing person is linked, not duplicated), so the plan's limits, not our batching, set the pace:
 * - search: 10 per 2 s per token on every plan (we declare 10 per 2.4 s) → at most 5 creates/s (design ~4.2/s);
 * - burst: 40 calls per 2 s (growth, api token) → 20 search+create pairs per 2 s = 10/s: not the bound;
 * - daily: 30,000 × 2 × 3 = 180,000 tokens, a new person costs 50 (search 40 + create 10) → 3,600 new persons a day.
 */

const FULL = 2_000;
const QUICK = 12;
const POST_CONCURRENCY = 10;
const SEARCH_PER_2S = 10;
/** The window our limiter declares for search (packages/pipedrive: counted at grant, Pipedrive counts at arrival). */
const DECLARED_SEARCH_WINDOW_S = 2.4;
const BURST_PER_2S_GROWTH_API_TOKEN = 40;
const TOKENS_PER_NEW_PERSON = 40 + 10;
const SEARCH = "GET /api/v2/persons/search";

interface PipedriveStats extends EmulatorStats {
  budget: { limit: number; used: number };
  maxBurstInAnyWindow: number;
  persons: number;
  duplicateEmails: number;
  notifications: { delivered: number; failed: number; pending: number; dropped: number; lost: number };
}

export const pipedriveOutbound: Scenario = { id: "pipedrive-outbound", title: "Pipedrive outbound: leads created through the API → persons", run };

async function run({ quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const count = quick ? QUICK : FULL;
  progress("pipedrive-outbound: starting the pipedrive world");
  const bench = await startBenchWorld(pipedriveKit);
  const { world } = bench;
  const before = await bench.stats<PipedriveStats>();
  const linkCount = () => world.prisma.leadCrmLink.count({ where: { integrationId: world.integrationId } });

  const started = Date.now();
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: POST_CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const { status } = await world.api("POST", "/api/v1/leads", { email: `pd-out-${i}@example.com`, firstName: `Out${i}`, lastName: "Bound", company: "Bench Inc", jobTitle: "Buyer" });
        if (status !== 201) refused++;
      }
    }),
  );
  const postedSeconds = (Date.now() - started) / 1000;
  // Done when every lead is linked, or when nothing is left to run and the rest are failed jobs (reported below).
  const settled = async () => {
    if (!(await bench.queuesIdle())) return false;
    return (await linkCount()) + ((await bench.failedJobs()).byQueue["crm-outbound"] ?? 0) >= count - refused;
  };
  await waitUntil(settled, {
    timeoutMs: quick ? 60_000 : 1_800_000,
    intervalMs: 500,
    what: "every lead linked to a Pipedrive person",
    tick: async () => {
      const s = await bench.stats<PipedriveStats>();
      const failedNow = (await bench.failedJobs()).total;
      progress(`pipedrive-outbound: ${await linkCount()}/${count} linked, ${failedNow} jobs failed, ${s.calls.total - before.calls.total} API calls, ${s.budget.used - before.budget.used} tokens, ${round((Date.now() - started) / 1000)} s`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const after = await bench.stats<PipedriveStats>();
  const linked = await linkCount();
  const failed = await bench.failedJobs();
  const persons = pipedriveKit.readRecords(await bench.allRecords()).filter((p) => p.email?.startsWith("pd-out-"));
  const marked = persons.filter((p) => p.marker === world.config.leadSourceMarker).length;
  await bench.stop();

  const calls = after.calls.total - before.calls.total;
  const tokens = after.budget.used - before.budget.used;
  const throttled = after.throttled - before.throttled;
  const byEndpoint = callsBetween(before, after);
  const searches = byEndpoint[SEARCH] ?? 0;
  // Baselines for the persons actually made: when jobs failed, the time and calls are those of `linked` leads.
  const made = Math.max(1, linked);
  const searchCeilingSeconds = made / (SEARCH_PER_2S / 2);
  const designSeconds = made / (SEARCH_PER_2S / DECLARED_SEARCH_WINDOW_S);
  const duplicates = Math.max(0, persons.length - count) + after.duplicateEmails;
  const figures: Figure[] = [
    {
      name: "seconds until every lead is a person and linked",
      value: round(seconds, 2),
      unit: "s",
      baseline: { name: "search limit ceiling for the leads linked (10 per 2 s → 5 creates/s)", value: round(searchCeilingSeconds, 1), unit: "s" },
      ratio: round(searchCeilingSeconds / seconds, 3),
    },
    {
      name: "seconds vs the design's pace",
      value: round(seconds, 2),
      unit: "s",
      baseline: { name: `design: 10 searches per ${DECLARED_SEARCH_WINDOW_S} s`, value: round(designSeconds, 1), unit: "s" },
      ratio: round(designSeconds / seconds, 3),
    },
    {
      name: "API calls",
      value: calls,
      unit: "calls",
      baseline: { name: "search + create per lead linked", value: 2 * made, unit: "calls" },
      ratio: round((2 * made) / Math.max(1, calls), 2),
    },
    {
      name: "tokens spent",
      value: tokens,
      unit: "tokens",
      baseline: { name: "plan: 50 per new person linked", value: TOKENS_PER_NEW_PERSON * made, unit: "tokens" },
      ratio: round((TOKENS_PER_NEW_PERSON * made) / Math.max(1, tokens), 2),
    },
    {
      name: "tokens spent of the daily budget",
      value: tokens,
      unit: "tokens",
      baseline: { name: "daily budget (growth, 3 seats)", value: after.budget.limit, unit: "tokens" },
      ratio: round(tokens / after.budget.limit, 3),
      target: "≤ budget",
      pass: after.budget.used <= after.budget.limit,
    },
    {
      name: "max calls in any rolling 2 s (emulator)",
      value: after.maxBurstInAnyWindow,
      unit: "calls",
      baseline: { name: "burst limit (growth, api token)", value: BURST_PER_2S_GROWTH_API_TOKEN, unit: "calls" },
      ratio: round(after.maxBurstInAnyWindow / BURST_PER_2S_GROWTH_API_TOKEN, 2),
      target: "≤ limit",
      pass: after.maxBurstInAnyWindow <= BURST_PER_2S_GROWTH_API_TOKEN,
    },
    { name: "429 responses", value: throttled, unit: "", target: "0", pass: throttled === 0 },
    { name: "outbound jobs failed (attempts exhausted)", value: failed.total, unit: `of ${count}`, target: "0", pass: failed.total === 0 },
    { name: "persons duplicated", value: duplicates, unit: "", target: "0", pass: duplicates === 0 },
    {
      name: "leads linked / persons marked",
      value: Math.min(linked, marked),
      unit: `of ${count}`,
      target: `${count}`,
      pass: linked === count && marked === count && persons.length === count && refused === 0,
    },
  ];
  return {
    id: "pipedrive-outbound",
    title: pipedriveOutbound.title,
    sizes: { leads: count, postConcurrency: POST_CONCURRENCY, plan: "growth", seats: 3, auth: "api token" },
    figures,
    notes: [
      `${count} leads posted to the API, ${POST_CONCURRENCY} in flight, in ${round(postedSeconds, 2)} s (${refused} not answered 201); the clock runs from the first POST to the last link written and both queues empty (${round(linked / seconds, 2)} persons/s).${linked < count ? ` Only ${linked} were linked: the ${count - linked} others ended as failed jobs (below), so every baseline is computed for the ${linked} linked.` : ""}`,
      `What bounds the time: search (${searches} calls, ${round(searches / seconds, 2)}/s against 5/s allowed and ${round(SEARCH_PER_2S / DECLARED_SEARCH_WINDOW_S, 2)}/s declared). The burst limit would allow 10 search+create pairs a second, and the daily budget ${Math.floor(after.budget.limit / TOKENS_PER_NEW_PERSON)} new persons a day; this run spent ${round((100 * tokens) / after.budget.limit, 1)}% of the day's tokens (${round(tokens / made, 1)} per lead linked).`,
      `Pipeline in one process (test/providers/harness.ts startProviderWorld: API + receiver, in-process workers, a fresh database), beside the emulator. The webhooks our own creates cause come back to the receiver (${after.notifications.delivered - before.notifications.delivered} delivered) and cost no call (echoes: Pipedrive names our user as the change source).`,
      `Duplicates: persons with a bench email beyond one per lead, plus emails held by two live persons (emulator: ${after.duplicateEmails}); ${persons.length} persons, ${marked} carrying the platform marker, ${linked} links.`,
      `Calls by endpoint: ${describeCalls(byEndpoint)}.`,
      ...(failed.total > 0 ? [`Failed jobs by reason: ${Object.entries(failed.reasons).map(([r, n]) => `${n} × "${r}"`).join("; ")}.`] : []),
    ],
    durationSeconds: round(seconds, 1),
  };
}
