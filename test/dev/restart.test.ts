import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { until } from "../helpers/ports.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../helpers/redis.js";
import { devStartEnv, pnpmStart, type StartedChild } from "./child.js";

interface Lead {
  id: string;
  email: string;
  firstName: string | null;
  crm: { provider: string; integrationId: string; externalId: string }[];
}

const PROVIDERS = ["hubspot", "salesforce", "zoho", "pipedrive"] as const;
type Provider = (typeof PROVIDERS)[number];
const DISPLAY: Record<Provider, string> = { hubspot: "HubSpot", salesforce: "Salesforce", zoho: "Zoho CRM", pipedrive: "Pipedrive" };

/** A record as a person creates it in each CRM's UI (the emulators' admin routes), and an edit of its first name. */
const CREATE: Record<Exclude<Provider, "hubspot">, (email: string) => Record<string, unknown>> = {
  salesforce: (email) => ({ Email: email, FirstName: "In", LastName: "Restart", Company: "Restart" }),
  zoho: (email) => ({ Email: email, First_Name: "In", Last_Name: "Restart", Company: "Restart" }),
  pipedrive: (email) => ({ name: "In Restart", emails: [{ value: email, primary: true, label: "work" }] }),
};
const EDIT: Record<Exclude<Provider, "hubspot">, (firstName: string) => Record<string, unknown>> = {
  salesforce: (firstName) => ({ FirstName: firstName }),
  zoho: (firstName) => ({ First_Name: firstName }),
  pipedrive: (firstName) => ({ name: `${firstName} Restart` }),
};

/** Ctrl-C's own warnings when connections or workers take a moment to stop (see apps/dev/src/pipeline.ts close()). */
const SHUTDOWN_WARNINGS = /still has open connections|workers are still stopping|still closing/;

/**
 * Warning and error lines. A clean run has none; a stale integration of a restarted emulator shows up as failed
 * reconciliation jobs (a 401 from the emulator that no longer knows its account) on every tick.
 */
function problems(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => /"level":(4|5|6)\d/.test(line) && !SHUTDOWN_WARNINGS.test(line))
    .map((line) => line.slice(0, 400));
}

