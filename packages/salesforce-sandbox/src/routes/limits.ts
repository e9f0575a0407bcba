import type { FastifyPluginAsync } from "fastify";
import { apiContext } from "../http/api-guard.js";
import type { SandboxState } from "../state/sandbox-state.js";

/** `GET /limits`: the org's daily API allowance and event delivery, as the Limits resource names them. */
export const limitsRoutes: FastifyPluginAsync<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/services/data/:version/limits", async (request) => {
    const { org } = apiContext(request);
    const max = org.settings.dailyApiRequests;
    const delivered = org.deliveries.used();
    const allocation = org.settings.dailyDeliveredEvents;
    return {
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - org.usage.used()) },
      DailyDeliveredPlatformEvents: { Max: allocation, Remaining: Math.max(0, allocation - delivered) },
      ConcurrentRequests: { Max: org.settings.concurrentLongRunningLimit, Remaining: org.settings.concurrentLongRunningLimit },
      DataStorageMB: { Max: 5, Remaining: 5 },
      HourlyPublishedPlatformEvents: { Max: 50_000, Remaining: 50_000 },
      MonthlyPlatformEventsUsageEntitlement: { Max: 300_000, Remaining: Math.max(0, 300_000 - delivered) },
      retentionHours: state.options.retentionMs / 3_600_000,
    };
  });
};
