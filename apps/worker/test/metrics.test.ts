import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hubspotEvent, startHarness, type Harness } from "../../../test/e2e/harness.js";
import { startMetricsServer } from "../src/metrics.js";

// The worker's Prometheus metrics, read the way Prometheus does: GET /metrics on the worker's metrics server.

let h: Harness;
let server: Server;
let base: string;
beforeAll(async () => {
  h = await startHarness({ receiver: false });
  server = await startMetricsServer({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await h?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (wanted.every((w) => labelText.split(",").includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

async function applyCreation(email: string): Promise<void> {
  const [contactId] = await h.createContacts([{ email }]);
  await h.events.add("crm-changes", {
    v: 1,
    provider: "hubspot",
    receivedAt: Date.now(),
    events: [hubspotEvent({ portalId: h.portalId, objectId: contactId as string, subscriptionType: "contact.creation" })],
  });
  await eventually(async () => (await h.prisma.lead.findFirst({ where: { email } })) ?? undefined, { what: `the lead ${email}` });
}

describe("worker metrics", () => {
  it("serves /health", async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, data: { status: "ok" } });
  });

  it("count HubSpot calls by portal and endpoint, job durations per queue, and events by outcome and reason", async () => {
    await applyCreation("metrics-1@example.com");
    const portal = String(h.portalId);
    const text = await eventually(
      async () => {
        const t = await scrape();
        return (sample(t, "leadsync_job_duration_seconds_count", { queue: "crm-changes", state: "completed" }) ?? 0) >= 1 ? t : undefined;
      },
      { what: "a completed job in the duration histogram" },
    );
    expect(sample(text, "leadsync_hubspot_calls_total", { portal, endpoint: "contacts batch read", status: "200" })).toBe(1);
    expect(sample(text, "leadsync_hubspot_call_duration_seconds_count", { portal, endpoint: "contacts batch read" })).toBe(1);
    expect(sample(text, "leadsync_webhook_events_total", { outcome: "processed", reason: "none" })).toBe(1);
    expect(text).toContain("# TYPE leadsync_job_duration_seconds histogram");
  });

  it("count 429s by portal, endpoint and HubSpot's policy", async () => {
    await h.fault({ kind: "rate_limit", count: 1, retryAfterSeconds: 1 });
    await applyCreation("metrics-2@example.com");
    const text = await scrape();
    const portal = String(h.portalId);
    expect(sample(text, "leadsync_hubspot_rate_limited_total", { portal, endpoint: "contacts batch read" })).toBe(1);
    expect(sample(text, "leadsync_hubspot_calls_total", { portal, endpoint: "contacts batch read", status: "429" })).toBe(1);
  });
});
