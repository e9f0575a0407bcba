import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordChange } from "@leadsync/core";
import { startSalesforceSandbox, type SalesforceSandbox } from "@leadsync/salesforce-sandbox";
import { createSalesforcePulledFeed, salesforceProvider } from "../src/index.js";
import { admin, connectedSandbox, input, seedLeads, type Connected } from "./sandbox-helpers.js";
import { silentLogger } from "./test-limiter.js";

let sandbox: SalesforceSandbox;
beforeAll(async () => {
  sandbox = await startSalesforceSandbox({ grpcPort: 0, keepaliveMs: 60_000 });
});
afterAll(async () => {
  await sandbox.close();
});

interface Recorder {
  changes: RecordChange[];
  checkpoints: string[];
  gaps: string[];
  errors: unknown[];
  deliver(changes: RecordChange[], checkpoint: string): Promise<void>;
  onGap(reason: string): void;
  onError(error: unknown): void;
}

function recorder(failFirst = 0): Recorder {
  let failures = failFirst;
  const r: Recorder = {
    changes: [],
    checkpoints: [],
    gaps: [],
    errors: [],
    async deliver(changes, checkpoint) {
      if (failures > 0) {
        failures--;
        throw new Error("queue unavailable");
      }
      r.changes.push(...changes);
      r.checkpoints.push(checkpoint);
    },
    onGap: (reason) => r.gaps.push(reason),
    onError: (error) => r.errors.push(error),
  };
  return r;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Connected through the provider, Pub/Sub URL from the connect body, the integration user known. */
async function connectedWithFeed(): Promise<Connected> {
  const connected = await connectedSandbox({}, sandbox);
  const parsed = salesforceProvider.connectBody.safeParse({ ...connected.account.connect, pubSubUrl: `grpc://${sandbox.grpcUrl}` });
  if (!parsed.success) throw new Error("connect body rejected");
  const account = await salesforceProvider.connect(parsed.data, connected.env);
  Object.assign(connected.context.integration, { state: account.state });
  return connected;
}

const subscribers = (accountId: string) => [...(sandbox.state.subscriptions as Set<{ orgId: string }>)].filter((s) => s.orgId === accountId).length;

async function start(connected: Connected, r: Recorder, resumeFrom: string | null = null) {
  const before = subscribers(connected.account.accountId);
  const feed = await (salesforceProvider.pulledFeed as NonNullable<typeof salesforceProvider.pulledFeed>).start(connected.context, {
    resumeFrom,
    deliver: (changes, checkpoint) => r.deliver(changes, checkpoint),
    onGap: (reason) => r.onGap(reason),
    onError: (error) => r.onError(error),
  });
  await waitFor("the subscription", () => subscribers(connected.account.accountId) > before || r.gaps.length > 0);
  return feed;
}

describe("Salesforce change feed over the Pub/Sub API (gRPC against the emulator)", () => {
  it("names our own write self and a person's edit other, with the changed fields' values", async () => {
    const connected = await connectedWithFeed();
    const r = recorder();
    const feed = await start(connected, r);
    try {
      const client = salesforceProvider.createClient(connected.context);
      const [created] = await client.createContacts([input(1)]);
      const id = (created as { externalId: string }).externalId;
      await waitFor("our create", () => r.changes.length >= 1);
      expect(r.changes[0]).toMatchObject({ provider: "salesforce", accountId: connected.account.accountId, recordId: id, kind: "create", type: "CREATE", origin: "self" });
      expect(r.changes[0]?.fields).toMatchObject({ Email: "person1@example.com", Lead_Source_System__c: "jazzaam" });

      await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}/records/${id}`, { Title: "CTO", Phone: null });
      await waitFor("the person's edit", () => r.changes.length >= 2);
      expect(r.changes[1]).toMatchObject({ recordId: id, kind: "update", origin: "other" });
      expect(r.changes[1]?.fields).toMatchObject({ Title: "CTO" });

      await admin(sandbox, "DELETE", `/__sandbox/accounts/${connected.account.accountId}/records/${id}`);
      await admin(sandbox, "POST", `/__sandbox/accounts/${connected.account.accountId}/records/${id}/undelete`);
      await waitFor("delete and undelete", () => r.changes.length >= 4);
      expect(r.changes.slice(2).map((c) => c.kind)).toEqual(["delete", "restore"]);
      expect(new Set(r.changes.map((c) => c.identity)).size).toBe(4);
      expect(r.errors).toEqual([]);
    } finally {
      await feed.close();
    }
  });

  it("closed while it waits for an access token, it never opens the stream and close() returns at once", async () => {
    const connected = await connectedWithFeed();
    const r = recorder();
    let release: () => void = () => undefined;
    const tokenGate = new Promise<void>((resolve) => (release = resolve));
    const realToken = connected.context.getAccessToken;
    const context = { ...connected.context, getAccessToken: async (o?: { forceRefresh?: boolean }) => (await tokenGate, realToken(o)) };
    const feed = await (salesforceProvider.pulledFeed as NonNullable<typeof salesforceProvider.pulledFeed>).start(context, {
      resumeFrom: null,
      deliver: (changes, checkpoint) => r.deliver(changes, checkpoint),
      onGap: (reason) => r.onGap(reason),
      onError: (error) => r.onError(error),
    });
    const closing = feed.close();
    release(); // the token arrives after close() began
    const started = Date.now();
    await closing;
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscribers(connected.account.accountId)).toBe(0);
  });

  it("carries a burst through in acknowledged batches of at most 50, each event once", async () => {
    const connected = await connectedWithFeed();
    const r = recorder();
    const sizes: number[] = [];
    const deliver = r.deliver;
    r.deliver = async (changes, checkpoint) => {
      sizes.push(changes.length);
      // a slow queue: the stream must wait for it, not run ahead
      await new Promise((resolve) => setTimeout(resolve, 5));
      return deliver(changes, checkpoint);
    };
    const feed = await start(connected, r);
    try {
      const results = await salesforceProvider.createClient(connected.context).createContacts(Array.from({ length: 250 }, (_, n) => input(5000 + n)));
      await waitFor("250 creates", () => r.changes.length >= 250);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(r.changes).toHaveLength(250);
      expect(new Set(r.changes.map((c) => c.recordId))).toEqual(new Set(results.map((x) => (x as { externalId: string }).externalId)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
      expect(r.changes.every((c) => c.origin === "self")).toBe(true);
    } finally {
      await feed.close();
    }
  });

  it("recognises our collections writes by the integration user when changeOrigin names no client", async () => {
    const connected = await connectedWithFeed();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}`, { collectionsCallOptions: false });
    const r = recorder();
    const feed = await start(connected, r);
    try {
      await salesforceProvider.createClient(connected.context).createContacts([input(2)]);
      await waitFor("our create", () => r.changes.length >= 1);
      expect(r.changes[0]).toMatchObject({ kind: "create", origin: "self" });
    } finally {
      await feed.close();
    }
  });

  it("resumes from the stored checkpoint: nothing lost, nothing doubled", async () => {
    const connected = await connectedWithFeed();
    const first = recorder();
    const feed = await start(connected, first);
    const ids = await seedLeads(sandbox, connected.account.accountId, [
      { LastName: "A", Company: "C", Email: "a1@example.com" },
      { LastName: "B", Company: "C", Email: "b1@example.com" },
    ]);
    await waitFor("two creates", () => first.changes.length >= 2);
    await feed.close();
    const checkpoint = first.checkpoints.at(-1) as string;

    // while no one listens
    for (const id of ids) await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}/records/${id}`, { Title: "while away" });
    const second = recorder();
    const resumed = await start(connected, second, checkpoint);
    try {
      await waitFor("the two missed edits", () => second.changes.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(second.changes.map((c) => [c.recordId, c.kind])).toEqual(ids.map((id) => [id, "update"]));
      expect(second.gaps).toEqual([]);
    } finally {
      await resumed.close();
    }
  });

  it("does not acknowledge a batch whose deliver failed: it comes again", async () => {
    const connected = await connectedWithFeed();
    const r = recorder(1);
    connected.context.integration = { ...connected.context.integration };
    const feed = await start(connected, r);
    try {
      const [id] = await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Retry", Company: "C", Email: "retry@example.com" }]);
      await waitFor("the redelivered create", () => r.changes.length >= 1, 10_000);
      expect(r.errors).toHaveLength(1);
      expect(r.changes).toHaveLength(1);
      expect(r.changes[0]).toMatchObject({ recordId: id, kind: "create" });
    } finally {
      await feed.close();
    }
  });

  it("turns gap events into reads and an overflow into reconciliation", async () => {
    const connected = await connectedWithFeed();
    const r = recorder();
    const feed = await start(connected, r);
    try {
      await admin(sandbox, "POST", "/__sandbox/faults", { accountId: connected.account.accountId, kind: "gap_events", count: 1 });
      const [id] = await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Gap", Company: "C", Email: "gap@example.com" }]);
      await waitFor("the gap event", () => r.changes.length >= 1);
      expect(r.changes[0]).toMatchObject({ recordId: id, kind: "update", type: "GAP_CREATE" });
      expect(r.changes[0]).not.toHaveProperty("fields");

      await admin(sandbox, "POST", "/__sandbox/faults", { accountId: connected.account.accountId, kind: "overflow_events", count: 1 });
      await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}/records/${id}`, { Title: "x" });
      await waitFor("the overflow", () => r.gaps.length >= 1);
      expect(r.gaps[0]).toMatch(/GAP_OVERFLOW/);
    } finally {
      await feed.close();
    }
  });

  it("reports a checkpoint past retention as a gap and carries on from LATEST", async () => {
    const connected = await connectedWithFeed();
    const first = recorder();
    const feed = await start(connected, first);
    const [id] = await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Old", Company: "C", Email: "old@example.com" }]);
    await waitFor("a create", () => first.changes.length >= 1);
    await feed.close();
    await admin(sandbox, "POST", `/__sandbox/accounts/${connected.account.accountId}/events/age`, { hours: 73 });

    const later = recorder();
    const resumed = await start(connected, later, first.checkpoints.at(-1) as string);
    try {
      await waitFor("the gap", () => later.gaps.length >= 1);
      expect(later.gaps[0]).toMatch(/replay id/);
      await waitFor("the LATEST subscription", () => subscribers(connected.account.accountId) > 0);
      await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}/records/${id}`, { Title: "after the gap" });
      await waitFor("a new edit", () => later.changes.length >= 1);
      expect(later.changes[0]).toMatchObject({ recordId: id, kind: "update", origin: "other" });
    } finally {
      await resumed.close();
    }
  });

  it("reports a spent CDC delivery allocation as a daily rate limit", async () => {
    const connected = await connectedWithFeed();
    await admin(sandbox, "PATCH", `/__sandbox/accounts/${connected.account.accountId}`, { dailyDeliveredEvents: 0 });
    const logged: Array<{ obj: { err?: unknown }; msg?: string }> = [];
    const logger = { ...silentLogger, error: (obj: object, msg?: string) => logged.push({ obj, ...(msg === undefined ? {} : { msg }) }), child: () => logger };
    connected.context.logger = logger;
    const r = recorder();
    const feed = await start(connected, r);
    try {
      await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Over", Company: "C", Email: "over@example.com" }]);
      await waitFor("the limit log line", () => logged.length >= 1);
      expect(logged[0]?.obj.err).toMatchObject({ name: "SalesforceRateLimitedError", daily: true, policy: "DailyDeliveredPlatformEvents" });
      // a wait, not a failure: the caller is not asked to resubscribe
      expect(r.errors).toEqual([]);
      expect(r.changes).toEqual([]);
    } finally {
      await feed.close();
    }
  });

  it("refreshes a refused session once and subscribes", async () => {
    const connected = await connectedWithFeed();
    await admin(sandbox, "POST", `/__sandbox/accounts/${connected.account.accountId}/expire-access-token`);
    const r = recorder();
    const feed = await start(connected, r);
    try {
      expect(connected.refreshes.count).toBe(1);
      await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Fresh", Company: "C", Email: "fresh@example.com" }]);
      await waitFor("an event", () => r.changes.length >= 1);
      expect(r.errors).toEqual([]);
    } finally {
      await feed.close();
    }
  });
});

describe("TLS", () => {
  it("subscribes over grpcs:// with the emulator's generated root CA", async () => {
    const secure = await startSalesforceSandbox({ grpcPort: 0, grpcTls: true });
    try {
      const connected = await connectedSandbox({}, secure);
      const feed = createSalesforcePulledFeed({ pubSubUrl: `grpcs://${secure.grpcUrl?.replace("127.0.0.1", "localhost")}`, rootCertPem: secure.tls?.caPem as string });
      const r = recorder();
      const handle = await feed.start(connected.context, { resumeFrom: null, deliver: r.deliver, onGap: r.onGap, onError: r.onError });
      try {
        await waitFor("the subscription", () => [...(secure.state.subscriptions as Set<{ orgId: string }>)].some((s) => s.orgId === connected.account.accountId));
        await seedLeads(secure, connected.account.accountId, [{ LastName: "Tls", Company: "C", Email: "tls@example.com" }]);
        await waitFor("an event over TLS", () => r.changes.length >= 1);
        expect(r.errors).toEqual([]);
      } finally {
        await handle.close();
      }
    } finally {
      await secure.close();
    }
  });
});