describe("restarting pnpm start: the emulators keep their state, so the demo integrations and their links stay valid", () => {
  let db: TestDatabase;
  let env: Record<string, string | undefined>;
  let running: StartedChild | undefined;
  const prefix = uniqueQueuePrefix();
  beforeAll(async () => {
    db = await createTestDatabase();
    // Reconciliation every second: an integration whose account is gone would fail (401) visibly within the run.
    env = { ...(await devStartEnv(db.url, prefix, { stablePorts: true })), RECONCILE_INTERVAL_MS: "1000" };
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) running.interrupt("SIGKILL");
    const redis = createRedisConnection(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { role: "producer" });
    await cleanupPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await db?.drop();
    rmSync(dirname(env["LEADSYNC_DEV_STATE"]!), { recursive: true, force: true });
  });

  const sandboxesDir = () => join(dirname(env["LEADSYNC_DEV_STATE"]!), "sandboxes");

  /** This run's dev state file, and calls against its API and emulators. */
  function run() {
    const state = JSON.parse(readFileSync(env["LEADSYNC_DEV_STATE"]!, "utf8")) as {
      apiUrl: string;
      devJwt: string;
      demo: { integrationId: string };
      providers: Record<string, { url: string; portalId?: number; accountId?: string; integrationId?: string }>;
    };
    const json = async (url: string, method = "GET", body?: unknown, auth = false) => {
      const res = await fetch(url, {
        method,
        headers: { ...(auth && { authorization: `Bearer ${state.devJwt}` }), ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
    };
    const api = (method: string, path: string, body?: unknown) => json(`${state.apiUrl}${path}`, method, body, true);
    const integrationOf = (p: Provider) => (p === "hubspot" ? state.demo.integrationId : state.providers[p]!.integrationId!);
    const hubspot = () => `${state.providers["hubspot"]!.url}/__sandbox/portals/${state.providers["hubspot"]!.portalId}`;
    const records = (p: Exclude<Provider, "hubspot">) => `${state.providers[p]!.url}/__sandbox/accounts/${state.providers[p]!.accountId}/records`;
    const crm = {
      async create(p: Provider, email: string): Promise<string> {
        const created = p === "hubspot" ? await json(`${hubspot()}/contacts`, "POST", { contacts: [{ properties: { email, firstname: "In" } }] }) : await json(records(p), "POST", { records: [CREATE[p](email)] });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        return String(created.body.ids[0]);
      },
      async edit(p: Provider, id: string, firstName: string): Promise<void> {
        const edited = p === "hubspot" ? await json(`${hubspot()}/contacts/${id}`, "PATCH", { properties: { firstname: firstName } }) : await json(`${records(p)}/${id}`, "PATCH", EDIT[p](firstName));
        expect([200, 204], JSON.stringify(edited.body)).toContain(edited.status);
      },
      async has(p: Provider, email: string): Promise<boolean> {
        const found = p === "hubspot" ? await json(`${hubspot()}/contacts`) : await json(`${records(p)}?email=${email}`);
        return JSON.stringify(found.body).includes(email);
      },
    };
    const lead = async (email: string) => ((await api("GET", `/api/v1/leads?email=${email}`)).body.data as Lead[])[0];
    const linkOf = (l: Lead | undefined, p: Provider) => l?.crm.find((link) => link.integrationId === integrationOf(p));
    return { state, api, crm, lead, linkOf, integrationOf };
  }

  /** The guide's checks for every CRM: a record made in the CRM becomes a linked lead; a platform lead reaches each CRM. */
  async function guideChecks(r: ReturnType<typeof run>, tag: string): Promise<Record<Provider, { email: string; externalId: string }>> {
    const inbound = {} as Record<Provider, { email: string; externalId: string }>;
    for (const p of PROVIDERS) {
      const email = `${tag}.${p}@example.com`;
      const externalId = await r.crm.create(p, email);
      await until(async () => r.linkOf(await r.lead(email), p)?.externalId === externalId, `${tag}: the ${p} record's lead`);
      inbound[p] = { email, externalId };
    }
    const outbound = `${tag}.platform@example.com`;
    expect((await r.api("POST", "/api/v1/leads", { email: outbound, firstName: "Out" })).status).toBe(201);
    for (const p of PROVIDERS) {
      await until(async () => r.linkOf(await r.lead(outbound), p) && (await r.crm.has(p, outbound)), `${tag}: the platform lead in ${p}`);
    }
    return inbound;
  }

  /** `pnpm start` on the shared environment (a run left behind by a failed test is killed first). */
  async function start(): Promise<StartedChild> {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.interrupt("SIGKILL");
      await running.exited;
    }
    running = await pnpmStart(env);
    return running;
  }

  async function stop(child: StartedChild) {
    child.interrupt("SIGINT");
    const { code } = await child.exited;
    expect(code, child.output().slice(-3000)).toBe(0);
    expect(problems(child.output())).toEqual([]);
  }

  let first: ReturnType<typeof run>;
  let firstInbound: Record<Provider, { email: string; externalId: string }>;
  let extraIntegrationId: string;

  it("first run: the guide's checks pass for every CRM, and Ctrl-C leaves each emulator's snapshot in .leadsync/sandboxes/", async () => {
    await start();
    first = run();
    firstInbound = await guideChecks(first, "first");
    await stop(running!);
    for (const p of PROVIDERS) expect(existsSync(join(sandboxesDir(), `${p}.json`)), p).toBe(true);
  }, 90_000);

  it("second run on the same database and .leadsync: the same integration rows, old records still linked and syncing, new ones sync", async () => {
    await start();
    const second = run();
    for (const p of PROVIDERS) expect(second.integrationOf(p), p).toBe(first.integrationOf(p));
    expect(running!.output().match(/kept from the last run: same id, settings and links/g)).toHaveLength(4);
    const listed = (await second.api("GET", "/api/v1/crm-integration")).body.data as { id: string }[];
    expect(listed.map((i) => i.id).sort()).toEqual(PROVIDERS.map((p) => first.integrationOf(p)).sort());

    for (const p of PROVIDERS) {
      const { email, externalId } = firstInbound[p];
      expect(second.linkOf(await second.lead(email), p)?.externalId, p).toBe(externalId);
      // The record itself survived the restart: a person's edit of it in the CRM reaches its lead.
      await second.crm.edit(p, externalId, `Again${p}`);
      await until(async () => (await second.lead(email))?.firstName === `Again${p}`, `the edit of the old ${p} record`);
    }
    await guideChecks(second, "second");

    // A second Pipedrive account connected to org demo by hand: a fresh emulator will not hand its id out again, so
    // after a lost snapshot only retiring it keeps its reconciliation from failing (401) every second.
    const pipedrive = second.state.providers["pipedrive"]!.url;
    const extra = (await (await fetch(`${pipedrive}/__sandbox/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { connect: unknown };
    const connected = await second.api("POST", "/api/v1/crm-integration", extra.connect);
    expect(connected.status, JSON.stringify(connected.body)).toBe(201);
    extraIntegrationId = connected.body.data.id;
    await stop(running!);
  }, 90_000);

  it("a lost snapshot (the sandboxes folder deleted): the stale demo integrations are retired with an info line, fresh ones connected and syncing", async () => {
    rmSync(sandboxesDir(), { recursive: true, force: true });
    const output = (await start()).output();
    const third = run();
    for (const p of PROVIDERS) {
      expect(output, p).toMatch(new RegExp(`"level":30,.*"provider":"${p}".*Retired ${p === "pipedrive" ? 2 : 1} earlier ${DISPLAY[p]} integration`));
      expect(third.integrationOf(p), p).not.toBe(first.integrationOf(p));
    }
    const listed = (await third.api("GET", "/api/v1/crm-integration")).body.data as { id: string }[];
    expect(listed.map((i) => i.id).sort()).toEqual(PROVIDERS.map((p) => third.integrationOf(p)).sort());
    expect(listed.map((i) => i.id)).not.toContain(extraIntegrationId);
    // The leads stay; only their links to the retired integrations are gone.
    const kept = await third.lead(firstInbound.salesforce.email);
    expect(kept?.crm.filter((link) => PROVIDERS.some((p) => link.integrationId === first.integrationOf(p)))).toEqual([]);
    await guideChecks(third, "third");
    // Reconciliation runs every second: give a stale integration time to fail before looking at the log.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await stop(running!);
  }, 90_000);
});
