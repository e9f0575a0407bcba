import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/index.js";
import { admin, apiClient, mintToken, sandboxWithAccount } from "./helpers.js";

// With `snapshotPath` the emulator keeps its state across a restart (pnpm start's .leadsync/sandboxes/zoho.json).

describe("a Zoho CRM emulator restarted on its snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "zoho-snapshot-"));
  const snapshotPath = join(dir, "zoho.json");
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the OAuth client, org, tokens, Leads, custom fields and notification channels; new ids continue above the old", async () => {
    const first = await sandboxWithAccount({ snapshotPath });
    sandbox = first.sandbox;
    const created = await first.api("POST", "/crm/v8/Leads", { data: [{ Last_Name: "Kept", Email: "kept@example.com", Company: "Restart" }] });
    const leadId = created.body.data[0].details.id as string;
    const field = await first.api("POST", "/crm/v8/settings/fields?module=Leads", { fields: [{ field_label: "Lead Source System", data_type: "text", length: 64 }] });
    expect(field.status, JSON.stringify(field.body)).toBe(201);
    const watched = await first.api("POST", "/crm/v8/actions/watch", {
      watch: [{ channel_id: "1000000068001", events: ["Leads.all"], notify_url: "http://127.0.0.1:9/zoho", token: "secret-token", channel_expiry: new Date(Date.now() + 86_400_000).toISOString() }],
    });
    expect(watched.status, JSON.stringify(watched.body)).toBe(201);
    const app = sandbox.app;
    const ports = { port: Number(new URL(sandbox.url).port), apiPort: Number(new URL(sandbox.apiDomain).port) };
    await sandbox.close();
    await new Promise((resolve) => setTimeout(resolve, 100)); // fetch's pooled sockets notice the stopped server

    // The same ports, as pnpm start's: the connect body names the accounts server and the API domain.
    sandbox = await startSandbox({ ...ports, snapshotPath });
    expect(sandbox.snapshot).toEqual({ path: snapshotPath, restored: true });
    expect(sandbox.app).toEqual(app);
    expect(sandbox.accounts().map((a) => a.connect)).toEqual([first.account.connect]);
    const api = apiClient(sandbox, first.accessToken); // the old access token still works
    expect((await api("GET", `/crm/v8/Leads/${leadId}`)).body.data[0]).toMatchObject({ id: leadId, Email: "kept@example.com" });
    expect((await api("GET", "/crm/v8/settings/fields?module=Leads")).body.fields.some((f: { field_label: string }) => f.field_label === "Lead Source System")).toBe(true);
    expect((await api("GET", "/crm/v8/actions/watch")).body.watch[0]).toMatchObject({ channel_id: "1000000068001", events: ["Leads.all"] });
    // The refresh token of the connect body mints again; a new lead gets a new id above the old.
    const fresh = apiClient(sandbox, await mintToken(sandbox, first.account));
    const next = await fresh("POST", "/crm/v8/Leads", { data: [{ Last_Name: "New", Company: "Restart" }] });
    expect(BigInt(next.body.data[0].details.id)).toBeGreaterThan(BigInt(leadId));
    expect((await admin(sandbox, "POST", "/__sandbox/accounts", {})).body.accountId).not.toBe(first.account.accountId);
  });
});
