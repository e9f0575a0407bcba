import { readFileSync } from "node:fs";
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
  crm: { integrationId: string; externalId: string }[];
}

describe("restarting pnpm start keeps the demo integration", () => {
  let db: TestDatabase;
  let env: Record<string, string | undefined>;
  let running: StartedChild | undefined;
  const prefix = uniqueQueuePrefix();
  beforeAll(async () => {
    db = await createTestDatabase();
    env = await devStartEnv(db.url, prefix);
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null) running.interrupt("SIGKILL");
    const redis = createRedisConnection(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { role: "producer" });
    await cleanupPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await db?.drop();
  });

  function state() {
    const parsed = JSON.parse(readFileSync(env["LEADSYNC_DEV_STATE"]!, "utf8")) as {
      apiUrl: string;
      devJwt: string;
      demo: { integrationId: string };
      providers: { hubspot: { url: string; portalId: number } };
    };
    const { url, portalId } = parsed.providers.hubspot;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${parsed.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${parsed.devJwt}`, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as { data: any } };
    };
    const sandbox = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/__sandbox/portals/${portalId}${path}`, {
        method,
        ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
      return (await res.json()) as any;
    };
    const lead = async (email: string) => ((await call("GET", `/api/v1/leads?email=${email}`)).body.data as Lead[])[0];
    return { integrationId: parsed.demo.integrationId, call, sandbox, lead };
  }

  async function stop(child: StartedChild) {
    child.interrupt("SIGINT");
    const { code } = await child.exited;
    expect(code, child.output().slice(-3000)).toBe(0);
  }

  it("start, create in both directions, stop, start again: same integration id, settings, and its lead links still work", async () => {
    running = await pnpmStart(env);
    const first = state();
    await first.sandbox("POST", "/contacts", { contacts: [{ properties: { email: "inbound@example.com", firstname: "In" } }] });
    const inbound = await until(async () => (await first.lead("inbound@example.com"))?.crm.some((l) => l.integrationId === first.integrationId) && first.lead("inbound@example.com"), "the inbound lead");
    const created = await first.call("POST", "/api/v1/leads", { email: "outbound@example.com", firstName: "Out" });
    expect(created.status).toBe(201);
    const outbound = await until(async () => ((await first.lead("outbound@example.com"))?.crm.some((l) => l.integrationId === first.integrationId) ? first.lead("outbound@example.com") : undefined), "the outbound contact");
    const patched = await first.call("PATCH", `/api/v1/crm-integration/${first.integrationId}`, { settings: { conflictRule: "prefer_crm" } });
    expect(patched.status).toBe(200);
    await stop(running);

    running = await pnpmStart(env);
    expect(running.output()).toMatch(/kept from the last run/);
    const second = state();
    expect(second.integrationId).toBe(first.integrationId);
    const integration = await second.call("GET", `/api/v1/crm-integration/${first.integrationId}`);
    expect(integration.status).toBe(200);
    expect(integration.body.data.settings).toMatchObject({ conflictRule: "prefer_crm" });
    // HubSpot's links are kept; the other CRMs' emulators keep nothing, so their integrations (and links) are new.
    const hubspotLinks = (lead: Lead) => lead.crm.filter((link) => link.integrationId === first.integrationId);
    expect(hubspotLinks((await second.lead("inbound@example.com"))!)).toEqual(hubspotLinks(inbound!));
    expect(hubspotLinks((await second.lead("outbound@example.com"))!)).toEqual(hubspotLinks(outbound!));
    expect(running.output()).toMatch(/the last run's integration and its lead links were removed/);

    // Platform → HubSpot on an old link: the edit reaches the same contact id in the new sandbox.
    const outContact = hubspotLinks(outbound!)[0]!.externalId;
    await second.call("PATCH", `/api/v1/leads/${outbound!.id}`, { firstName: "Out again" });
    await until(async () => (await second.sandbox("GET", `/contacts/${outContact}`)).properties?.firstname === "Out again", "the push to the restored contact");
    // HubSpot → platform on an old link: the webhooks were subscribed again.
    const inContact = hubspotLinks(inbound!)[0]!.externalId;
    await second.sandbox("PATCH", `/contacts/${inContact}`, { properties: { firstname: "In again" } });
    await until(async () => (await second.lead("inbound@example.com"))?.firstName === "In again", "the webhook of the restored contact");
    // A new contact gets a new id and its own lead.
    await second.sandbox("POST", "/contacts", { contacts: [{ properties: { email: "after-restart@example.com" } }] });
    const fresh = await until(async () => (await second.lead("after-restart@example.com"))?.crm.some((l) => l.integrationId === first.integrationId) && second.lead("after-restart@example.com"), "the new lead");
    expect([inContact, outContact]).not.toContain(hubspotLinks(fresh!)[0]!.externalId);
    await stop(running);
  }, 120_000);
});
