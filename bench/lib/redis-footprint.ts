import type { createRedisConnection } from "../../packages/queue/src/index.js";

type Redis = ReturnType<typeof createRedisConnection>;

/** Redis's own figure for the whole server (every prefix, other users of this Redis included). */
export async function usedMemoryBytes(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

export interface PrefixFootprint {
  keys: number;
  bytes: number;
  /** Key count and MEMORY USAGE bytes per kind of key (ids replaced by `*`), largest first. */
  byKind: { kind: string; keys: number; bytes: number }[];
}

/**
 * Every key under `prefix` (SCAN, not DBSIZE: this Redis is shared) with its MEMORY USAGE, grouped by kind:
 * a BullMQ job hash, a queue's list or set, a rate-limit window, …
 */
export async function prefixFootprint(redis: Redis, prefix: string): Promise<PrefixFootprint> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  const kinds = new Map<string, { keys: number; bytes: number }>();
  let cursor = "0";
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory("USAGE", key);
    const sizes = (await pipeline.exec()) ?? [];
    batch.forEach((key, i) => {
      const size = Number(sizes[i]?.[1] ?? 0);
      const kind = kindOf(key.slice(prefix.length));
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += size;
      kinds.set(kind, entry);
      keys++;
      bytes += size;
    });
  } while (cursor !== "0");
  return { keys, bytes, byKind: [...kinds].map(([kind, v]) => ({ kind, ...v })).sort((a, b) => b.bytes - a.bytes) };
}

/** `:crm-changes:hubspot-3f…` → `:crm-changes:<job>`; numbers and uuids → `*`. */
function kindOf(rest: string): string {
  return rest
    .replace(/:[a-z]+-[0-9a-f]{64}(?=:|$)/g, ":<job>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "*")
    .replace(/\d+/g, "*");
}
