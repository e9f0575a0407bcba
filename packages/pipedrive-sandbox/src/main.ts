import pino from "pino";
import { startSandbox } from "./index.js";

/**
 * Runs the sandbox on its own: `tsx packages/pipedrive-sandbox/src/main.ts`.
 * Env: PIPEDRIVE_SANDBOX_PORT [3400], PIPEDRIVE_CLIENT_ID / PIPEDRIVE_CLIENT_SECRET [generated], LOG_LEVEL.
 */
const logger = pino({ name: "pipedrive-sandbox", level: process.env["LOG_LEVEL"] ?? "info" });
const clientId = process.env["PIPEDRIVE_CLIENT_ID"];
const clientSecret = process.env["PIPEDRIVE_CLIENT_SECRET"];

const sandbox = await startSandbox({
  port: Number(process.env["PIPEDRIVE_SANDBOX_PORT"] ?? 3400),
  ...(clientId ? { clientId } : {}),
  ...(clientSecret ? { clientSecret } : {}),
  logger,
});
const account = sandbox.createAccount({ plan: "growth" });
logger.info(
  { url: sandbox.url, accountId: account.accountId, plan: account.plan },
  "Pipedrive sandbox running; GET /__sandbox/accounts for the connect body, /__sandbox/app for the OAuth app",
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
