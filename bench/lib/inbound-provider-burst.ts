import type { LeadFieldsInput } from "../../test/providers/harness.js";
import type { ProviderKit } from "../../test/providers/kit.js";
import { waitUntil } from "./environment.js";
import { callsBetween, describeCalls, startBenchWorld, type BenchWorld, type EmulatorStats } from "./provider-world.js";
import type { Figure, ScenarioContext, ScenarioResult } from "./scenario.js";
import { round } from "./stats.js";

/**
 * A burst of records created in a CRM emulator as a person would (its admin route, `batchSize` per request, the way
 * an import in the CRM's UI arrives) while the integration's change feed is live; done when every record is a lead
 * with the record's values and both queues are empty. The clock runs from the first create, since the feed fires as
 * records are created (there is no "backlog posted at once" for a pulled or CRM-delivered feed).
 */
export interface InboundBurstSpec<S extends EmulatorStats> {
  id: string;
  title: string;
  kit: ProviderKit;
  records: number;
  batchSize: number;
  /** Figures only this CRM has (credits, notifications), from the emulator's stats before and after. */
  extraFigures(before: S, after: S, records: number): Figure[];
  extraNotes(before: S, after: S, records: number): string[];
}

export async function runInboundProviderBurst<S extends EmulatorStats>(spec: InboundBurstSpec<S>, { quick, progress }: ScenarioContext): Promise<ScenarioResult> {
  const { id, kit, records: count } = spec;
  progress(`${id}: starting the ${kit.name} world`);
  const bench = await startBenchWorld(kit);
  const { world } = bench;
  const inputs: LeadFieldsInput[] = Array.from({ length: count }, (_, i) => ({
    email: `${kit.name}-burst-${i}@example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    phone: `+1555${String(i).padStart(7, "0")}`,
    company: `Company ${i % 97}`,
    jobTitle: "Buyer",
  }));

  const before = await bench.stats<S>();
  const started = Date.now();
  progress(`${id}: creating ${count} records in the ${kit.name} emulator`);
  const ids = await bench.createRecords(inputs, spec.batchSize);
  const createdSeconds = (Date.now() - started) / 1000;
  const leadCount = () => world.prisma.lead.count({ where: { orgId: world.orgId } });
  // Done when every record is a lead, or when nothing is left to run and jobs failed (reported below).
  const settled = async () => (await bench.queuesIdle()) && ((await leadCount()) >= count || (await bench.failedJobs()).total > 0);
  await waitUntil(settled, {
    timeoutMs: quick ? 60_000 : 900_000,
    what: `the ${kit.name} burst to drain`,
    tick: async () => {
      const s = await bench.stats<S>();
      progress(`${id}: ${await leadCount()}/${count} leads, ${s.calls.total - before.calls.total} API calls, ${round((Date.now() - started) / 1000)} s`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const after = await bench.stats<S>();
  const check = await verifyInbound(bench, kit, inputs, ids);
  const failed = await bench.failedJobs();
  await bench.stop();

  const calls = after.calls.total - before.calls.total;
  const throttled = after.throttled - before.throttled;
  const callsPerRecord = calls / count;
  const byEndpoint = callsBetween(before, after);
  const figures: Figure[] = [
    { name: "seconds to drain", value: round(seconds, 2), unit: "s" },
    {
      name: "API calls",
      value: calls,
      unit: "calls",
      baseline: { name: "one call per record", value: count, unit: "calls" },
      // Fewer calls is better: baseline ÷ value (∞ shown as the record count when no call was needed).
      ratio: round(count / Math.max(1, calls), 1),
    },
    {
      name: "API calls per record",
      value: round(callsPerRecord, 4),
      unit: "calls",
      baseline: { name: "one call per record", value: 1, unit: "calls" },
      ratio: round(1 / Math.max(callsPerRecord, 1 / count), 1),
    },
    ...spec.extraFigures(before, after, count),
    { name: "429 / limit responses", value: throttled, unit: "", target: "0", pass: throttled === 0 },
    { name: "jobs failed (attempts exhausted)", value: failed.total, unit: "", target: "0", pass: failed.total === 0 },
    { name: "leads lost", value: check.lost, unit: `of ${count}`, target: "0", pass: check.lost === 0 },
    { name: "leads doubled", value: check.doubled, unit: "", target: "0", pass: check.doubled === 0 },
  ];
  return {
    id,
    title: spec.title,
    sizes: { records: count, batchSize: spec.batchSize, provider: kit.name },
    figures,
    notes: [
      `${count} ${kit.name} records created through the emulator's admin route (as a person, ${spec.batchSize} per request) in ${round(createdSeconds, 2)} s with the change feed live; the clock runs from the first create to the last lead written and both queues empty (${round(count / seconds)} records/s end to end).`,
      `Pipeline in one process (test/providers/harness.ts startProviderWorld: API + receiver, in-process workers at WORKER_CONCURRENCY 16, a fresh database), beside the emulator: the same code as the apps, but one event loop for all of it, and no process boundary between receiver and worker.`,
      `Lost = a record without a lead or with a lead whose email, names, phone, company, job title or source differ; doubled = extra leads, links not one per record (${check.links} links for ${count} records, ${check.misLinked} pointing at the wrong record) and records the pipeline created in the CRM (${check.crmRecords} records in the emulator after the run).`,
      `Calls by endpoint: ${describeCalls(byEndpoint)}.`,
      ...spec.extraNotes(before, after, count),
      ...(failed.total > 0 ? [`Failed jobs by reason: ${Object.entries(failed.reasons).map(([r, n]) => `${n} × "${r}"`).join("; ")}.`] : []),
    ],
    durationSeconds: round(seconds, 1),
  };
}

interface InboundCheck {
  lost: number;
  doubled: number;
  links: number;
  misLinked: number;
  crmRecords: number;
}

/** Every record has exactly one lead with its values, linked to it once; the CRM holds only the records created. */
async function verifyInbound(bench: BenchWorld, kit: ProviderKit, inputs: readonly LeadFieldsInput[], ids: readonly string[]): Promise<InboundCheck> {
  const { world } = bench;
  const leads = await world.prisma.lead.findMany({
    where: { orgId: world.orgId },
    select: { id: true, email: true, firstName: true, lastName: true, phone: true, company: true, jobTitle: true, source: true },
  });
  const links = await world.prisma.leadCrmLink.findMany({ where: { integrationId: world.integrationId }, select: { leadId: true, externalId: true } });
  const byEmail = new Map(leads.map((l) => [l.email, l]));
  const linkOf = new Map(links.map((l) => [l.leadId, l.externalId]));
  let lost = 0;
  let misLinked = 0;
  inputs.forEach((input, i) => {
    const lead = byEmail.get((input.email ?? "").toLowerCase());
    const same =
      lead !== undefined &&
      lead.firstName === input.firstName &&
      lead.lastName === input.lastName &&
      lead.phone === input.phone &&
      lead.company === input.company &&
      lead.jobTitle === input.jobTitle &&
      lead.source === kit.name;
    if (!same) lost++;
    else if (!sameId(linkOf.get(lead.id), ids[i])) misLinked++;
  });
  const raw = await bench.allRecords();
  const crmRecords = kit.readRecords(raw).length;
  const doubled = Math.max(0, leads.length - inputs.length) + Math.abs(links.length - inputs.length) + misLinked + Math.max(0, crmRecords - inputs.length);
  return { lost, doubled, links: links.length, misLinked, crmRecords };
}

/** Salesforce ids come as 15 or 18 characters; the first 15 identify the record. */
function sameId(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || (a.length >= 15 && b.length >= 15 && a.slice(0, 15) === b.slice(0, 15));
}
