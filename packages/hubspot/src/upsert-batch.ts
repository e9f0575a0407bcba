import { normalizeEmail } from "@leadsync/core";
import type { UpdateInput, UpsertInput, UpsertResult } from "@leadsync/core";
import { HubSpotApiError } from "./errors.js";

/**
 * One batch write (upsert, create, update), narrowed when HubSpot rejects it: HubSpot answers 400 (or 409)
 * for the whole batch when a single input carries an invalid value (or a taken email), and names the
 * property but not the input. So we resend the inputs that do not carry that property as one batch, and
 * bisect the ones that do until each bad input fails alone: one bad lead costs a few extra calls instead of
 * failing 99 good ones.
 */

/** What `batchApi.upsert` resolves with (200, or 207 with `errors`). */
export interface UpsertBatchResponse {
  results: Array<{ id: string; _new: boolean; properties: Record<string, string | null>; objectWriteTraceId?: string }>;
  errors?: Array<{ message: string; category: string; context?: Record<string, string[] | undefined> }>;
}

export type SendUpsertBatch = (batch: readonly UpsertInput[]) => Promise<UpsertBatchResponse>;

/** HubSpot's per-input error of a 207 (`StandardError`). */
interface BatchError {
  message: string;
  category: string;
  context?: Record<string, string[] | undefined>;
}

/** What `batchApi.create` / `batchApi.update` resolve with (201/200, or 207 with `errors`). */
export interface WriteBatchResponse {
  results: Array<{ id: string; properties: Record<string, string | null>; objectWriteTraceId?: string }>;
  errors?: BatchError[];
}

export type SendCreateBatch = (batch: readonly UpsertInput[]) => Promise<WriteBatchResponse>;
export type SendUpdateBatch = (batch: readonly UpdateInput[]) => Promise<WriteBatchResponse>;

/** The one stable hook of HubSpot's "email taken" answers (hubspot-facts.md §4.2). */
const EXISTING_ID = /Existing ID: (\d+)/;

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

  const outcome = new Map((await attempt(representatives, send, matchResults)).map((r) => [r.leadId, r]));
  return inputs.map((input) => {
    const leader = byEmail.get(normalizeEmail(input.email))?.[0] as UpsertInput;
    const result = outcome.get(leader.leadId) as UpsertResult;
    return { ...result, leadId: input.leadId };
  });
}

/**
 * Batch create with an `objectWriteTraceId` (the lead id) per input, so HubSpot reports failures per input (207).
 * An input whose email a contact already has comes back with that contact's id as `existingId`.
 */
export async function createWithNarrowing(inputs: readonly UpsertInput[], send: SendCreateBatch): Promise<UpsertResult[]> {
  return attempt(inputs, send, matchCreated);
}

/** Batch update by contact id; an id HubSpot does not know (deleted, merged away) fails alone. */
export async function updateWithNarrowing(inputs: readonly UpdateInput[], send: SendUpdateBatch): Promise<UpsertResult[]> {
  return attempt(inputs, send, matchUpdated);
}

/** A whole-batch answer that one input can cause: bad value (400) or a taken email (409). */
const NARROWABLE_STATUSES = new Set([400, 409]);

async function attempt<I extends { leadId: string; properties: Record<string, string> }, R>(
  batch: readonly I[],
  send: (batch: readonly I[]) => Promise<R>,
  match: (batch: readonly I[], response: R) => UpsertResult[],
): Promise<UpsertResult[]> {
  if (batch.length === 0) return [];
  try {
    return match(batch, await send(batch));
  } catch (err) {
    if (!(err instanceof HubSpotApiError) || err.status === undefined || !NARROWABLE_STATUSES.has(err.status)) throw err;
    if (batch.length === 1) return [rejection((batch[0] as I).leadId, err.message, false)];
    const rejected = rejectedProperties(err);
    const suspects = rejected.size > 0 ? batch.filter((i) => Object.keys(i.properties).some((p) => rejected.has(p))) : batch;
    const clean = batch.filter((i) => !suspects.includes(i));
    // If HubSpot's hint points at nothing we can tell apart, bisect everything.
    const [first, second] = halves(suspects.length > 0 ? suspects : batch);
    const results = [
      ...(suspects.length > 0 ? await attempt(clean, send, match) : []),
      ...(await attempt(first, send, match)),
      ...(await attempt(second, send, match)),
    ];
    // Back in input order, whatever order the narrowing resolved them in.
    const byLead = new Map(results.map((r) => [r.leadId, r]));
    return batch.map((i) => byLead.get(i.leadId) as UpsertResult);
  }
}

/** A failed input; a message naming a taken email's contact also carries its id. */
function rejection(leadId: string, message: string, retryable: boolean): UpsertResult {
  const existingId = EXISTING_ID.exec(message)?.[1];
  return { leadId, ok: false, message, retryable, ...(existingId === undefined ? {} : { existingId }) };
}

function matchCreated(batch: readonly UpsertInput[], response: WriteBatchResponse): UpsertResult[] {
  const byTrace = new Map(response.results.map((r) => [r.objectWriteTraceId, r]));
  return batch.map((input): UpsertResult => {
    const record = byTrace.get(input.leadId);
    if (record) return { leadId: input.leadId, ok: true, externalId: record.id, created: true, properties: record.properties };
    const error = response.errors?.find((e) => e.context?.["objectWriteTraceId"]?.includes(input.leadId));
    return batchErrorResult(input.leadId, error);
  });
}

function matchUpdated(batch: readonly UpdateInput[], response: WriteBatchResponse): UpsertResult[] {
  const byId = new Map(response.results.map((r) => [r.id, r]));
  return batch.map((input): UpsertResult => {
    const record = byId.get(input.externalId);
    if (record) return { leadId: input.leadId, ok: true, externalId: record.id, created: false, properties: record.properties };
    const error = response.errors?.find((e) => Object.values(e.context ?? {}).some((values) => values?.includes(input.externalId)));
    return batchErrorResult(input.leadId, error);
  });
}

function batchErrorResult(leadId: string, error: BatchError | undefined): UpsertResult {
  if (!error) return rejection(leadId, "HubSpot returned no result for this contact", true);
  return rejection(leadId, `HubSpot rejected the contact (${error.category}): ${error.message}`, TRANSIENT_CATEGORIES.has(error.category));
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
