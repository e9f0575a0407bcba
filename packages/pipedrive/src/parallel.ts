import { isCrmRateLimited, type UpsertResult } from "@leadsync/core";
import { PipedriveApiError } from "./errors.js";

/**
 * Pipedrive writes one record per call, so throughput comes from parallel calls. `writeEach` runs `write` for every
 * input with at most `concurrency` in flight and keeps the provider seam's contract:
 * - a 4xx fails that input alone (`retryable: false`);
 * - a transient failure or a rate limit stops launching new calls; if nothing was written at all it is thrown (the
 *   job is retried or delayed as a whole), else the inputs not written come back `retryable: true` so what was
 *   written is kept.
 */
export async function writeEach<I extends { leadId: string }>(
  inputs: readonly I[],
  concurrency: number,
  write: (input: I) => Promise<UpsertResult>,
): Promise<UpsertResult[]> {
  const results: (UpsertResult | undefined)[] = new Array(inputs.length);
  let stop: unknown;
  let written = 0;
  let next = 0;

  const worker = async () => {
    while (stop === undefined && next < inputs.length) {
      const index = next++;
      const input = inputs[index] as I;
      try {
        const result = await write(input);
        if (result.ok) written++;
        results[index] = result;
      } catch (err) {
        if (err instanceof PipedriveApiError && !err.retryable) {
          results[index] = { leadId: input.leadId, ok: false, message: err.message, retryable: false };
        } else {
          stop ??= err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, inputs.length)) }, worker));

  if (stop !== undefined) {
    if (written === 0) throw stop;
    const message = stop instanceof Error ? stop.message : String(stop);
    // A rate limit says when there is budget again: those inputs wait for it rather than spend a retry.
    const wait = isCrmRateLimited(stop) ? { retryAfterMs: stop.retryAfterMs } : {};
    return inputs.map((input, i) => results[i] ?? { leadId: input.leadId, ok: false as const, message, retryable: true, ...wait });
  }
  return results as UpsertResult[];
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
