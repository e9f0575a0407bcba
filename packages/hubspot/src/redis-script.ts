import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/** One Redis server or a Redis Cluster: every script here touches one slot (one portal's hash tag). */
export type RedisClient = Redis | Cluster;

/** A Lua script run by EVALSHA, loaded on first use (and again after a Redis restart: NOSCRIPT). */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes("NOSCRIPT")) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
