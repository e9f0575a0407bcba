import pg from "pg";
import { BenchEnvironment, waitUntil } from "../lib/environment.js";
import { percentile, round, sparkline } from "../lib/stats.js";
import type { Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";

/**
 * End-to-end latency: one contact edited in the sandbox every 10 ms (as a person in HubSpot's UI; the sandbox
 * delivers the signed webhooks to the receiver process), a worker process applies them. For each edit: the time from
 * the edit to the lead's `updatedAt` of the write that first carried that edit's value or a later one (an edit
 * superseded before it was read is delivered by the later read). Professional portal: at 100 edits/s the batch window
 * alone allows up to 20 reads/s, more than a Starter portal's 10.
 */

const FULL_SECONDS = 60;
const QUICK_SECONDS = 3;
const EDIT_INTERVAL_MS = 10;

export const latencyScenario: Scenario = { id: "latency", title: "Latency: one contact edited every 10 ms", run };

async function run({ quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const seconds = quick ? QUICK_SECONDS : FULL_SECONDS;
  const env = await BenchEnvironment.start({ tier: "professional", sandboxWebhooks: true });
  const receiver = await env.startReceiver();
  const worker = await env.startWorker();
  const [contactId] = await env.createContacts([{ email: "latency@example.com", firstname: "v0", lastname: "Latency" }]);
  await waitUntil(async () => (await env.db.prisma.lead.count()) === 1 && (await env.queuesIdle()), { timeoutMs: 30_000, what: "the contact's lead" });

  const db = new pg.Client({ connectionString: env.db.url });
  await db.connect();
  const sentAt: number[] = []; // sentAt[k] = when edit k (firstname "v<k>") was made
  const appliedAt = new Map<number, number>(); // edit k → updatedAt of the write that carried it
  let lastSeen = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const { rows } = await db.query<{ first_name: string; updated_at: Date }>("SELECT first_name, updated_at FROM leads WHERE email = $1", ["latency@example.com"]);
      const k = Number(rows[0]?.first_name.slice(1));
      if (rows[0] && k > lastSeen) {
        for (let j = lastSeen + 1; j <= k; j++) appliedAt.set(j, rows[0].updated_at.getTime());
        lastSeen = k;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  const edits = Math.floor((seconds * 1000) / EDIT_INTERVAL_MS);
  const start = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let k = 1; k <= edits; k++) {
    const due = start + k * EDIT_INTERVAL_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt[k] = Date.now();
    pending.push(env.admin("PATCH", `/__sandbox/portals/${env.portal.portalId}/contacts/${contactId}`, { properties: { firstname: `v${k}` } }));
    if (k % 100 === 0) progress(`latency: ${k}/${edits} edits, last applied v${lastSeen}`);
  }
  await Promise.all(pending);
  await waitUntil(async () => lastSeen >= edits, { timeoutMs: 30_000, intervalMs: 50, what: "the last edit applied" });
  polling = false;
  await poller;
  await db.end();
  const after = await env.stats();
  await Promise.all([receiver.stop(), worker.stop()]);

  const latencies: number[] = [];
  for (let k = 1; k <= edits; k++) latencies.push(Math.max(0, (appliedAt.get(k) ?? Number.NaN) - (sentAt[k] ?? 0)));
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  // Median latency per second of the run, for the chart.
  const perSecond: number[] = [];
  for (let s = 0; s < seconds; s++) perSecond.push(percentile(latencies.slice(s * 100, (s + 1) * 100), 50));
  return {
    id: "latency",
    title: "Latency: one contact edited every 10 ms",
    sizes: { edits, seconds, tier: "professional" },
    figures: [
      { name: "p50 edit → lead updated", value: round(p50), unit: "ms", target: "≤ 300 ms", pass: p50 <= 300 },
      { name: "p99 edit → lead updated", value: round(p99), unit: "ms", target: "≤ 1000 ms", pass: p99 <= 1000 },
      { name: "max", value: round(Math.max(...latencies)), unit: "ms" },
      { name: "429 responses", value: after.throttled, unit: "", target: "0", pass: after.throttled === 0 },
      { name: "HubSpot calls", value: after.calls.total, unit: "calls" },
    ],
    notes: [
      `Edits through the sandbox's admin route (webhooks fire, gathered for its 50 ms flush, signed, posted to the receiver); lead state polled every ~2 ms; latency = lead.updated_at − edit time (same machine clock).`,
    ],
    chart: `median latency per second of the run (ms, scale 0–${Math.max(...perSecond).toFixed(0)}):\n\n\`\`\`\n${sparkline(perSecond)}\n\`\`\``,
    durationSeconds: seconds,
  };
}
