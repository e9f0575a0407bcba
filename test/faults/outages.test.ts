import { afterAll, describe, expect, it } from "vitest";
import { duplicatesOf, startFaultPipeline, type FaultPipeline } from "./support/fault-pipeline.js";
import { startOwnPostgres, type OwnPostgres } from "./support/own-postgres.js";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";
import { until } from "../helpers/ports.js";
import { jsonLines } from "./support/processes.js";
import { printSummary, recordScenario } from "./support/summary.js";

/**
 * Postgres and Redis going away under a running pipeline. Each scenario stops a server of its OWN (initdb/pg_ctl or
 * redis-server on a free port in a temp dir): the shared ones are never touched.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  printSummary("Fault suite (own Postgres / own Redis): final state per scenario");
});

const people = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ email: `${tag}-${i}@outage.example`, firstname: `${tag}${i}`, lastname: "Outage" }));

async function expectAllLeads(world: FaultPipeline, contacts: { email: string; firstname: string }[]) {
  const leads = await world.leads();
  for (const c of contacts) expect(leads.get(c.email), c.email).toMatchObject({ firstName: c.firstname, rows: 1 });
  return { found: contacts.filter((c) => leads.has(c.email)).length, duplicates: duplicatesOf(leads) };
}

describe("outages", () => {
  it("Postgres down: the receiver keeps answering 200, workers retry, everything drains once Postgres is back", async () => {
    const postgres: OwnPostgres = await startOwnPostgres();
    cleanups.push(() => postgres.destroy());
    const world = await startFaultPipeline({ databaseUrl: postgres.url });
    cleanups.push(() => world.close());
    await world.start("receiver");
    const worker = await world.startWorker();

    const before = people("pg-before", 3);
    await world.createContacts(before);
    await world.settled();

    postgres.stop();
    const during = people("pg-during", 5);
    await world.createContacts(during);
    // HubSpot's deliveries are acknowledged although the database is down: the receiver needs Redis only.
    await world.sandbox.webhooksIdle(10_000);
    const stats = (await (await fetch(`${world.sandbox.url}/__sandbox/portals/${world.portalId}/stats`)).json()) as { webhooks: { failed: number } };
    expect(stats.webhooks.failed).toBe(0);
    // The worker fails and backs off (the jobs wait in the delayed set between attempts).
    await until(async () => jsonLines(worker).some((l) => l["msg"] === "job failed"), "a failed attempt while Postgres is down");
    expect(await world.events.getDelayedCount()).toBeGreaterThan(0);

    postgres.start();
    await world.settled(60_000);
    const result = await expectAllLeads(world, [...before, ...during]);
    expect(result).toEqual({ found: 8, duplicates: 0 });
    recordScenario({ scenario: "Postgres down", faults: "pg_ctl stop -m fast, then start", eventsSent: 8, leadsExpected: 8, leadsFound: result.found, duplicates: 0 });
  }, 120_000);

  it("Redis down: the receiver answers 503 and /ready says why, nothing acknowledged is lost, everyone reconnects", async () => {
    const redis: OwnRedis = await startOwnRedis();
    cleanups.push(() => redis.destroy());
    const world = await startFaultPipeline({ redisUrl: redis.url });
    cleanups.push(() => world.close());
    const receiver = await world.start("receiver");
    await world.startWorker();

    const before = people("redis-before", 3);
    await world.createContacts(before);
    await world.settled();

    await redis.stop();
    const ready = await fetch(`${world.receiverUrl}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ success: false, error: { code: "not_ready", message: expect.stringMatching(/Redis/) } });
    const refused = await world.post([{ eventId: 1, subscriptionId: 1, portalId: world.portalId, appId: 1, occurredAt: Date.now(), subscriptionType: "contact.creation", attemptNumber: 0, objectId: 1, changeSource: "CRM_UI" }]);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ success: false, error: { code: "queue_unavailable" } });

    // HubSpot keeps retrying what was refused; Redis returns after a few retries.
    const during = people("redis-during", 4);
    await world.createContacts(during);
    await until(async () => receiver.lines.some((l) => l.includes("could not queue webhook batch")), "a refused delivery");
    await redis.start();
    await until(async () => (await fetch(`${world.receiverUrl}/ready`)).status === 200, "/ready after Redis returns");
    await world.settled(60_000);
    const stats = (await (await fetch(`${world.sandbox.url}/__sandbox/portals/${world.portalId}/stats`)).json()) as { webhooks: { failed: number } };
    expect(stats.webhooks.failed).toBe(0);
    const result = await expectAllLeads(world, [...before, ...during]);
    expect(result).toEqual({ found: 7, duplicates: 0 });
    recordScenario({ scenario: "Redis down", faults: "redis-server stopped, restarted", eventsSent: 8, leadsExpected: 7, leadsFound: result.found, duplicates: 0 });
  }, 120_000);
});
