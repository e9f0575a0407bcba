import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../packages/db/src/testing.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { freePort, until } from "../helpers/ports.js";
import { cleanupPrefix, uniqueQueuePrefix } from "../helpers/redis.js";
import { devStartEnv, pnpmStart, type StartedChild } from "./child.js";

/** What `pnpm start` records per CRM emulator in the dev state file. */
interface EmulatorEntry {
  url: string;
  env: Record<string, string>;
  accountId: string;
  integrationId: string;
}

interface Lead {
  id: string;
  email: string;
  source: string;
  crm: { integrationId: string; externalId: string }[];
}

/** The record body a person would create in each CRM's UI (the emulators' admin route). */
const RECORD_OF: Record<string, (email: string) => Record<string, unknown>> = {
  salesforce: (email) => ({ Email: email, LastName: "Child", Company: "Start" }),
  zoho: (email) => ({ Email: email, Last_Name: "Child", Company: "Start" }),
  pipedrive: (email) => ({ name: "Start Child", emails: [{ value: email, primary: true, label: "work" }] }),
};
const PROVIDERS = Object.keys(RECORD_OF);

describe("pnpm start runs every CRM's emulator and connects org demo to each", () => {
  let db: TestDatabase;
  let running: StartedChild | undefined;
  let startupMs = 0;
  const prefix = uniqueQueuePrefix();
  beforeAll(async () => {
    db = await createTestDatabase();
    const env = await devStartEnv(db.url, prefix);
    const started = Date.now();
    running = await pnpmStart({ ...env, FEED_LEASE_INTERVAL_MS: "200" });
    startupMs = Date.now() - started;
    state = JSON.parse(readFileSync(env["LEADSYNC_DEV_STATE"]!, "utf8")) as typeof state;
  }, 90_000);
  afterAll(async () => {
    if (running && running.child.exitCode === null) running.interrupt("SIGKILL");
    const redis = createRedisConnection(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { role: "producer" });
    await cleanupPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await db?.drop();
  });

  let state: { apiUrl: string; devJwt: string; providers: Record<string, EmulatorEntry> };
  async function json<T = any>(url: string, init: { method?: string; body?: unknown; auth?: boolean } = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: {
        ...(init.auth ? { authorization: `Bearer ${state.devJwt}` } : {}),
        ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  const api = <T = any>(method: string, path: string, body?: unknown) => json<T>(`${state.apiUrl}${path}`, { method, body, auth: true });
  const lead = async (email: string) => ((await api<{ data: Lead[] }>("GET", `/api/v1/leads?email=${email}`)).body.data)[0];

  it("starts within the time a developer waits (measured: banner printed and the Salesforce feed subscribed)", () => {
    console.info(`pnpm start printed its banner and subscribed the Salesforce feed after ${startupMs} ms`);
    expect(startupMs).toBeLessThan(30_000);
  });

  it("records each emulator in the dev state and prints its URL and demo integration in the banner", async () => {
    for (const provider of PROVIDERS) {
      const entry = state.providers[provider]!;
      expect(entry, provider).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), accountId: expect.any(String), integrationId: expect.any(String) });
      expect(running!.output()).toContain(entry.url);
      expect(running!.output()).toContain(entry.integrationId);
    }
    expect(state.providers["salesforce"]!.env["SALESFORCE_PUBSUB_URL"]).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: the demo integration exists in org demo, its feed on, and a record created in the emulator becomes a lead`, async () => {
      const entry = state.providers[provider]!;
      const integration = await api("GET", `/api/v1/crm-integration/${entry.integrationId}`);
      expect(integration.status).toBe(200);
      expect(integration.body.data).toMatchObject({ id: entry.integrationId, provider, webhooksEnabled: true });

      const email = `child.${provider}@example.com`;
      const created = await json<{ ids: string[] }>(`${entry.url}/__sandbox/accounts/${entry.accountId}/records`, { method: "POST", body: { records: [RECORD_OF[provider]!(email)] } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const found = await until(async () => {
        const l = await lead(email);
        return l?.crm.some((link) => link.integrationId === entry.integrationId) ? l : undefined;
      }, `the ${provider} record's lead`);
      expect(found).toMatchObject({ source: provider });
      expect(found!.crm.find((link) => link.integrationId === entry.integrationId)!.externalId).toBe(String(created.body.ids[0]));
    }, 30_000);
  }

  it("platform → every CRM: one lead created through the API shows up as a record in each emulator", async () => {
    const email = "from.platform@example.com";
    expect((await api("POST", "/api/v1/leads", { email, firstName: "From", lastName: "Platform" })).status).toBe(201);
    for (const provider of PROVIDERS) {
      const entry = state.providers[provider]!;
      await until(async () => {
        const found = await json<unknown>(`${entry.url}/__sandbox/accounts/${entry.accountId}/records?email=${email}`);
        return JSON.stringify(found.body).includes(email);
      }, `the ${provider} record of the platform lead`);
    }
  }, 30_000);

  it("Ctrl-C stops every emulator by name and exits 0", async () => {
    running!.interrupt("SIGINT");
    const { code } = await running!.exited;
    const tail = running!.output().slice(running!.output().indexOf("LeadSync is running"));
    for (const name of ["Salesforce", "Zoho CRM", "Pipedrive"]) expect(tail).toContain(`Stopped the ${name} emulator`);
    expect(tail.trim().split("\n").at(-1)).toMatch(/LeadSync stopped/);
    expect(code, tail.slice(-2000)).toBe(0);
  }, 30_000);
});

describe("pnpm start with an emulator's port taken", () => {
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    taken = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  async function startWith(overrides: Record<string, string>) {
    // Preflight reaches the Postgres server only: the database itself is never created.
    const env = { ...(await devStartEnv("postgresql://postgres:postgres@127.0.0.1:5432/leadsync_port_taken", "{port-taken}")), ...overrides };
    const child = pnpmStart(env, { timeoutMs: 30_000 });
    const error = await child.then(
      () => undefined,
      (e: Error) => e.message,
    );
    return error ?? "";
  }

  it("names SALESFORCE_SANDBOX_PORT in one line, no stack trace, when its HTTP port is taken", async () => {
    const output = await startWith({ SALESFORCE_SANDBOX_PORT: String(taken) });
    expect(output).toMatch(new RegExp(`✖ Port ${taken} \\(the Salesforce emulator's HTTP\\) is in use: set SALESFORCE_SANDBOX_PORT to a free port`));
    expect(output).not.toMatch(/^\s+at /m);
  }, 40_000);

  it("names SALESFORCE_SANDBOX_PORT when the Pub/Sub gRPC port (its port + 1) is taken", async () => {
    const output = await startWith({ SALESFORCE_SANDBOX_PORT: String(taken - 1) });
    expect(output).toContain(`Port ${taken} (the Salesforce emulator's Pub/Sub gRPC, SALESFORCE_SANDBOX_PORT + 1) is in use: set SALESFORCE_SANDBOX_PORT`);
    expect(output).not.toMatch(/^\s+at /m);
  }, 40_000);

  it("names ZOHO_SANDBOX_PORT when Zoho's API-domain port is taken", async () => {
    const output = await startWith({ ZOHO_SANDBOX_PORT: String(taken - 1) });
    expect(output).toContain("set ZOHO_SANDBOX_PORT");
    expect(output).not.toMatch(/^\s+at /m);
  }, 40_000);
});
