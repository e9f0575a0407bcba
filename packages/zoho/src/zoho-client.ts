import { CrmReauthRequiredError, normalizeEmail, type ContactPage, type CrmContact, type CrmProviderClient, type CrmProviderLimits, type ProviderLogger, type UpdateInput, type UpsertInput, type UpsertResult } from "@leadsync/core";
import { ZohoApiError } from "./errors.js";
import type { ZohoHttp } from "./http.js";
import { createValues, hasRequiredFields, toCrmContact, updateValues, zohoDateTime } from "./lead-values.js";
import { countLeads, getLeadsByIds, insertLeads, LEADS_BATCH_SIZE, LEADS_PAGE_SIZE, listLeads, updateLeads, upsertLeads, type ZohoRecordResult } from "./leads-api.js";
import { listLeadFields } from "./metadata-api.js";
import { requestFailed, toUpsertResult } from "./write-results.js";

/** Read with every record: the ledger and echo checks need them. */
const ALWAYS_READ = ["Email", "Modified_Time", "Modified_By"];

export interface ZohoClientOptions {
  http: ZohoHttp;
  /** the marker field's real api_name (read back at connect) */
  markerField: string;
  /** `LEAD_SOURCE_MARKER` */
  marker: string;
  logger: ProviderLogger;
}

/**
 * `CrmProviderClient` for one Zoho org's Leads. Writes go 100 per call with Zoho's per-record results (no narrowing
 * needed). Creates fill `Last_Name`/`Company` with a placeholder when the lead has none; updates never send one.
 */
export class ZohoLeadClient implements CrmProviderClient {
  readonly provider = "zoho";
  // Zoho stamps Modified_Time to the second.
  readonly limits: CrmProviderLimits = { maxBatchSize: LEADS_BATCH_SIZE, clockResolutionMs: 1000 };
  readonly markerField: string;

  constructor(private readonly options: ZohoClientOptions) {
    this.markerField = options.markerField;
  }

