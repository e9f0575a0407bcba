import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSalesforceSandbox, type SalesforceSandbox } from "../src/index.js";
import { admin, connection, lead } from "./helpers.js";

// With `snapshotPath` the emulator keeps its state across a restart (pnpm start's .leadsync/sandboxes/salesforce.json),
// the CDC event bus included: a subscriber resumes from the replay id it stored.

describe("a Salesforce emulator restarted on its snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "salesforce-snapshot-"));
  const snapshotPath = join(dir, "salesforce.json");
  let sandbox: SalesforceSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the connected app, org, sessions, refresh token, custom fields, records and the event bus's replay position", async () => {
    sandbox = await startSalesforceSandbox({ grpcPort: false, snapshotPath });
    const account = sandbox.createAccount({ customFields: { Lead_Source_System__c: { label: "Lead Source System", length: 64 } } });
    const created = await connection(sandbox, account).sobject("Lead").create({ ...lead(1), Lead_Source_System__c: "jazzaam" });
    const byUi = await admin<{ ids: string[] }>(sandbox, "POST", `/__sandbox/accounts/${account.accountId}/records`, { records: [lead(2)] });
    const org = () => sandbox!.state.orgs.get(account.accountId)!;
    const latest = org().changeLog.latestReplayId();
    const firstReplay = org().changeLog.retained()[0]!.replayId;
    const { clientId, clientSecret } = sandbox.state.options;
    const port = Number(new URL(sandbox.url).port);
    await sandbox.close();

    // The same port, as pnpm start's: the connect body's instance URL names it.
    sandbox = await startSalesforceSandbox({ port, grpcPort: false, snapshotPath });
    expect(sandbox.snapshot).toEqual({ path: snapshotPath, restored: true });
    expect(sandbox.state.options).toMatchObject({ clientId, clientSecret });
    // The old session still works. (Plain fetch from here: jsforce's pooled socket to the stopped server is dead.)
    const rest = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sandbox!.url}/services/data/v59.0${path}`, {
        method,
        headers: { authorization: `Bearer ${account.connect.accessToken}`, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const rows = (await rest("GET", "/query?q=SELECT+Id,+Lead_Source_System__c+FROM+Lead+ORDER+BY+Id")).body as { records: { Id: string; Lead_Source_System__c: string | null }[] };
    expect(rows.records.map((r) => [r.Id, r.Lead_Source_System__c])).toEqual([
      [(created as { id: string }).id, "jazzaam"],
      [byUi.body.ids[0], null],
    ]);
    // The bus: same latest replay id, the retained events still replayable, a new event continues above them.
    expect(org().changeLog.latestReplayId()).toBe(latest);
    expect(org().changeLog.isReplayable(firstReplay)).toBe(true);
    expect(org().changeLog.after(firstReplay - 1n, 10).map((e) => e.recordIds[0])).toEqual([(created as { id: string }).id, byUi.body.ids[0]]);
    expect(sandbox.state.schemaById(org().changeLog.retained()[0]!.schemaId)).toBeDefined();
    expect((await rest("PATCH", `/sobjects/Lead/${byUi.body.ids[0]}`, { FirstName: "Again" })).status).toBe(204);
    expect(org().changeLog.retained().at(-1)!.replayId).toBeGreaterThan(latest);
    // The refresh token of the connect body still refreshes.
    const refreshed = await fetch(`${sandbox.url}/services/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: account.connect.refreshToken, client_id: clientId, client_secret: clientSecret }),
    });
    expect(((await refreshed.json()) as { access_token: string }).access_token).toMatch(/^00D/);
    // A new org gets a new id.
    expect(sandbox.createAccount().accountId).not.toBe(account.accountId);
  });
});
