import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { bannerText } from "../../apps/dev/src/banner.js";
import { startDevPipeline, type DevPipeline } from "./in-process.js";

/** A provider with credentials set is the real CRM: `pnpm start` runs no emulator for it and connects nothing. */
describe("pnpm start with a CRM's credentials set", () => {
  let dev: DevPipeline;
  beforeAll(async () => {
    // A client id (Salesforce), and a URL of one's own (Pipedrive): both mean "not the emulator".
    dev = await startDevPipeline({ SALESFORCE_CLIENT_ID: "3MVGreal", SALESFORCE_CLIENT_SECRET: "real-secret", PIPEDRIVE_API_BASE: "http://127.0.0.1:9" });
  }, 60_000);
  afterAll(() => dev?.close());

  it("starts only the other emulators, keeps the configured values, and says so in the banner", () => {
    expect(dev.pipeline.summary.crms.map((crm) => crm.provider)).toEqual(["zoho"]);
    expect(dev.config.providers["salesforce"]).toMatchObject({ apiBase: "https://login.salesforce.com", clientId: "3MVGreal" });
    expect(dev.config.providers["pipedrive"]!.apiBase).toBe("http://127.0.0.1:9");
    expect(dev.config.providers["zoho"]!.apiBase).toBe(dev.pipeline.summary.crms[0]!.url);
    const banner = bannerText(dev.pipeline.summary);
    expect(banner).toContain("Salesforce         credentials set (SALESFORCE_CLIENT_ID or SALESFORCE_LOGIN_URL)");
    expect(banner).toContain("Pipedrive          credentials set");
    expect(banner).not.toContain("Salesforce → platform");
  });

  it("leaves no dev state entry that would point dev commands at an emulator for them", () => {
    const state = JSON.parse(readFileSync(dev.statePath, "utf8")) as { providers: Record<string, unknown> };
    expect(Object.keys(state.providers).sort()).toEqual(["hubspot", "zoho"]);
  });
});
