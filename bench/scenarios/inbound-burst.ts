import { percentile, rollingWindow, round, sparkline } from "../lib/stats.js";
import { BenchEnvironment, hubspotEvent, scrapeGauges, waitUntil } from "../lib/environment.js";
import type { BenchProcess } from "../lib/processes.js";
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from "../lib/scenario.js";

/**
 * A burst of webhook events on a Starter portal (100 calls per 10 s): every contact is created and then edited
 * three times, and the whole backlog arrives at once. Run with one worker process, and with two sharing the portal.
 *
 * How the events are generated: the contacts are created in the sandbox (with their final values, through its
 * admin route, like a person in HubSpot's UI) while its webhook delivery is off; then the events are posted as
 * signed 100-event batches straight to the receiver, 10 requests in flight (HubSpot's own concurrency). Letting
 * the sandbox deliver them would pace the burst by its delivery loop and by our 10 ms-per-edit admin calls: we want
 * the worst case, the whole backlog queued at once (as after an outage of the receiver), and to time the drain only.
 */

const FULL = { contacts: 5_000, editsPerContact: 3 };
const QUICK = { contacts: 500, editsPerContact: 3 };
const STARTER_PER_10S = 100;
const EVENTS_PER_BATCH = 100;
const POST_CONCURRENCY = 10;
const BATCH_READ = "POST /crm/v3/objects/contacts/batch/read";
const EDITED = ["firstname", "lastname", "phone"] as const;

export function inboundBurst(workers: 1 | 2): Scenario {
  const id = workers === 1 ? "inbound-burst" : "two-workers";
  const title = workers === 1 ? "Inbound burst, Starter portal, one worker" : "Two workers, one portal (same burst)";
  return { id, title, run: (context) => runBurst(id, title, workers, context) };
}

async function runBurst(id: string, title: string, workerCount: number, { quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const size = quick ? QUICK : FULL;
  const env = await BenchEnvironment.start({ tier: "starter" });
  const receiver = await env.startReceiver();
  const workers: (BenchProcess & { metricsUrl: string })[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(await env.startWorker(`worker-${i + 1}`));

  progress(`${id}: creating ${size.contacts} contacts in the sandbox`);
  const contacts = Array.from({ length: size.contacts }, (_, i) => ({
    email: `burst-${i}@example.com`,
    firstname: `First${i}`,
    lastname: `Last${i}`,
    phone: `+1555${String(i).padStart(7, "0")}`,
    company: `Company ${i % 97}`,
    jobtitle: "Buyer",
  }));
  const ids = await env.createContacts(contacts);
  const events = burstEvents(env.portal.portalId, ids, contacts, size.editsPerContact);
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_BATCH) batches.push(events.slice(i, i + EVENTS_PER_BATCH));

  const before = await env.stats();
  const started = Date.now();
  const callSamples: number[] = [];
  const rssSamples: number[] = [];
  let peakHeap = 0;
  let peakExternal = 0;
  const sampler = setInterval(() => {
    void env.stats().then((s) => callSamples.push(s.calls.total - before.calls.total));
    for (const worker of workers) {
      rssSamples.push(worker.peakRssBytes() ?? 0);
      void scrapeGauges(worker.metricsUrl, ["nodejs_heap_size_used_bytes", "nodejs_external_memory_bytes"])
        .then((g) => {
          peakHeap = Math.max(peakHeap, g["nodejs_heap_size_used_bytes"] ?? 0);
          peakExternal = Math.max(peakExternal, g["nodejs_external_memory_bytes"] ?? 0);
        })
        .catch(() => undefined);
    }
  }, 1_000);

  // Post the burst: 10 requests in flight, every one must be accepted.
  let next = 0;
  let rejected = 0;
  await Promise.all(
    Array.from({ length: POST_CONCURRENCY }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as Record<string, unknown>[];
        if ((await env.postWebhook(batch)) !== 200) rejected++;
      }
    }),
  );
  const postedAfter = (Date.now() - started) / 1000;

  await waitUntil(async () => (await env.db.prisma.lead.count()) >= size.contacts && (await env.queuesIdle()), {
    timeoutMs: quick ? 60_000 : 900_000,
    what: "the burst to drain",
    tick: async () => {
      const leads = await env.db.prisma.lead.count();
      const s = await env.stats();
      progress(`${id}: ${leads}/${size.contacts} leads, ${s.calls.total - before.calls.total} API calls, ${s.throttled} 429s, ${round((Date.now() - started) / 1000)} s`);
    },
  });
  const drainSeconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  const peakRss = Math.max(...workers.map((w) => w.peakRssBytes() ?? 0));
  const after = await env.stats();

  const wrong = await verifyLeads(env, contacts);
  const calls = after.calls.total - before.calls.total;
  const reads = (after.calls.byEndpoint[BATCH_READ] ?? 0) - (before.calls.byEndpoint[BATCH_READ] ?? 0);
  const throttled = after.throttled - before.throttled;

  const perSecond = STARTER_PER_10S / 10;
  const ceilingSeconds = size.contacts / (perSecond * 100);
  const perEventSeconds = events.length / perSecond;
  const contactsPerCall = size.contacts / Math.max(1, calls);
  const figures: Figure[] = [
    {
      name: "seconds to drain",
      value: round(drainSeconds, 2),
      unit: "s",
      baseline: { name: "ceiling (100 calls/10 s × 100 contacts)", value: round(ceilingSeconds, 2), unit: "s" },
      ratio: round(ceilingSeconds / drainSeconds, 3),
      target: "≥ 50% of the ceiling",
      pass: ceilingSeconds / drainSeconds >= 0.5,
    },
    {
      name: "seconds to drain vs one call per event",
      value: round(drainSeconds, 2),
      unit: "s",
      baseline: { name: "one call per event (events ÷ 10/s)", value: round(perEventSeconds, 1), unit: "s" },
      ratio: round(perEventSeconds / drainSeconds, 1),
    },
    { name: "API calls", value: calls, unit: "calls" },
    { name: "contacts per API call", value: round(contactsPerCall, 1), unit: "contacts", target: "≥ 50", pass: contactsPerCall >= 50 },
    { name: "429 responses", value: throttled, unit: "", target: "0", pass: throttled === 0 },
    {
      name: "max calls in any rolling 10 s (sandbox)",
      value: after.maxCallsInAnyWindow,
      unit: "calls",
      baseline: { name: "budget", value: STARTER_PER_10S, unit: "calls" },
      ratio: round(after.maxCallsInAnyWindow / STARTER_PER_10S, 2),
      target: "≤ budget",
      pass: after.maxCallsInAnyWindow <= STARTER_PER_10S,
    },
    { name: "worker peak RSS", value: round(peakRss / 2 ** 20, 1), unit: "MB", target: "≤ 300 MB", pass: peakRss <= 300 * 2 ** 20 },
    { name: "leads wrong or missing", value: wrong, unit: "", target: "0", pass: wrong === 0 && rejected === 0 },
  ];

  const windows = rollingWindow(callSamples);
  const result: ScenarioResult = {
    id,
    title,
    sizes: { events: events.length, contacts: size.contacts, batches: batches.length, workers: workerCount },
    figures,
    notes: [
      `${events.length} events (${size.contacts} contact.creation + ${size.contacts * size.editsPerContact} contact.propertyChange) in ${batches.length} signed batches posted to the receiver in ${round(postedAfter, 2)} s (${rejected} rejected); the clock runs from the first post to the last lead written and both queues empty.`,
      `Every lead checked field by field against its sandbox contact. ${reads} of the ${calls} calls were batch reads. Median calls per rolling 10 s while draining: ${percentile(windows, 50)}.`,
      `Worker peak RSS is VmHWM of the worker process(es) (${workerCount}); the largest V8 heap in use seen by a 1 s scrape of its /metrics was ${round(peakHeap / 2 ** 20)} MB, external memory ${round(peakExternal / 2 ** 20)} MB.`,
    ],
    ...(callSamples.length > 1
      ? { chart: `calls per rolling 10 s, sampled each second (budget ${STARTER_PER_10S}):\n\n\`\`\`\n${sparkline(windows, STARTER_PER_10S)}  max ${Math.max(...windows)}\n\`\`\`` }
      : {}),
    durationSeconds: round(drainSeconds, 1),
  };
  await Promise.all([receiver.stop(), ...workers.map((w) => w.stop())]);
  return result;
}

