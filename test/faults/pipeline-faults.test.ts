import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_JOB_OPTIONS } from "../../packages/queue/src/index.js";
import { duplicatesOf, startFaultPipeline, type FaultPipeline } from "./support/fault-pipeline.js";
import { until } from "../helpers/ports.js";
import { jsonLines, runCli, type AppProcess } from "./support/processes.js";
import { startResetProxy, type ResetProxy } from "./support/reset-proxy.js";
import { printSummary, recordScenario } from "./support/summary.js";

/**
 * The fault suite on the shared Redis and Postgres (own database, own queue prefix): a real receiver process and
 * real worker processes, the HubSpot sandbox. Each scenario injects its fault and then checks the final state:
 * every contact a lead exactly once, with the contact's latest values.
 */

let world: FaultPipeline;
let proxy: ResetProxy;
let receiver: AppProcess;
let emailSeq = 0;

const contactsFor = (scenario: string, count: number) =>
  Array.from({ length: count }, () => {
    emailSeq++;
    return { email: `${scenario}-${emailSeq}@faults.example`, firstname: `First${emailSeq}`, lastname: `Last${emailSeq}`, jobtitle: "v1" };
  });

/** Leads of these emails: how many exist (once each), how many rows there are in total. */
async function found(emails: readonly string[]) {
  const leads = await world.leads();
  return { leads, count: emails.filter((e) => leads.has(e)).length, duplicates: duplicatesOf(leads) };
}

async function claimedEvents(): Promise<number> {
  return world.prisma.webhookEvent.count({ where: { integrationId: world.integration.id } });
}

beforeAll(async () => {
  // The worker's HubSpot traffic goes through a proxy that can reset connections; the sandbox itself stays reachable.
  world = await startFaultPipeline();
  proxy = await startResetProxy(world.sandbox.url);
  world.env["HUBSPOT_API_BASE"] = proxy.url;
  receiver = await world.start("receiver");
}, 60_000);

// A failed scenario must not leave its workers taking the next scenario's jobs.
afterEach(async () => {
  await Promise.all(world.workers().map((w) => w.stop()));
  await world.clearFaults();
});

afterAll(async () => {
  await world?.close();
  await proxy?.close();
  printSummary("Fault suite (shared Redis/Postgres): final state per scenario");
});

