import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./harness.js";
import { startPlatformApi, type PlatformApi } from "./two-way-api.js";

// Issue 14: leads created while an integration did not push are offered, and sent by, a catch-up push.

let h: Harness;
let api: PlatformApi;
beforeAll(async () => {
  h = await startHarness();
  api = await startPlatformApi(h);
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

async function sandboxEmails(portalId: number): Promise<string[]> {
  const res = await fetch(`${h.sandbox.url}/__sandbox/portals/${portalId}/contacts`);
  const body = (await res.json()) as { results: { properties: Record<string, string> }[] };
  return body.results.map((c) => c.properties["email"] ?? "");
}

describe("catch-up push after switching an integration to push", () => {
  for (const before of [{ syncDirection: "from_crm" as const, autoSyncEnabled: true }, { syncDirection: "bidirectional" as const, autoSyncEnabled: false }]) {
    it(`leads created while ${before.autoSyncEnabled ? `direction was ${before.syncDirection}` : "auto-sync was off"} are offered on the switch and pushed by POST …/catch-up, with progress in webhook-status`, async () => {
      const orgId = `org-${randomUUID().slice(0, 8)}`;
      const { portalId, integration } = await h.addIntegration(before, orgId);
      const base = `/api/v1/crm-integration/${integration.id}`;
      for (const email of ["late-1@example.com", "late-2@example.com"]) {
        const created = await api.call(orgId, "POST", "/api/v1/leads", { email: `${before.syncDirection}-${before.autoSyncEnabled}-${email}` });
        expect(created.status).toBe(201);
      }
      // Not pushing: catch-up is refused, and nothing went to HubSpot.
      expect((await api.call(orgId, "POST", `${base}/catch-up`)).body.error?.code).toBe("outbound_sync_off");
      await h.settled();
      expect(await sandboxEmails(portalId)).toEqual([]);

      const switched = await api.call(orgId, "PATCH", base, { settings: { syncDirection: "bidirectional", autoSync: { enabled: true } } });
      expect(switched.status).toBe(200);
      const offer = (switched.body as unknown as { catchUp?: { unsent: number; route: string } }).catchUp;
      expect(offer).toEqual({ unsent: 2, route: `POST ${base}/catch-up` });
      expect((switched.body as unknown as { message: string }).message).toMatch(/2 lead\(s\) were never sent/);

      const status = await api.call(orgId, "GET", `${base}/webhook-status`);
      expect(status.body.data.catchUp).toEqual({ unsent: 2, lastRun: null });

      const started = await api.call(orgId, "POST", `${base}/catch-up`);
      expect(started.status).toBe(202);
      expect(started.body.data).toEqual({ queued: 2 });

      await eventually(async () => {
        const s = await api.call(orgId, "GET", `${base}/webhook-status`);
        return s.body.data.catchUp.unsent === 0 ? s : undefined;
      }, { timeoutMs: 15_000, what: "the catch-up to send both leads" });
      const emails = await sandboxEmails(portalId);
      expect(emails.sort()).toEqual([`${before.syncDirection}-${before.autoSyncEnabled}-late-1@example.com`, `${before.syncDirection}-${before.autoSyncEnabled}-late-2@example.com`]);
      const done = await api.call(orgId, "GET", `${base}/webhook-status`);
      expect(done.body.data.catchUp).toMatchObject({ unsent: 0, lastRun: { queued: 2 } });
      expect(await h.prisma.leadCrmLink.count({ where: { integrationId: integration.id } })).toBe(2);

      // Nothing left: a second catch-up queues nothing, and switching again offers nothing.
      expect((await api.call(orgId, "POST", `${base}/catch-up`)).body.data).toEqual({ queued: 0 });
    }, 40_000);
  }
});
