import pino from "pino";
import { startSandbox } from "./index.js";

/**
 * Runs the emulator on its own: `tsx packages/zoho-sandbox/src/main.ts`.
 * Env: ZOHO_SANDBOX_PORT [3300] (accounts server + admin), ZOHO_SANDBOX_API_PORT [port + 1; 0 with port 0] (api domain),
 * ZOHO_CLIENT_ID / ZOHO_CLIENT_SECRET [generated], LOG_LEVEL.
 */
const logger = pino({ name: "zoho-sandbox", level: process.env["LOG_LEVEL"] ?? "info" });
const port = Number(process.env["ZOHO_SANDBOX_PORT"] ?? 3300);
const clientId = process.env["ZOHO_CLIENT_ID"];
const clientSecret = process.env["ZOHO_CLIENT_SECRET"];

const sandbox = await startSandbox({
  port,
  apiPort: Number(process.env["ZOHO_SANDBOX_API_PORT"] ?? (port === 0 ? 0 : port + 1)),
  ...(clientId ? { clientId } : {}),
  ...(clientSecret ? { clientSecret } : {}),
  logger,
});
const account = sandbox.createAccount();
logger.info(
  { url: sandbox.url, apiDomain: sandbox.apiDomain, accountId: account.accountId },
  "Zoho CRM sandbox running; GET /__sandbox/accounts for the connect body, /__sandbox/app for the OAuth client",
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
