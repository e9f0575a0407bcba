import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/index.js";
import { CLIENT_SECRET, sdkClient } from "./helpers.js";

// A restarted sandbox can take back a portal of an earlier run: same id, same private-app token, its linked
// contacts with their ids (pnpm start restores its demo integration this way).

describe("recreating a portal of an earlier run", () => {
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it("answers the stored token for the stored portal id, and serves the restored contacts by their ids", async () => {
    sandbox = await startSandbox({ clientSecret: CLIENT_SECRET });
    const portal = sandbox.createPortal({ tier: "starter", portalId: 20_000_007, accessToken: "pat-na1-11111111-2222-3333-4444-555555555555" });
    expect(portal).toMatchObject({ portalId: 20_000_007, accessToken: "pat-na1-11111111-2222-3333-4444-555555555555" });
    sandbox.restoreContacts(20_000_007, [{ id: "5003", properties: { email: "Kept@Example.com", firstname: "Kept" } }]);

    const client = sdkClient(sandbox, portal.accessToken);
    const kept = await client.crm.contacts.basicApi.getById("5003", ["email", "firstname"]);
    expect(kept.properties).toMatchObject({ email: "kept@example.com", firstname: "Kept" });
    // A new contact never takes a restored id; the email index knows the restored contact.
    const created = await client.crm.contacts.basicApi.create({ properties: { email: "new@example.com" }, associations: [] });
    expect(Number(created.id)).toBeGreaterThan(5003);
    await expect(client.crm.contacts.basicApi.create({ properties: { email: "kept@example.com" }, associations: [] })).rejects.toMatchObject({ code: 409 });
    // Another token is still refused, and a later portal gets a fresh id above the recreated one.
    await expect(sdkClient(sandbox, "pat-na1-wrong").crm.contacts.basicApi.getById("5003")).rejects.toMatchObject({ code: 401 });
    expect(sandbox.createPortal().portalId).toBeGreaterThan(20_000_007);
  });

  it("refuses a portal id or token that is already taken, and contacts of an unknown portal", async () => {
    sandbox = await startSandbox({ clientSecret: CLIENT_SECRET });
    const first = sandbox.createPortal();
    expect(() => sandbox!.createPortal({ portalId: first.portalId })).toThrow(/already exists/);
    expect(() => sandbox!.createPortal({ accessToken: first.accessToken })).toThrow(/already in use/);
    expect(() => sandbox!.restoreContacts(1, [{ id: "1", properties: {} }])).toThrow(/does not exist/);
    sandbox.restoreContacts(first.portalId, [{ id: "7", properties: { email: "a@example.com" } }]);
    expect(() => sandbox!.restoreContacts(first.portalId, [{ id: "7", properties: {} }])).toThrow(/already exists/);
  });
});
