import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { until } from "../helpers/ports.js";
import { jsonLines, type AppProcess } from "./support/processes.js";
import { replayIdOf, startSalesforceFaultPipeline, type SalesforceFaultPipeline } from "./support/salesforce-pipeline.js";
import { printSummary, recordScenario } from "./support/summary.js";

/**
 * Salesforce's pulled change feed (CDC over Pub/Sub) under worker crashes: real worker processes subscribed to the
 * emulator's gRPC feed, `kill -9`, restarts and a second worker contending for the same subscription. Periodic
 * reconciliation is off (RECONCILE_INTERVAL_MS=0), so every change must come in through the feed: a change the
 * feed lost would stay lost, and the check "every change-log event claimed once" would fail.
 */

const LEASE_INTERVAL_MS = 200;
let world: SalesforceFaultPipeline | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});
afterAll(() => printSummary("Salesforce feed faults: final state per scenario"));

const subscribedLine = /"msg":"Salesforce feed subscribed"/;

/** Events a worker found already claimed (a batch queued again after a crash): skipped, not applied twice. */
const redeliveriesOf = (worker: AppProcess) =>
  jsonLines(worker).reduce((sum, l) => sum + (l["msg"] === "Skipped events already processed (redelivery)" ? Number(l["redeliveries"]) : 0), 0);