  async fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]> {
    const contacts: CrmContact[] = [];
    const fields = this.readFields(properties);
    for (const chunk of chunks([...new Set(ids)], LEADS_BATCH_SIZE)) {
      contacts.push(...(await getLeadsByIds(this.options.http, chunk, fields)).map(toCrmContact));
    }
    return contacts;
  }

  /**
   * Inserts; a taken email is not written and comes back with `existingId` (`DUPLICATE_DATA`), so the existing
   * record — and its marker — stays as it is.
   */
  async createContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    return this.inChunks("leads insert", inputs, async (chunk) => {
      const bodies = chunk.map((input) => createValues(input.properties, normalizeEmail(input.email), { field: this.markerField, value: this.options.marker }));
      return resultsFor(chunk, bodies, true, await answerOf(() => insertLeads(this.options.http, bodies)));
    });
  }

  /** Writes exactly the given values by id (blanks and placeholders left out); an unknown id fails alone. */
  async updateContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    return this.inChunks("leads update", inputs, async (chunk) => {
      const bodies = chunk.map((input) => updateValues(input.properties));
      const toSend = chunk.map((input, i) => ({ input, values: bodies[i] as Record<string, string> })).filter((e) => Object.keys(e.values).length > 0);
      const sent = new Map<string, UpsertResult>();
      if (toSend.length > 0) {
        const answer = await answerOf(() => updateLeads(this.options.http, toSend.map((e) => ({ id: e.input.externalId, ...e.values }))));
        const results = resultsFor(toSend.map((e) => e.input), toSend.map((e) => e.values), false, answer);
        for (const result of results) sent.set(result.leadId, result);
      }
      // nothing to write: the record already holds these values as far as we can write them
      return chunk.map((input) => sent.get(input.leadId) ?? { leadId: input.leadId, ok: true, externalId: input.externalId, created: false, properties: {} });
    });
  }

  /**
   * By email. Inputs that need nothing added — both required fields and the marker present — go through Zoho's upsert
   * (one call). The others are inserted (with placeholders and the marker) and, where the email is taken, updated by
   * id without them: an upsert cannot add a value only when it inserts, so it would write the placeholder over a
   * person's `Last_Name`/`Company` or leave a record we created without the marker.
   */
  async upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    const upsertable = (input: UpsertInput) => hasRequiredFields(input.properties) && (input.properties[this.markerField] ?? "") !== "";
    const complete = inputs.filter(upsertable);
    const partial = inputs.filter((input) => !upsertable(input));
    const byLead = new Map<string, UpsertResult>();
    const upserted = await this.inChunks("leads upsert", complete, async (chunk) => {
      const bodies = chunk.map((input) => ({ ...updateValues(input.properties), Email: normalizeEmail(input.email) }));
      return resultsFor(chunk, bodies, false, await answerOf(() => upsertLeads(this.options.http, bodies, ["Email"])));
    });
    for (const result of upserted) byLead.set(result.leadId, result);
    const created = await this.createContacts(partial);
    const taken = partial.flatMap((input, i) => {
      const result = created[i] as UpsertResult;
      if (!result.ok && result.existingId !== undefined) return [{ leadId: input.leadId, externalId: result.existingId, properties: input.properties }];
      byLead.set(input.leadId, result);
      return [];
    });
    for (const result of await this.updateContacts(taken)) byLead.set(result.leadId, result);
    return inputs.map((input) => byLead.get(input.leadId) as UpsertResult);
  }

  /** The Leads module's field api_names (field mappings are checked against them). */
  async listFieldNames(): Promise<string[]> {
    return (await listLeadFields(this.options.http)).map((field) => field.api_name);
  }

  /**
   * Every record in id order, 200 per page; `after` is Zoho's page token (opaque to the caller). The first page also
   * says how many records there are (`total`, one more credit), for the backfill's progress.
   */
  async listContactsAfter(afterId: string | undefined, properties: readonly string[], limit = LEADS_PAGE_SIZE): Promise<ContactPage> {
    const { records, info } = await listLeads(this.options.http, {
      fields: this.readFields(properties),
      sortBy: "id",
      perPage: Math.min(Math.max(1, limit), LEADS_PAGE_SIZE),
      pageToken: afterId,
    });
    const listed = page(records.map(toCrmContact), info.more_records === true ? info.next_page_token : undefined);
    const total = afterId === undefined ? await countLeads(this.options.http) : undefined;
    return total === undefined ? listed : { ...listed, total };
  }

  /** Records modified at or after `sinceMs` (second resolution), oldest first, through `If-Modified-Since` and page tokens. */
  async listContactsModifiedSince(sinceMs: number, after: string | undefined, properties: readonly string[]): Promise<ContactPage> {
    const { records, info } = await listLeads(this.options.http, {
      fields: this.readFields(properties),
      sortBy: "Modified_Time",
      perPage: LEADS_PAGE_SIZE,
      pageToken: after,
      modifiedSince: zohoDateTime(sinceMs),
    });
    return page(records.map(toCrmContact), info.more_records === true ? info.next_page_token : undefined);
  }

  private readFields(properties: readonly string[]): string[] {
    return [...new Set([...properties, ...ALWAYS_READ, this.markerField])];
  }

  /** A transient failure before any chunk was written throws (the job retries); after that the rest come back retryable. */
  private async inChunks<I extends { leadId: string }>(operation: string, inputs: readonly I[], write: (chunk: I[]) => Promise<UpsertResult[]>): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (const chunk of chunks(inputs, LEADS_BATCH_SIZE)) {
      try {
        results.push(...(await write(chunk)));
      } catch (err) {
        if (results.length === 0 || err instanceof CrmReauthRequiredError) throw err;
        this.options.logger.warn({ err, operation }, "Zoho write interrupted; remaining inputs left for retry");
        results.push(...chunk.map((input) => requestFailed(input.leadId, (err as Error).message, true)));
      }
    }
    return results;
  }
}

/** A write's per-record results, or the reason a 4xx refused the whole request (transient failures throw). */
type WriteAnswer = { results: ZohoRecordResult[] } | { refused: string };

async function answerOf(call: () => Promise<ZohoRecordResult[]>): Promise<WriteAnswer> {
  try {
    return { results: await call() };
  } catch (err) {
    if (err instanceof ZohoApiError && !err.retryable) return { refused: err.message };
    throw err;
  }
}

function resultsFor(inputs: readonly { leadId: string }[], bodies: readonly Record<string, string>[], created: boolean, answer: WriteAnswer): UpsertResult[] {
  return inputs.map((input, i) =>
    "refused" in answer
      ? requestFailed(input.leadId, answer.refused, false)
      : toUpsertResult(input.leadId, answer.results[i] as ZohoRecordResult, bodies[i] as Record<string, string>, created),
  );
}

function page(contacts: CrmContact[], next: string | null | undefined): ContactPage {
  return { contacts, ...(typeof next === "string" && next !== "" ? { after: next } : {}) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
