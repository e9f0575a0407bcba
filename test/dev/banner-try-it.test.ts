import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bannerText } from "../../apps/dev/src/banner.js";
import { startDevPipeline, type DevPipeline } from "./in-process.js";

/** The banner's commands after its "Try it" heading, in order, as a user copies them. */
function tryItCommands(banner: string): string[] {
  const tail = banner.slice(banner.indexOf("Try it"));
  return tail
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^(curl|for|until|while) /.test(line));
}

/** Pastes lines into one bash, with the banner's `export TOKEN=…` done before (async: the pipeline runs in this process). */
function paste(lines: string[], token: string): Promise<string> {
  const child = spawn("bash", ["--norc", "--noprofile", "-c", lines.join("\n")], { env: { PATH: process.env["PATH"], TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on("exit", () => resolve(output)));
}

describe("the banner's 'try it' commands, pasted", () => {
  let dev: DevPipeline;
  beforeAll(async () => {
    dev = await startDevPipeline();
  }, 60_000);
  afterAll(() => dev?.close());

  it("HubSpot → platform: pasted together, the second command shows the lead (it waits for it)", async () => {
    const commands = tryItCommands(bannerText(dev.pipeline.summary));
    const output = await paste(commands.slice(0, 2), dev.pipeline.summary.devJwt);
    const last = output.trim().split("\n").at(-1)!;
    const leads = JSON.parse(last) as { data: { email: string }[] };
    expect(leads.data.map((l) => l.email)).toEqual(["ada@example.com"]);
  }, 40_000);

  it("platform → HubSpot: a POST /api/v1/leads command, then the contact shows in the sandbox's admin route", async () => {
    const commands = tryItCommands(bannerText(dev.pipeline.summary));
    expect(commands.some((c) => c.includes("-X POST") && c.includes("/api/v1/leads"))).toBe(true);
    const output = await paste(commands.slice(2, 4), dev.pipeline.summary.devJwt);
    const contacts = JSON.parse(output.trim().split("\n").at(-1)!) as { results: { properties: Record<string, string> }[] };
    const grace = contacts.results.find((c) => c.properties["email"] === "grace@example.com");
    expect(grace?.properties).toMatchObject({ firstname: "Grace", lastname: "Hopper", lead_source_system: dev.config.leadSourceMarker });
  }, 40_000);

  /** The banner's steps for one CRM emulator: two blocks of two commands each, after HubSpot's. */
  function crmBlocks(provider: string): { inbound: string[]; outbound: string[] } {
    const summary = dev.pipeline.summary;
    const index = summary.crms.findIndex((crm) => crm.provider === provider);
    expect(index, `the banner has no ${provider} emulator`).toBeGreaterThanOrEqual(0);
    const commands = tryItCommands(bannerText(summary)).slice(4 + index * 4, 8 + index * 4);
    return { inbound: commands.slice(0, 2), outbound: commands.slice(2, 4) };
  }

  it("lists every CRM emulator with its URL and demo integration id", () => {
    const banner = bannerText(dev.pipeline.summary);
    expect(dev.pipeline.summary.crms.map((crm) => crm.provider)).toEqual(["salesforce", "zoho", "pipedrive"]);
    for (const crm of dev.pipeline.summary.crms) {
      expect(banner).toContain(`${crm.displayName} emulator`);
      expect(banner).toContain(crm.url);
      expect(banner).toContain(crm.integrationId);
    }
  });

  for (const provider of ["salesforce", "zoho", "pipedrive"]) {
    it(`${provider} → platform: the record created by the pasted command becomes a lead linked to the demo integration`, async () => {
      const { inbound } = crmBlocks(provider);
      const output = await paste(inbound, dev.pipeline.summary.devJwt);
      const leads = JSON.parse(output.trim().split("\n").at(-1)!) as { data: { email: string; source: string; crm: { integrationId: string }[] }[] };
      const crm = dev.pipeline.summary.crms.find((c) => c.provider === provider)!;
      expect(leads.data.map((l) => l.email)).toEqual([`ada.${provider}@example.com`]);
      expect(leads.data[0]!.crm.map((link) => link.integrationId)).toContain(crm.integrationId);
    }, 40_000);

    it(`platform → ${provider}: the pasted lead shows as a record in the emulator's admin route, marked as ours`, async () => {
      const { outbound } = crmBlocks(provider);
      expect(outbound[0]).toContain("/api/v1/leads");
      const output = await paste(outbound, dev.pipeline.summary.devJwt);
      const last = output.trim().split("\n").at(-1)!;
      expect(last).toContain(`grace.${provider}@example.com`);
      expect(last).toContain(dev.config.leadSourceMarker);
    }, 40_000);
  }
});
