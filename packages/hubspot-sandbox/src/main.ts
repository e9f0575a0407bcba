import { randomBytes } from "node:crypto";
import pino from "pino";
import { startSandbox } from "./index.js";

/**
 * Runs the sandbox on its own: `tsx packages/hubspot-sandbox/src/main.ts`.
 * Env: HUBSPOT_SANDBOX_PORT [3100], HUBSPOT_CLIENT_SECRET [generated], WEBHOOK_TARGET_URL [none].
 */
const logger = pino({ name: "hubspot-sandbox", level: process.env["LOG_LEVEL"] ?? "info" });
const clientSecret = process.env["HUBSPOT_CLIENT_SECRET"] ?? randomBytes(24).toString("hex");
const webhookTargetUrl = process.env["WEBHOOK_TARGET_URL"];

const sandbox = await startSandbox({
  port: Number(process.env["HUBSPOT_SANDBOX_PORT"] ?? 3100),
  clientSecret,
  ...(webhookTargetUrl ? { webhookTargetUrl } : {}),
  logger,
});
const portal = sandbox.createPortal({ tier: "starter" });
logger.info(
  { url: sandbox.url, appId: sandbox.app.appId, portalId: portal.portalId, webhookTargetUrl: webhookTargetUrl ?? null },
  "HubSpot sandbox running; GET /__sandbox/portals for the access token, /__sandbox/app for the app's credentials",
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sandbox.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