/** One creation per contact, then the edits (each carrying the contact's current value), in time order. */
function burstEvents(portalId: number, ids: readonly string[], contacts: readonly Record<string, string>[], editsPerContact: number): Record<string, unknown>[] {
  const now = Date.now() - 60_000;
  let eventId = 1;
  const events: Record<string, unknown>[] = ids.map((objectId, i) =>
    hubspotEvent({ portalId, objectId, subscriptionType: "contact.creation", eventId: eventId++, occurredAt: now + i }),
  );
  for (let round = 0; round < editsPerContact; round++) {
    const propertyName = EDITED[round % EDITED.length] as string;
    ids.forEach((objectId, i) =>
      events.push(
        hubspotEvent({
          portalId,
          objectId,
          subscriptionType: "contact.propertyChange",
          propertyName,
          // The value the contact holds now: its last edit.
          propertyValue: contacts[i]?.[propertyName] ?? "",
          eventId: eventId++,
          occurredAt: now + ids.length * (round + 1) + i,
        }),
      ),
    );
  }
  return events;
}

/** How many contacts have no lead, or a lead whose fields differ from the contact's. */
async function verifyLeads(env: BenchEnvironment, contacts: readonly Record<string, string>[]): Promise<number> {
  const leads = await env.db.prisma.lead.findMany({ select: { email: true, firstName: true, lastName: true, phone: true, company: true, jobTitle: true } });
  const byEmail = new Map(leads.map((l) => [l.email, l]));
  let wrong = 0;
  for (const c of contacts) {
    const lead = byEmail.get(c["email"] as string);
    if (
      !lead ||
      lead.firstName !== c["firstname"] ||
      lead.lastName !== c["lastname"] ||
      lead.phone !== c["phone"] ||
      lead.company !== c["company"] ||
      lead.jobTitle !== c["jobtitle"]
    ) {
      wrong++;
    }
  }
  return wrong;
}
