import { normalizeEmail } from "@leadsync/core";
import type { UpsertInput, UpsertResult } from "@leadsync/core";
import { HubSpotApiError } from "./errors.js";

/**
 * One batch upsert, narrowed when HubSpot rejects it: HubSpot answers 400 for the whole batch when a
 * single input carries an invalid value, and names the property but not the input. So we resend the
 * inputs that do not carry that property as one batch, and bisect the ones that do until each bad input
 * fails alone: one bad lead costs a few extra calls instead of failing 99 good ones.
 */

/** What `batchApi.upsert` resolves with (200, or 207 with `errors`). */
export interface UpsertBatchResponse {
  results: Array<{ id: string; _new: boolean; properties: Record<string, string | null>; objectWriteTraceId?: string }>;
  errors?: Array<{ message: string; category: string; context?: Record<string, string[] | undefined> }>;
}

export type SendUpsertBatch = (batch: readonly UpsertInput[]) => Promise<UpsertBatchResponse>;

/** Categories of per-input 207 errors worth retrying later; everything else is the input's fault. */
const TRANSIENT_CATEGORIES = new Set(["RATE_LIMITS", "INTERNAL_ERROR", "LOCKED"]);

export async function upsertWithNarrowing(inputs: readonly UpsertInput[], send: SendUpsertBatch): Promise<UpsertResult[]> {
  // HubSpot cannot upsert one email twice in a batch: merge duplicates (later values win), share the result.
  const byEmail = new Map<string, UpsertInput[]>();
  for (const input of inputs) {
    const email = normalizeEmail(input.email);
    byEmail.set(email, [...(byEmail.get(email) ?? []), input]);
  }
  const representatives = [...byEmail.values()].map((group) => ({
    ...(group[0] as UpsertInput),
    properties: Object.assign({}, ...group.map((g) => g.properties)) as Record<string, string>,
  }));

  const outcome = new Map((await attempt(representatives, send)).map((r) => [r.leadId, r]));
  return inputs.map((input) => {
    const leader = byEmail.get(normalizeEmail(input.email))?.[0] as UpsertInput;
    const result = outcome.get(leader.leadId) as UpsertResult;
    return { ...result, leadId: input.leadId };
  });
}

async function attempt(batch: readonly UpsertInput[], send: SendUpsertBatch): Promise<UpsertResult[]> {
  if (batch.length === 0) return [];
  try {
    return matchResults(batch, await send(batch));
  } catch (err) {
    if (!(err instanceof HubSpotApiError) || err.status !== 400) throw err;
    if (batch.length === 1) {
      return [{ leadId: (batch[0] as UpsertInput).leadId, ok: false, message: err.message, retryable: false }];
    }
    const rejected = rejectedProperties(err);
    const suspects = rejected.size > 0 ? batch.filter((i) => Object.keys(i.properties).some((p) => rejected.has(p))) : batch;
    const clean = batch.filter((i) => !suspects.includes(i));
    // If HubSpot's hint points at nothing we can tell apart, bisect everything.
    const [first, second] = halves(suspects.length > 0 ? suspects : batch);
    return [
      ...(suspects.length > 0 ? await attempt(clean, send) : []),
      ...(await attempt(first, send)),
      ...(await attempt(second, send)),
    ];
  }
}

function matchResults(batch: readonly UpsertInput[], response: UpsertBatchResponse): UpsertResult[] {
  const byTrace = new Map(response.results.filter((r) => r.objectWriteTraceId).map((r) => [r.objectWriteTraceId, r]));
  const byEmail = new Map(response.results.map((r) => [normalizeEmail(r.properties.email ?? ""), r]));
  return batch.map((input): UpsertResult => {
    const record = byTrace.get(input.leadId) ?? byEmail.get(normalizeEmail(input.email));
    if (record) return { leadId: input.leadId, ok: true, externalId: record.id, created: record._new, properties: record.properties };
    const error = response.errors?.find((e) => mentions(e.context, input));
    return {
      leadId: input.leadId,
      ok: false,
      message: error ? `HubSpot rejected the contact (${error.category}): ${error.message}` : "HubSpot returned no result for this contact",
      retryable: error ? TRANSIENT_CATEGORIES.has(error.category) : true,
    };
  });
}

function mentions(context: Record<string, string[] | undefined> | undefined, input: UpsertInput): boolean {
  if (!context) return false;
  const email = normalizeEmail(input.email);
  return Object.values(context).some((values) => values?.some((v) => v === input.leadId || normalizeEmail(v) === email));
}

/** Property names HubSpot blamed (`errors[].context.propertyName`, or `context.propertyName`). */
function rejectedProperties(err: HubSpotApiError): Set<string> {
  const names = new Set<string>();
  const add = (value: unknown) => {
    if (Array.isArray(value)) for (const v of value) if (typeof v === "string") names.add(v);
    if (typeof value === "string") names.add(value);
  };
  add(err.context?.propertyName);
  for (const detail of err.details) add(detail.context?.propertyName);
  return names;
}

function halves<T>(items: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(items.length / 2);
  return [items.slice(0, middle), items.slice(middle)];
}
