export { default as receiverPlugin, HUBSPOT_WEBHOOK_PATH, WEBHOOK_PATH_PREFIX, webhookPath, DEFAULT_ENQUEUE_TIMEOUT_MS, type ReceiverPluginOptions } from "./receiver-plugin.js";
export { buildReceiverApp, assertWebhookSecretUsable, type BuildReceiverAppOptions } from "./app.js";
export { changesJob, changesJobId } from "./webhook-job.js";
export { webhookMetrics } from "./metrics.js";
