import pino from "pino";
import { startSalesforceSandbox } from "./index.js";

/**
 * Runs the sandbox on its own: `tsx packages/salesforce-sandbox/src/main.ts`.
 * Env: SALESFORCE_SANDBOX_PORT [3200], SALESFORCE_SANDBOX_GRPC_PORT [3201], SALESFORCE_SANDBOX_GRPC_TLS [false],
 * SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET [generated], LOG_LEVEL [info].
 */
const logger = pino({ name: "salesforce-sandbox", level: process.env["LOG_LEVEL"] ?? "info" });
const clientId = process.env["SALESFORCE_CLIENT_ID"];
const clientSecret = process.env["SALESFORCE_CLIENT_SECRET"];

const sandbox = await startSalesforceSandbox({
  port: Number(process.env["SALESFORCE_SANDBOX_PORT"] ?? 3200),
  grpcPort: Number(process.env["SALESFORCE_SANDBOX_GRPC_PORT"] ?? 3201),
  grpcTls: process.env["SALESFORCE_SANDBOX_GRPC_TLS"] === "true",
  ...(clientId ? { clientId } : {}),
  ...(clientSecret ? { clientSecret } : {}),
  logger,
});
const account = sandbox.createAccount();
logger.info(
  { url: sandbox.url, pubsubUrl: sandbox.pubsubUrl ?? null, accountId: account.accountId },
  "Salesforce sandbox running; GET /__sandbox/accounts for connect bodies, /__sandbox/app for the connected app",
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
