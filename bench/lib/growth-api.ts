import type { FastifyInstance } from "fastify";
import { buildApiApp } from "../../apps/api/src/app.js";
import { signDevToken } from "../../apps/api/src/dev-token.js";
import { createLogger } from "../../packages/config/src/index.js";
import { createExplainingPrisma, type CapturedPlan } from "../../packages/db/src/testing.js";
import { createRedisConnection } from "../../packages/queue/src/index.js";
import { onCleanup } from "./cleanup.js";
import type { BenchEnvironment } from "./environment.js";

/**
 * `GET /api/v1/leads` as the platform calls it: latency against the API process over HTTP (one request at a time,
 * so each is the query's cost, not a queue's), and the plans of its statements from an in-process copy of the same
 * app whose Prisma client explains everything it runs.
 */
export interface ApiProbe {
  /** `count` sequential requests after `warmup` unmeasured ones; the time of each (ms). */
  latencies(path: string, count: number, warmup?: number): Promise<number[]>;
  explain(path: string): Promise<CapturedPlan[]>;
}

export async function createApiProbe(env: BenchEnvironment, apiUrl: string): Promise<ApiProbe> {
  const authorization = `Bearer ${signDevToken(env.config, env.orgId)}`;
  const explaining = createExplainingPrisma(env.db.url);
  const connection = createRedisConnection(env.config.redisUrl, { role: "producer" });
  const app: FastifyInstance = buildApiApp({
    config: env.config,
    prisma: explaining.prisma,
    connection,
    queues: { crmOutbound: env.outbound },
    logger: createLogger({ name: "bench-growth-api", level: "warn", pretty: false }),
  });
  await app.ready();
  onCleanup("explaining api", async () => {
    await app.close();
    await explaining.close();
    connection.disconnect();
  });

  async function get(path: string): Promise<void> {
    const response = await fetch(`${apiUrl}${path}`, { headers: { authorization } });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET ${path} → ${response.status}: ${body.slice(0, 200)}`);
  }

  return {
    async latencies(path, count, warmup = 10) {
      for (let i = 0; i < warmup; i++) await get(path);
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        await get(path);
        samples.push(performance.now() - started);
      }
      return samples;
    },
    async explain(path) {
      explaining.take();
      const response = await app.inject({ method: "GET", url: path, headers: { authorization } });
      if (response.statusCode !== 200) throw new Error(`GET ${path} (in-process) → ${response.statusCode}: ${response.body.slice(0, 200)}`);
      return explaining.take();
    },
  };
}
