import { Agent, request } from "node:http";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { BenchEnvironment, waitUntil } from "../lib/environment.js";
import { round } from "../lib/stats.js";
import type { Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";

/**
 * Leads created through the platform API (`POST /api/v1/leads`, a dev JWT) on an org connected to a Starter
 * portal: the API queues one outbound job per lead, the worker pushes them to HubSpot. Done when every lead is
 * linked to its HubSpot contact. Baseline: the batch-upsert ceiling (100 calls per 10 s × 100 contacts per call).
 */

const FULL = 5_000;
const QUICK = 200;
const STARTER_PER_10S = 100;
const POST_CONCURRENCY = 10;

export const outboundBurst: Scenario = { id: "outbound-burst", title: "Outbound burst: leads created through the API", run };

async function run({ quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const count = quick ? QUICK : FULL;
  const env = await BenchEnvironment.start({ tier: "starter" });
  const { proc: api, url } = await env.startApi();
  const worker = await env.startWorker();
  const token = signDevToken(env.config, env.orgId);
  // Like the platform's backend: one client address, one org token (the API rate-limits authenticated calls per org).
  const agents = [new Agent({ keepAlive: true })];
  const before = await env.stats();

  const started = Date.now();
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: POST_CONCURRENCY }, async () => {
      while (next < count) {
        await postLead(next++);
      }
    }),
  );
  async function postLead(i: number): Promise<void> {
    const body = JSON.stringify({ email: `out-${i}@example.com`, firstName: `Out${i}`, lastName: "Bound", company: "Bench Inc", jobTitle: "Buyer" });
    const agent = agents[i % agents.length] as Agent;
    const status = await postJson(`${url}/api/v1/leads`, body, { authorization: `Bearer ${token}` }, agent);
    if (status !== 201) refused++;
  }
  const postedSeconds = (Date.now() - started) / 1000;
  const linkCount = () => env.db.prisma.leadCrmLink.count({ where: { integrationId: env.integration.id } });
  await waitUntil(async () => (await linkCount()) >= count - refused && (await env.queuesIdle()), {
    timeoutMs: quick ? 60_000 : 900_000,
    what: "every lead linked",
    tick: async () => {
      const s = await env.stats();
      progress(`outbound: ${await linkCount()}/${count} linked, ${s.calls.total - before.calls.total} API calls, ${round((Date.now() - started) / 1000)} s`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const after = await env.stats();
  const { results } = await env.admin<{ results: { properties: Record<string, string | null> }[] }>("GET", `/__sandbox/portals/${env.portal.portalId}/contacts`);
  const marked = results.filter((c) => c.properties["lead_source_system"] === env.config.leadSourceMarker && c.properties["email"]?.startsWith("out-")).length;
  for (const agent of agents) agent.destroy();
  await Promise.all([api.stop(), worker.stop()]);

  const calls = after.calls.total - before.calls.total;
  const throttled = after.throttled - before.throttled;
  const ceilingSeconds = count / ((STARTER_PER_10S / 10) * 100);
  const linked = await linkCount();
  return {
    id: "outbound-burst",
    title: "Outbound burst: leads created through the API",
    sizes: { leads: count, postConcurrency: POST_CONCURRENCY, tier: "starter" },
    figures: [
      {
        name: "seconds until every lead is in HubSpot and linked",
        value: round(seconds, 2),
        unit: "s",
        baseline: { name: "batch-upsert ceiling (10 calls/s × 100)", value: round(ceilingSeconds, 2), unit: "s" },
        ratio: round(ceilingSeconds / seconds, 3),
        target: "≥ 50% of the ceiling",
        pass: ceilingSeconds / seconds >= 0.5,
      },
      { name: "API calls", value: calls, unit: "calls" },
      { name: "leads per API call", value: round(count / Math.max(1, calls), 1), unit: "leads" },
      { name: "429 responses", value: throttled, unit: "", target: "0", pass: throttled === 0 },
      { name: "leads linked / contacts marked in HubSpot", value: Math.min(linked, marked), unit: `of ${count}`, target: `${count}`, pass: linked === count && marked === count && refused === 0 },
    ],
    notes: [
      `${count} leads posted to the API, ${POST_CONCURRENCY} in flight, in ${round(postedSeconds, 2)} s (${refused} not answered 201); the clock runs from the first POST to the last link written and both queues empty.`,
      `API throughput: ${round(count / postedSeconds)} leads/s created (each POST is one INSERT … RETURNING, then queues its outbound job), all from one client address with one org token.`,
      `Calls by endpoint: ${Object.entries(after.calls.byEndpoint).map(([k, v]) => `${k} ${v - (before.calls.byEndpoint[k] ?? 0)}`).join(", ")}.`,
    ],
    durationSeconds: round(seconds, 1),
  };
}

/** POST over node:http with a given agent (its local address); resolves with the status code. */
function postJson(url: string, body: string, headers: Record<string, string>, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end(body);
  });
}