describe("endpoint from the environment", () => {
  it("takes the Pub/Sub URL from the provider environment (feedEndpoint)", async () => {
    const connected = await connectedSandbox({}, sandbox);
    const context = { ...connected.context, env: { ...connected.env, feedEndpoint: `grpc://${sandbox.grpcUrl ?? ""}` } };
    const r = recorder();
    const feed = await (salesforceProvider.pulledFeed as NonNullable<typeof salesforceProvider.pulledFeed>).start(context, { resumeFrom: null, deliver: r.deliver, onGap: r.onGap, onError: r.onError });
    try {
      await waitFor("the subscription", () => subscribers(connected.account.accountId) > 0);
      await seedLeads(sandbox, connected.account.accountId, [{ LastName: "Env", Company: "C", Email: "env@example.com" }]);
      await waitFor("an event", () => r.changes.length >= 1);
      expect(r.errors).toEqual([]);
    } finally {
      await feed.close();
    }
  });
});

describe("keepalives", () => {
  it("deliver an empty batch with the stream's position, so a quiet checkpoint stays fresh", async () => {
    const quiet = await startSalesforceSandbox({ grpcPort: 0, keepaliveMs: 150 });
    try {
      const connected = await connectedSandbox({}, quiet);
      const parsed = salesforceProvider.connectBody.safeParse({ ...connected.account.connect, pubSubUrl: `grpc://${quiet.grpcUrl}` });
      if (!parsed.success) throw new Error("rejected");
      Object.assign(connected.context.integration, { state: (await salesforceProvider.connect(parsed.data, connected.env)).state });
      const r = recorder();
      const feed = await (salesforceProvider.pulledFeed as NonNullable<typeof salesforceProvider.pulledFeed>).start(connected.context, { resumeFrom: null, ...r, deliver: r.deliver });
      try {
        await waitFor("a keepalive checkpoint", () => r.checkpoints.length >= 1);
        expect(r.changes).toEqual([]);
      } finally {
        await feed.close();
      }
    } finally {
      await quiet.close();
    }
  });
});
