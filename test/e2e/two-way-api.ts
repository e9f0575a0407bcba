import { buildApiApp, signDevToken } from "../../apps/api/src/index.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { capturingLogger } from "../../apps/worker/test/helpers/log-capture.js";
import type { Harness } from "./harness.js";

/** The platform API on the harness's database and outbound queue, with the sandbox's developer app for webhooks. */
export async function startPlatformApi(h: Harness) {
  const config = { ...h.config, hubspot: { ...h.config.hubspot, developerApiKey: h.sandbox.app.developerApiKey } };
  const connection = createRedisConnection(h.config.redisUrl, { role: "producer", connectionName: "two-way-api" });
  const app = buildApiApp({ config, prisma: h.prisma, connection, queues: { crmOutbound: h.outbound }, logger: capturingLogger().logger });
  await app.ready();
  return {
    async call(orgId: string, method: "GET" | "POST" | "PATCH", url: string, body?: unknown) {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${signDevToken(config, orgId)}` },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: response.statusCode, body: response.json() as { success: boolean; data: any; error?: { code: string; message: string } } };
    },
    async close() {
      await app.close();
      connection.disconnect();
    },
  };
}

export type PlatformApi = Awaited<ReturnType<typeof startPlatformApi>>;
