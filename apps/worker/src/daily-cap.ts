import type { Logger } from "@leadsync/config";
import type { PrismaClient } from "@leadsync/db";
import { isCrmRateLimited } from "@leadsync/core";
import type { RedisClient } from "@leadsync/queue";
import type { FlushFn } from "./coalescer.js";

/** The integration error code written when the portal's daily API cap stops its calls. */
export const DAILY_CAP_ERROR_CODE = "rate_limited_daily";

type DailyCapError = Error & { retryAfterMs: number; policy: string | undefined };

/** The CRM refused for its daily (or rolling 24 h) allowance, or our limiter did because the account's is used up. */
export function isDailyCapError(error: unknown): error is DailyCapError {
  return isCrmRateLimited(error) && error.daily;
}

export interface DailyCapLogDeps {
  prisma: PrismaClient;
  redis: RedisClient;
  /** RedisClient key prefix (the queue prefix): separate deployments sharing a RedisClient log separately. */
  keyPrefix: string;
  logger: Logger;
}

/**
 * Writes ONE `rate_limited_daily` row per integration until the cap resets. Every job of a capped portal hits
 * the cap (and every process sees it), so the first one claims a RedisClient key that lives until the reset time
 * (SET NX PX: atomic across processes) and only that one writes the row.
 */
export async function recordDailyCapOnce(deps: DailyCapLogDeps, integrationId: string, error: DailyCapError): Promise<void> {
  const resetAt = new Date(Date.now() + error.retryAfterMs);
  const key = `${deps.keyPrefix}:daily-cap-logged:${integrationId}`;
  const claimed = await deps.redis.set(key, resetAt.toISOString(), "PX", Math.max(1, Math.ceil(error.retryAfterMs)), "NX");
  if (claimed !== "OK") return;
  try {
    await deps.prisma.integrationError.create({
      data: {
        integrationId,
        code: DAILY_CAP_ERROR_CODE,
        message: `The CRM's daily API limit reached: calls are paused until ${resetAt.toISOString()} (when its allowance resets); queued work resumes then`,
        context: { policy: error.policy, resetAt: resetAt.toISOString() },
      },
    });
    deps.logger.warn({ integrationId, resetAt: resetAt.toISOString() }, "CRM daily API limit reached; calls paused until it resets");
  } catch (err) {
    await deps.redis.del(key).catch(() => undefined); // let the next job try to write it
    deps.logger.error({ err, integrationId }, "Could not write the daily-cap entry of the integration error log");
  }
}

/**
 * Wraps a batch flush: when it fails on the daily cap, the integration's error log says so (once per day) before
 * the error goes on to the jobs (which wait until the reset without using an attempt).
 */
export function withDailyCapLog<Item>(
  flush: FlushFn<Item>,
  integrationIdOf: (groupKey: string, items: readonly Item[]) => Promise<string | null>,
  deps: DailyCapLogDeps,
): FlushFn<Item> {
  return async (groupKey, items) => {
    try {
      return await flush(groupKey, items);
    } catch (error) {
      if (isDailyCapError(error)) {
        const integrationId = await integrationIdOf(groupKey, items).catch(() => null);
        if (integrationId) await recordDailyCapOnce(deps, integrationId, error);
      }
      throw error;
    }
  };
}
