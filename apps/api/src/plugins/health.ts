import type { PrismaClient } from "@leadsync/db";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RedisClient } from "@leadsync/queue";
import { z } from "zod";
import { ServiceUnavailableError } from "../errors.js";
import { errorResponse } from "../schemas.js";

/** A dependency that does not answer within this is reported down (a hung check must not hang the probe). */
const CHECK_TIMEOUT_MS = 2000;

type Status = "up" | "down";

async function probe(check: () => Promise<unknown>): Promise<Status> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return "up";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health: the process answers. GET /ready: Postgres and Redis answer too (503 names the one that does not). */
const healthRoutes: FastifyPluginAsyncZod<{ prisma: PrismaClient; connection: RedisClient }> = async (app, { prisma, connection }) => {
  app.get(
    "/health",
    { schema: { tags: ["operations"], summary: "Liveness", response: { 200: z.object({ success: z.literal(true), data: z.object({ status: z.literal("ok") }) }) } } },
    async () => ({ success: true as const, data: { status: "ok" as const } }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness: Postgres and Redis reachable",
        response: {
          200: z.object({ success: z.literal(true), data: z.object({ postgres: z.literal("up"), redis: z.literal("up") }) }),
          503: errorResponse,
        },
      },
    },
    async (request) => {
      const [postgres, redis] = await Promise.all([
        probe(() => prisma.$queryRaw`SELECT 1`),
        // A BullMQ connection queues commands while disconnected instead of failing: check its state first.
        probe(async () => {
          if (connection.status !== "ready") throw new Error(connection.status);
          await connection.ping();
        }),
      ]);
      if (postgres === "up" && redis === "up") return { success: true as const, data: { postgres, redis } };
      const down = [postgres === "down" && "postgres", redis === "down" && "redis"].filter(Boolean).join(" and ");
      request.log.warn({ postgres, redis }, "not ready");
      throw new ServiceUnavailableError("not_ready", `Not ready: ${down} unreachable`, { postgres, redis });
    },
  );
};

export default healthRoutes;
