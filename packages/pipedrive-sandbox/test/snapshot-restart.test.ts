import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/index.js";
import { raw } from "./helpers.js";

// With `snapshotPath` the emulator keeps its state across a restart (pnpm start's .leadsync/sandboxes/pipedrive.json).

describe("a Pipedrive emulator restarted on its snapshot", () => {
  const dir = mkdtempSync(join(tmpdir(), "pipedrive-snapshot-"));
  const snapshotPath = join(dir, "pipedrive.json");
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the company, its API tokens, persons, custom fields and webhooks; new ids continue above the old", async () => {
    sandbox = await startSandbox({ snapshotPath });
    const account = sandbox.createAccount();
    const token = account.apiToken;
    const person = await raw(sandbox, "/api/v2/persons", { method: "POST", token, body: { name: "Kept Person", emails: [{ value: "kept@example.com", primary: true }] } });
    const personId = (person.json!["data"] as { id: number }).id;
    const field = await raw(sandbox, "/v1/personFields", { method: "POST", token, body: { name: "Lead source system", field_type: "varchar" } });
    const fieldKey = (field.json!["data"] as { key: string }).key;
    const hook = await raw(sandbox, "/v1/webhooks", { method: "POST", token, body: { subscription_url: "http://127.0.0.1:9/pipedrive", event_action: "change", event_object: "person", version: "2.0", http_auth_user: "u", http_auth_password: "p" } });
    expect(hook.status, hook.text).toBe(201);
    const app = sandbox.app;
    const port = Number(new URL(sandbox.url).port);
    await sandbox.close();
    await new Promise((resolve) => setTimeout(resolve, 100)); // fetch's pooled sockets notice the stopped server

    sandbox = await startSandbox({ port, snapshotPath });
    expect(sandbox.snapshot).toEqual({ path: snapshotPath, restored: true });
    expect(sandbox.app).toEqual(app);
    expect(sandbox.accounts()).toEqual([account]);
    const kept = await raw(sandbox, `/api/v2/persons/${personId}`, { token });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.json!["data"]).toMatchObject({ id: personId, name: "Kept Person" });
    const fields = await raw(sandbox, "/v1/personFields", { token });
    expect((fields.json!["data"] as { key: string }[]).some((f) => f.key === fieldKey)).toBe(true);
    const hooks = await raw(sandbox, "/v1/webhooks", { token });
    expect((hooks.json!["data"] as { subscription_url: string }[]).map((w) => w.subscription_url)).toEqual(["http://127.0.0.1:9/pipedrive"]);
    const next = await raw(sandbox, "/api/v2/persons", { method: "POST", token, body: { name: "New Person" } });
    expect((next.json!["data"] as { id: number }).id).toBeGreaterThan(personId);
    expect(sandbox.createAccount().accountId).toBeGreaterThan(account.accountId);
  });
});
