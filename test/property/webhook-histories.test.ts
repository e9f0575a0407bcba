import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../e2e/harness.js";

/**
 * Property: however HubSpot's webhook batches arrive — shuffled, duplicated (retries with attemptNumber + 1),
 * re-split into other batches — the leads end up equal to the contacts' final state, one lead per contact.
 *
 * A history of contact edits is played in the sandbox while its webhooks go to a capture server; the captured
 * events are then delivered, re-signed, in the order fast-check chooses to the real receiver → queue → workers.
 */

let h: Harness;
let capture: Server;
const captured = new Map<number, Record<string, unknown>[]>();

beforeAll(async () => {
  h = await startHarness();
  capture = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      for (const event of JSON.parse(body) as Record<string, unknown>[]) {
        const portalId = Number(event["portalId"]);
        captured.set(portalId, [...(captured.get(portalId) ?? []), event]);
      }
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
  // From now on the sandbox's webhooks land in the capture server (set like an app developer would, webhooks v3 API).
  const { appId, developerApiKey } = h.sandbox.app;
  const response = await fetch(`${h.sandbox.url}/webhooks/v3/${appId}/settings?hapikey=${developerApiKey}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ targetUrl: `http://127.0.0.1:${(capture.address() as AddressInfo).port}/`, throttling: { maxConcurrentRequests: 10 } }),
  });
  expect(response.ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => capture?.close(resolve));
});

const NAMES = ["Ada", "Grace", "Linus", "Émile", "\u202eRTL", "Zoë"];
const TITLES = ["CTO", "CEO", "Dev", ""];

const edit = fc.record({
  contact: fc.nat(3),
  firstname: fc.constantFrom(...NAMES),
  jobtitle: fc.constantFrom(...TITLES),
});

const delivery = fc.record({
  order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
  duplicates: fc.array(fc.nat(63), { maxLength: 8 }),
  cuts: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 16 }),
});

describe("property: delivery order, duplicates and batching do not change the final leads", () => {
  it("final leads equal the sandbox's final contacts", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(edit, { maxLength: 6 }), delivery, async (contactCount, edits, plan) => {
        runs++;
        const { portalId, integration } = await h.addIntegration({}, `prop-org-${runs}-${Date.now()}`);
        const emails = Array.from({ length: contactCount }, (_, i) => `p${runs}-${i}-${portalId}@prop.example`);
        const admin = async (method: string, path: string, body: unknown) => {
          const response = await fetch(`${h.sandbox.url}/__sandbox/portals/${portalId}${path}`, {
            method,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          expect(response.ok).toBe(true);
          return (await response.json()) as { ids: string[] };
        };
        const { ids } = await admin("POST", "/contacts", { contacts: emails.map((email) => ({ properties: { email, firstname: "Start" } })) });
        for (const e of edits) {
          const id = ids[e.contact % ids.length] ?? "";
          await admin("PATCH", `/contacts/${id}`, { properties: { firstname: e.firstname, jobtitle: e.jobtitle } });
        }
        await h.sandbox.webhooksIdle(10_000);
        const events = captured.get(portalId) ?? [];
        expect(events.length).toBeGreaterThan(0);

        // Shuffle by the generated keys, add HubSpot-style retries, then cut into batches of the generated sizes.
        const shuffled = events.map((event, i) => ({ event, key: plan.order[i % plan.order.length] ?? 0 })).sort((a, b) => a.key - b.key).map((x) => x.event);
        const retried = plan.duplicates.map((i) => shuffled[i % shuffled.length]).filter((e) => e !== undefined).map((e) => ({ ...e, attemptNumber: Number(e["attemptNumber"]) + 1 }));
        const stream = [...shuffled, ...retried];
        const batches: Record<string, unknown>[][] = [];
        for (let at = 0, c = 0; at < stream.length; c++) {
          const size = plan.cuts[c % plan.cuts.length] ?? 1;
          batches.push(stream.slice(at, at + size));
          at += size;
        }
        for (const batch of batches) expect(await h.postWebhook(batch)).toBe(200);
        await h.settled();

        const leads = await h.prisma.lead.findMany({ where: { orgId: integration.orgId } });
        expect(leads).toHaveLength(emails.length);
        for (const [i, id] of ids.entries()) {
          const contact = await fetch(`${h.sandbox.url}/__sandbox/portals/${portalId}/contacts/${id}`).then((r) => r.json() as Promise<{ properties: Record<string, string | null> }>);
          const lead = leads.find((l) => l.email === emails[i]);
          expect(lead?.firstName).toBe(contact.properties["firstname"]);
          // An empty CRM value never blanks a lead field (merge rule), so "" leaves the previous title.
          if (contact.properties["jobtitle"]) expect(lead?.jobTitle).toBe(contact.properties["jobtitle"]);
        }
      }),
      { numRuns: 15, endOnFailure: true },
    );
  }, 90_000);
});