describe("fault suite: real receiver and worker processes", () => {
  it("redelivered events (same batch, attemptNumber > 0, re-split, while the first is still processing) apply once; an older value never wins", async () => {
    const w1 = await world.startWorker("worker-1");
    const w2 = await world.startWorker("worker-2");
    const contacts = contactsFor("redelivery", 6);
    // The first batch read is slow, so the redeliveries below arrive while the first delivery is still being processed.
    await world.fault({ kind: "latency", ms: 800, count: 1 });
    const ids = await world.createContacts(contacts);
    const now = Date.now();
    const events = ids.map((objectId, i) => ({
      eventId: 900_000 + i,
      subscriptionId: 1,
      portalId: world.portalId,
      appId: 1,
      occurredAt: now + i,
      subscriptionType: "contact.propertyChange",
      attemptNumber: 0,
      objectId: Number(objectId),
      propertyName: "jobtitle",
      propertyValue: "v2",
      changeSource: "CRM_UI",
    }));
    // The newer value is set in HubSpot; the events above carry it.
    for (const id of ids) await world.updateContact(id, { jobtitle: "v2" });
    const deliveries = [
      events,
      events.map((e) => ({ ...e, attemptNumber: 1 })), // HubSpot's retry of the same batch
      events.slice(0, 3), // the same events re-split into other batches
      events.slice(3),
      [...events].reverse(),
    ];
    const statuses = await Promise.all(deliveries.map((batch) => world.post(batch)));
    expect(statuses.map((s) => s.status)).toEqual(deliveries.map(() => 200));
    // An older change (occurredAt before the v2 edit, value v1) arrives last: it must not overwrite v2.
    const stale = events.map((e, i) => ({ ...e, eventId: 800_000 + i, occurredAt: now - 60_000, propertyValue: "v1" }));
    expect((await world.post(stale)).status).toBe(200);
    await world.settled();

    const { leads, count, duplicates } = await found(contacts.map((c) => c.email));
    expect(count).toBe(contacts.length);
    expect(duplicates).toBe(0);
    for (const c of contacts) expect(leads.get(c.email)?.jobTitle).toBe("v2");
    // Each distinct event is recorded once, whichever of the five deliveries carried it.
    const recorded = await world.prisma.webhookEvent.count({ where: { eventId: { in: [...events, ...stale].map((e) => String(e.eventId)) } } });
    expect(recorded).toBe(events.length + stale.length);
    // Jobs from the receiver retry with exponential backoff and jitter.
    const job = (await world.events.getCompleted(0, 0))[0];
    expect(job?.opts.backoff).toEqual(DEFAULT_JOB_OPTIONS.backoff);
    expect(DEFAULT_JOB_OPTIONS.backoff).toMatchObject({ type: "exponential", jitter: expect.any(Number) });
    recordScenario({
      scenario: "redelivery + order",
      faults: "5 redeliveries, 1 stale batch, 800 ms read",
      eventsSent: deliveries.flat().length + stale.length,
      leadsExpected: contacts.length,
      leadsFound: count,
      duplicates,
    });
    await Promise.all([w1.stop(), w2.stop()]);
  });

  it("kill -9 of a worker in the middle of a batch: after restart every event is applied exactly once", async () => {
    const doomed = await world.startWorker("worker-doomed");
    const contacts = contactsFor("crash", 5);
    const before = await claimedEvents();
    // The batch read hangs long enough to kill the worker mid-batch (below the 2 s request timeout).
    await world.fault({ kind: "latency", ms: 1_500, count: 1 });
    await world.createContacts(contacts);
    await doomed.waitForLine(/HubSpot Webhook: contact\.creation/);
    await until(async () => (await world.events.getActiveCount()) > 0, "an active job");
    doomed.signal("SIGKILL");
    expect(await doomed.exited).toBeNull();
    expect(await found(contacts.map((c) => c.email))).toMatchObject({ count: 0 });

    const survivor = await world.startWorker("worker-restarted");
    await world.settled();
    const { count, duplicates } = await found(contacts.map((c) => c.email));
    expect(count).toBe(contacts.length);
    expect(duplicates).toBe(0);
    // Every event of the crashed batch is claimed exactly once (the unique dedupe key would refuse a second claim).
    const events = (await claimedEvents()) - before;
    expect(events).toBeGreaterThanOrEqual(contacts.length);
    expect(jsonLines(survivor).some((l) => String(l["msg"]).startsWith("Lead created"))).toBe(true);
    recordScenario({ scenario: "worker kill -9", faults: "SIGKILL mid-batch, stalled-job recovery", eventsSent: events, leadsExpected: contacts.length, leadsFound: count, duplicates });
    await survivor.stop();
  });

  it("HubSpot resets, timeouts and 5xx are retried with backoff until the call succeeds", async () => {
    const worker = await world.startWorker("worker-flaky-hubspot");
    const contacts = contactsFor("flaky", 3);
    // Created without webhooks reaching the queue, then enqueued with a short backoff so the test stays fast.
    const ids = await world.createContacts(contacts);
    await world.settled();
    await world.prisma.lead.deleteMany({ where: { email: { in: contacts.map((c) => c.email) } } });
    await world.prisma.webhookEvent.deleteMany({ where: { objectId: { in: ids } } });
    proxy.resetNext(1); // attempt 1: connection reset
    await world.fault({ kind: "latency", ms: 3_000, count: 1 }); // attempt 2: no answer within the 2 s timeout
    await world.fault({ kind: "error", status: 503, count: 2 }); // (one is swallowed by the timed-out call) attempt 3: 503
    const events = ids.map((objectId, i) => ({
      eventId: 700_000 + i, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(),
      subscriptionType: "contact.creation", attemptNumber: 0, objectId: Number(objectId), changeSource: "CRM_UI",
    }));
    await world.events.add("crm-changes", { v: 1, provider: "hubspot", receivedAt: Date.now(), events }, {
      attempts: 6,
      backoff: { type: "exponential", delay: 200, jitter: 0.5 },
    });
    await world.settled();
    const { count, duplicates } = await found(contacts.map((c) => c.email));
    expect(count).toBe(contacts.length);
    expect(duplicates).toBe(0);
    expect(proxy.resetsDone()).toBe(1);
    const failures = jsonLines(worker).filter((l) => l["msg"] === "job failed").map((l) => JSON.stringify(l["err"]));
    expect(failures, failures.join("\n")).toHaveLength(3);
    // In whichever order they hit (a pooled keep-alive connection takes no reset), each fault failed one attempt.
    expect(failures.filter((f) => /ECONNRESET/.test(f))).toHaveLength(1);
    expect(failures.filter((f) => /did not answer within 2000 ms/.test(f))).toHaveLength(1);
    expect(failures.filter((f) => /HTTP 503/.test(f))).toHaveLength(1);
    recordScenario({ scenario: "HubSpot reset/timeout/5xx", faults: "1 reset, 1 timeout, 1×503", eventsSent: events.length, leadsExpected: contacts.length, leadsFound: count, duplicates });
    await worker.stop();
  });

  it("HubSpot failing past the last attempt: job failed, error logged to the integration, `pnpm cli replay` re-runs it", async () => {
    const worker = await world.startWorker("worker-hubspot-down");
    const contacts = contactsFor("replay", 2);
    const ids = await world.createContacts(contacts);
    await world.settled();
    await world.prisma.lead.deleteMany({ where: { email: { in: contacts.map((c) => c.email) } } });
    await world.prisma.webhookEvent.deleteMany({ where: { objectId: { in: ids } } });
    await world.fault({ kind: "error", status: 500 }); // until cleared
    const events = ids.map((objectId, i) => ({
      eventId: 600_000 + i, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(),
      subscriptionType: "contact.creation", attemptNumber: 0, objectId: Number(objectId), changeSource: "CRM_UI",
    }));
    const job = await world.events.add("crm-changes", { v: 1, provider: "hubspot", receivedAt: Date.now(), events }, {
      attempts: 3,
      backoff: { type: "exponential", delay: 100, jitter: 0.5 },
    });
    await until(async () => (await job.getState()) === "failed", "the job in the failed set (Bull Board's Failed tab)");
    const logged = await world.prisma.integrationError.findMany({ where: { integrationId: world.integration.id, code: "inbound_failed" } });
    expect(logged.map((e) => e.externalId).sort()).toEqual([...ids].sort());
    expect(logged[0]?.message).toMatch(/HTTP 500/);

    await world.clearFaults();
    const { code, output } = await runCli(["replay", "--integration", world.integration.id], world.env);
    expect(code, output).toBe(0);
    expect(output).toMatch(/Replayed 1 inbound/);
    await world.settled();
    expect(await job.getState()).toBe("completed");
    const { count, duplicates } = await found(contacts.map((c) => c.email));
    expect(count).toBe(contacts.length);
    recordScenario({ scenario: "HubSpot down → replay", faults: "HTTP 500 on every call, 3 attempts", eventsSent: events.length, leadsExpected: contacts.length, leadsFound: count, duplicates });
    await worker.stop();
  });

  it("SIGTERM lets in-flight jobs and requests finish, then exits 0; nothing half-applied", async () => {
    const worker = await world.startWorker("worker-sigterm");
    const contacts = contactsFor("shutdown", 4);
    await world.fault({ kind: "latency", ms: 1_000, count: 1 });
    await world.createContacts(contacts);
    await worker.waitForLine(/HubSpot Webhook: contact\.creation/);
    await until(async () => (await world.events.getActiveCount()) > 0, "an active job");
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    // The in-flight batch finished before exit: all its leads exist, none is missing a field.
    const { leads, count, duplicates } = await found(contacts.map((c) => c.email));
    expect(count).toBe(contacts.length);
    for (const c of contacts) expect(leads.get(c.email)).toMatchObject({ firstName: c.firstname, lastName: c.lastname });

    // The receiver: a request whose body is still arriving when SIGTERM comes is answered, then the process exits 0.
    const body = JSON.stringify([{ eventId: 1, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.creation", attemptNumber: 0, objectId: 1, changeSource: "CRM_UI" }]);
    const slowPost = slowSignedPost(world, body);
    await slowPost.headersSent;
    receiver.signal("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200)); // SIGTERM arrives while the body is incomplete
    slowPost.finish();
    expect(await slowPost.status).toBe(200);
    expect(await receiver.exited).toBe(0);
    recordScenario({ scenario: "SIGTERM", faults: "worker + receiver SIGTERM in flight", eventsSent: contacts.length + 1, leadsExpected: contacts.length, leadsFound: count, duplicates });
  });
});

/** A signed POST sent in two parts: the headers and half the body now, the rest on `finish()`. */
function slowSignedPost(world: FaultPipeline, body: string) {
  // Imported lazily to keep this helper next to its only use.
  const timestamp = Date.now();
  let finish: () => void = () => undefined;
  let headersSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (headersSent = resolve));
  const status = (async () => {
    const { request } = await import("node:http");
    const { signV3 } = await import("../../packages/hubspot-sandbox/src/index.js");
    const url = new URL(world.webhookUrl);
    return new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "x-hubspot-signature-v3": signV3(world.clientSecret, "POST", world.webhookUrl, body, timestamp),
            "x-hubspot-request-timestamp": String(timestamp),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      const half = Math.floor(body.length / 2);
      req.write(body.slice(0, half), () => headersSent());
      finish = () => req.end(body.slice(half));
    });
  })();
  return { status, headersSent: sent, finish: () => finish() };
}
