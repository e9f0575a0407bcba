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
});