/** Writes a stream of person edits in the emulator's UI: new leads and edits of earlier ones, until stopped. */
function uiEditStream(w: SalesforceFaultPipeline, tag: string) {
  const finalTitle = new Map<string, string>();
  const idOf = new Map<string, string>();
  let seq = 0;
  let running = true;
  let failure: unknown;
  const done = (async () => {
    while (running) {
      seq++;
      try {
        const emails = [...idOf.keys()];
        if (emails.length < 5 || seq % 3 === 0) {
          const email = `${tag}-${seq}@sf-faults.example`;
          const [id] = await w.createLeads([{ LastName: `Last${seq}`, FirstName: `First${seq}`, Company: "Faults Inc", Email: email, Title: `t${seq}` }]);
          idOf.set(email, id as string);
          finalTitle.set(email, `t${seq}`);
        } else {
          const email = emails[seq % emails.length] as string;
          await w.updateLead(idOf.get(email) as string, { Title: `t${seq}` });
          finalTitle.set(email, `t${seq}`);
        }
      } catch (err) {
        failure = err;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  return {
    finalTitle,
    writes: () => seq,
    async stop() {
      running = false;
      await done;
      if (failure) throw failure;
    },
  };
}

/** Every event of the org's change log is claimed exactly once (webhook_events), and nothing else is. */
async function expectEveryChangeClaimedOnce(w: SalesforceFaultPipeline, timeoutMs = 45_000) {
  const log = await w.changeLog();
  const wanted = new Set(log.map((e) => e.replayId));
  await until(async () => {
    const claimed = new Set((await w.claims()).map((c) => c.replayId));
    return [...wanted].every((id) => claimed.has(id));
  }, `claims of all ${wanted.size} change events`, timeoutMs);
  // Redelivered batches (after the crash) have had time to be processed too before counting.
  await until(async () => Object.values(await w.changes.getJobCounts("active", "waiting", "delayed", "prioritized")).every((n) => n === 0), "an idle crm-changes queue", 10_000);
  const claims = await w.claims();
  const claimedIds = claims.map((c) => c.replayId);
  expect(new Set(claimedIds).size, "a change-log event claimed twice").toBe(claimedIds.length);
  expect(claimedIds.sort()).toEqual([...wanted].sort());
  return { events: log.length, claims: claims.length, log };
}

async function expectLeadsWithFinalValues(w: SalesforceFaultPipeline, finalTitle: Map<string, string>) {
  await until(async () => {
    const leads = await w.leads();
    return [...finalTitle].every(([email, title]) => leads.get(email)?.jobTitle === title);
  }, "every lead with its final title", 20_000).catch(() => undefined);
  const leads = await w.leads();
  const wrong = [...finalTitle].filter(([email, title]) => leads.get(email)?.jobTitle !== title).map(([email, title]) => `${email}: want ${title}, got ${leads.get(email)?.jobTitle}`);
  expect(wrong, wrong.join("\n")).toEqual([]);
  const duplicates = [...leads.values()].filter((l) => l.rows > 1).length;
  expect(duplicates).toBe(0);
  return { found: [...finalTitle.keys()].filter((e) => leads.has(e)).length, duplicates };
}

describe("Salesforce CDC feed: real worker processes", () => {
  it("kill -9 mid-stream: the restarted worker resumes from the stored replay id; 0 lost, 0 doubled", async () => {
    const w = (world = await startSalesforceFaultPipeline({ env: { FEED_LEASE_INTERVAL_MS: String(LEASE_INTERVAL_MS) } }));
    const first = await w.startWorker("sf-worker-1");
    await first.waitForLine(subscribedLine);
    // The first subscription (no checkpoint) starts at LATEST; it must be live before the stream starts.
    await until(async () => w.liveSubscriptions() === 1, "the first worker's Pub/Sub stream");

    const stream = uiEditStream(w, "crash");
    // Mid-stream: some changes are in, a checkpoint is stored, more keep coming.
    await until(async () => (await w.claims()).length >= 25 && (await w.prisma.feedCheckpoint.findUnique({ where: { integrationId: w.integrationId } })) !== null, "25 claimed changes and a checkpoint", 30_000);
    first.signal("SIGKILL");
    expect(await first.exited).toBeNull();
    const killedAt = Date.now();
    const checkpointAtKill = (await w.prisma.feedCheckpoint.findUniqueOrThrow({ where: { integrationId: w.integrationId } })).checkpoint;
    const latestAtKill = BigInt((await w.changeLog()).at(-1)?.replayId ?? "0");
    const claimedAtKill = (await w.claims()).length;
    // Events the dead worker had written past its last checkpoint (or not yet received): the new one gets them again.
    const checkpointReplay = BigInt(replayIdOf(checkpointAtKill));
    const pastCheckpoint = (await w.changeLog()).filter((e) => BigInt(e.replayId) > checkpointReplay && BigInt(e.replayId) <= latestAtKill).length;

    // The stream goes on while no worker runs (its lease lapses meanwhile).
    await until(async () => w.liveSubscriptions() === 0, "the dead worker's stream closed on the emulator", 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = await w.startWorker("sf-worker-2");
    await second.waitForLine(subscribedLine);
    const restartedAt = Date.now();
    const downtime = (await w.changeLog()).filter((e) => BigInt(e.replayId) > latestAtKill);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await stream.stop();

    const { events, claims } = await expectEveryChangeClaimedOnce(w);
    const { found, duplicates } = await expectLeadsWithFinalValues(w, stream.finalTitle);
    expect(found).toBe(stream.finalTitle.size);

    // Resumed from the checkpoint the first worker stored, not from LATEST: the worker says so, subscribes from that
    // replay id, and the changes made while no worker ran came in through the feed (reconciliation is off).
    const lines = jsonLines(second);
    expect(lines.find((l) => l["msg"] === "Salesforce feed subscribed")).toMatchObject({ resumeFrom: "checkpoint" });
    expect(lines.find((l) => l["msg"] === "Salesforce change feed subscribing")).toMatchObject({ from: checkpointAtKill });
    expect(lines.filter((l) => String(l["msg"]).startsWith("Reconciliation checked"))).toEqual([]);
    expect(downtime.length).toBeGreaterThan(0);
    const claimed = new Set((await w.claims()).map((c) => c.replayId));
    expect(downtime.filter((e) => !claimed.has(e.replayId))).toEqual([]);
    expect(w.peakSubscriptions()).toBe(1);

    console.log(
      `kill -9 mid-stream: ${stream.writes()} UI writes, ${events} change events, ${claims} claims; at the kill ${claimedAtKill} claimed and ` +
        `${pastCheckpoint} events past the stored checkpoint; ${downtime.length} events while down ` +
        `(${restartedAt - killedAt} ms from kill to the new subscription), ${redeliveriesOf(second)} redelivered events skipped, ${found} leads, ${duplicates} duplicates`,
    );
    recordScenario({ scenario: "SF worker kill -9 mid-stream", faults: "SIGKILL, 1.5 s down, restart", eventsSent: events, leadsExpected: stream.finalTitle.size, leadsFound: found, duplicates });
  }, 120_000);

  it("kill -9 after a batch was queued but before its checkpoint was stored: the batch comes again and is skipped, not applied twice", async () => {
    const w = (world = await startSalesforceFaultPipeline({ env: { FEED_LEASE_INTERVAL_MS: String(LEASE_INTERVAL_MS) } }));
    const first = await w.startWorker("sf-worker-window");
    await first.waitForLine(subscribedLine);
    await until(async () => w.liveSubscriptions() === 1, "the first worker's Pub/Sub stream");
    const seed = Array.from({ length: 3 }, (_, i) => ({ LastName: `Seed${i}`, Company: "Window", Email: `window-seed-${i}@sf-faults.example`, Title: "seed" }));
    await w.createLeads(seed);
    await until(async () => (await w.claims()).length >= seed.length && (await w.prisma.feedCheckpoint.findUnique({ where: { integrationId: w.integrationId } })) !== null, "the seed claimed and checkpointed");
    const before = (await w.prisma.feedCheckpoint.findUniqueOrThrow({ where: { integrationId: w.integrationId } })).checkpoint;

    // Hold the checkpoint row: the worker queues the next batch (and applies it), then blocks storing its checkpoint.
    const lock = new pg.Client({ connectionString: w.env["DATABASE_URL"] });
    await lock.connect();
    await lock.query("BEGIN");
    await lock.query("SELECT 1 FROM feed_checkpoints WHERE integration_id = $1 FOR UPDATE", [w.integrationId]);
    const window = Array.from({ length: 5 }, (_, i) => ({ LastName: `Win${i}`, Company: "Window", Email: `window-${i}@sf-faults.example`, Title: "in the window" }));
    await w.createLeads(window);
    await until(async () => (await w.claims()).length >= seed.length + window.length, "the window's events queued and applied");
    // The worker now waits on the row lock with its checkpoint UPSERT sent. kill -9 it; its statement, already at the
    // server, would still commit once the lock is free, so its backend goes with it (as if the crash came just before).
    const blocked = await lock.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ILIKE '%feed_checkpoints%'",
    );
    expect(blocked.rows.length).toBeGreaterThan(0);
    first.signal("SIGKILL");
    expect(await first.exited).toBeNull();
    for (const { pid } of blocked.rows) await lock.query("SELECT pg_terminate_backend($1)", [pid]);
    await lock.query("COMMIT");
    await lock.end();
    // The crash left the checkpoint where it was: the window's events are past it.
    expect((await w.prisma.feedCheckpoint.findUniqueOrThrow({ where: { integrationId: w.integrationId } })).checkpoint).toBe(before);

    const second = await w.startWorker("sf-worker-after-window");
    await second.waitForLine(subscribedLine);
    await w.updateLead((await w.createLeads([{ LastName: "After", Company: "Window", Email: "window-after@sf-faults.example", Title: "after" }]))[0] as string, { Title: "after-edit" });
    await until(async () => redeliveriesOf(second) >= window.length, "the window's events redelivered to the new worker", 20_000);

    const { events, claims } = await expectEveryChangeClaimedOnce(w);
    const titles = new Map([...seed, ...window].map((r) => [r.Email, r.Title]));
    titles.set("window-after@sf-faults.example", "after-edit");
    const { found, duplicates } = await expectLeadsWithFinalValues(w, titles);
    expect(found).toBe(titles.size);
    expect(jsonLines(second).find((l) => l["msg"] === "Salesforce change feed subscribing")).toMatchObject({ from: before });
    console.log(`crash window: ${window.length} events queued+applied, checkpoint not stored, kill -9; ${redeliveriesOf(second)} redelivered and skipped; ${events} change events, ${claims} claims, ${duplicates} duplicates`);
    recordScenario({ scenario: "SF kill -9 queued-not-checkpointed", faults: "checkpoint row locked, SIGKILL", eventsSent: events, leadsExpected: titles.size, leadsFound: found, duplicates });
  }, 120_000);

  it("two workers, one subscription; kill -9 of the holder: the other takes over within a few lease intervals", async () => {
    const w = (world = await startSalesforceFaultPipeline({ env: { FEED_LEASE_INTERVAL_MS: String(LEASE_INTERVAL_MS) } }));
    const [a, b] = await Promise.all([w.startWorker("sf-worker-a"), w.startWorker("sf-worker-b")]);
    const holder = await Promise.race([a, b].map((p) => p.waitForLine(subscribedLine).then(() => p)));
    const other = (holder === a ? b : a) as AppProcess;
    await until(async () => w.liveSubscriptions() === 1, "the holder's Pub/Sub stream");
    // Several lease intervals later, still one stream, and the other worker never subscribed.
    await new Promise((resolve) => setTimeout(resolve, 8 * LEASE_INTERVAL_MS));
    expect(w.liveSubscriptions()).toBe(1);
    expect(other.lines.some((l) => subscribedLine.test(l))).toBe(false);

    const stream = uiEditStream(w, "pair");
    await until(async () => (await w.claims()).length >= 15, "15 claimed changes", 30_000);
    holder.signal("SIGKILL");
    const killedAt = Date.now();
    expect(await holder.exited).toBeNull();
    await other.waitForLine(subscribedLine, 15_000);
    const loggedAt = Date.now();
    await until(async () => w.liveSubscriptions() === 1, "the survivor's Pub/Sub stream", 10_000);
    const streamingAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await stream.stop();

    const { events, claims } = await expectEveryChangeClaimedOnce(w);
    const { found, duplicates } = await expectLeadsWithFinalValues(w, stream.finalTitle);
    expect(found).toBe(stream.finalTitle.size);
    expect(jsonLines(other).find((l) => l["msg"] === "Salesforce feed subscribed")).toMatchObject({ resumeFrom: "checkpoint" });
    // Never two streams for the org at once, not even during the takeover.
    expect(w.peakSubscriptions()).toBe(1);
    // The lease is 3 scan intervals; the survivor's next scan after it lapses takes it (+ the subscribe itself).
    const takeoverMs = streamingAt - killedAt;
    expect(takeoverMs).toBeLessThan(10 * LEASE_INTERVAL_MS);

    console.log(
      `two workers: takeover ${loggedAt - killedAt} ms to "feed subscribed", ${takeoverMs} ms to a live stream on the emulator ` +
        `(lease ${3 * LEASE_INTERVAL_MS} ms, scans every ${LEASE_INTERVAL_MS} ms); ${events} change events, ${claims} claims, ${redeliveriesOf(other)} redelivered events skipped, ${found} leads, ${duplicates} duplicates`,
    );
    recordScenario({ scenario: "SF two workers, holder kill -9", faults: `SIGKILL holder, takeover ${takeoverMs} ms`, eventsSent: events, leadsExpected: stream.finalTitle.size, leadsFound: found, duplicates });
  }, 120_000);
  it("a frozen holder (SIGSTOP, like a long pause) loses its lease: the other worker takes over, the woken one closes its stream; nothing lost or applied twice", async () => {
    const w = (world = await startSalesforceFaultPipeline({ env: { FEED_LEASE_INTERVAL_MS: String(LEASE_INTERVAL_MS) } }));
    const [a, b] = await Promise.all([w.startWorker("sf-worker-frozen-a"), w.startWorker("sf-worker-frozen-b")]);
    const holder = await Promise.race([a, b].map((p) => p.waitForLine(subscribedLine).then(() => p)));
    const other = (holder === a ? b : a) as AppProcess;
    await until(async () => w.liveSubscriptions() === 1, "the holder's Pub/Sub stream");
    const stream = uiEditStream(w, "frozen");
    await until(async () => (await w.claims()).length >= 10, "10 claimed changes", 30_000);

    holder.signal("SIGSTOP");
    const frozenAt = Date.now();
    await other.waitForLine(subscribedLine, 15_000);
    const takenOverAt = Date.now();
    // A frozen process keeps its TCP connection: the emulator still counts its stream beside the new one.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    holder.signal("SIGCONT");
    const wokenAt = Date.now();
    await holder.waitForLine(/"reason":"lease lost".*"msg":"Feed closed"|"msg":"Feed closed".*"reason":"lease lost"/, 10_000);
    await until(async () => w.liveSubscriptions() === 1, "one stream again", 10_000);
    const closedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stream.stop();

    const { events, claims } = await expectEveryChangeClaimedOnce(w);
    // The frozen worker wakes inside a batch it had read from Salesforce before the freeze; that older read must not
    // overwrite the lead the other worker wrote meanwhile from a newer one (the edits are ~15 ms apart, inside
    // Salesforce's 1 s clock tick: the conflict rule orders them by when each read was made against the last sync).
    const leads = await w.leads();
    const found = [...stream.finalTitle.keys()].filter((e) => leads.has(e)).length;
    const duplicates = [...leads.values()].filter((l) => l.rows > 1).length;
    expect(found).toBe(stream.finalTitle.size);
    expect(duplicates).toBe(0);
    const stale = [...stream.finalTitle].filter(([email, title]) => leads.get(email)?.jobTitle !== title).length;
    await expectLeadsWithFinalValues(w, stream.finalTitle);
    expect(w.liveSubscriptions()).toBe(1);
    // The woken process does not take the feed back: the survivor still holds it.
    expect(holder.lines.filter((l) => subscribedLine.test(l))).toHaveLength(1);
    console.log(
      `frozen holder: taken over ${takenOverAt - frozenAt} ms after SIGSTOP; woken, it closed its stream ${closedAt - wokenAt} ms after SIGCONT ` +
        `(peak ${w.peakSubscriptions()} streams while it was frozen); ${events} change events, ${claims} claims, ` +
        `${redeliveriesOf(holder) + redeliveriesOf(other)} redelivered events skipped, ${found} leads, ${duplicates} duplicates, ${stale} leads left with an older value`,
    );
    recordScenario({ scenario: "SF frozen holder (SIGSTOP)", faults: "SIGSTOP 1 s past takeover, SIGCONT", eventsSent: events, leadsExpected: stream.finalTitle.size, leadsFound: found, duplicates });
  }, 120_000);
});
