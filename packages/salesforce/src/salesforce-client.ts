import { normalizeEmail } from "@leadsync/core";
import type { ContactPage, CrmContact, CrmProviderClient, CrmProviderLimits, ProviderLogger, UpdateInput, UpsertInput, UpsertResult } from "@leadsync/core";
import { CONTACT_KEY_PREFIX, SALESFORCE_BATCH_SIZE } from "./constants.js";
import { SalesforceApiError, toSalesforceError } from "./errors.js";
import { createBody, leadFieldOf, toCrmContact, updateBody } from "./lead-properties.js";
import { CANNOT_UPDATE_CONVERTED_LEAD, codeOf, toUpsertResult, type SaveResult } from "./save-results.js";
import type { SalesforceSession } from "./session.js";
import { dateTimeLiteral, idList, isFieldName, isRecordId, parseSalesforceDateTime, quote, selectList } from "./soql.js";

/** A SOQL answer page. */
interface QueryResult {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
}

/** Fields every Lead read needs besides the requested ones: identity, order, and where a converted lead went. */
const LEAD_SYSTEM_FIELDS = ["Id", "SystemModstamp", "IsConverted", "ConvertedContactId"];

/**
 * Contact fields a converted lead's values are read from (the same API names on both objects). `Company` has no
 * Contact field (it is the Account's name), so it and custom fields keep the lead's last value.
 */
const CONTACT_FIELDS = new Set(["Email", "FirstName", "LastName", "Phone", "MobilePhone", "Title", "Salutation", "Fax", "LeadSource"]);

/** Page size asked of SOQL (`Sforce-Query-Options: batchSize`): one provider batch per page. */
const QUERY_BATCH_SIZE = SALESFORCE_BATCH_SIZE;

/** `Email IN (…)` lookups stay well under the 16 KB URI limit even with 80-character emails. */
const MAX_EMAIL_LOOKUP_CHARS = 6_000;

export interface SalesforceClientOptions {
  session: SalesforceSession;
  orgId: string;
  markerField: string;
  logger: ProviderLogger;
}

/** `after` of `listContactsModifiedSince`: the query locator, and the keyset to restart from when the locator expired. */
interface ModifiedCursor {
  /** `nextRecordsUrl` */
  u: string;
  /** last record's SystemModstamp (ms) and Id */
  t: number;
  i: string;
}

/**
 * `CrmProviderClient` for one Salesforce org, object Lead. Every call goes through the session (shared budget,
 * concurrency slot, usage headers, one refresh on a refused session).
 *
 * Converted leads: Salesforce turns a lead into a Contact and the lead becomes read-only. The record id we keep is
 * still the lead's (the link, the change feed and reconciliation all speak lead ids), and reads follow
 * `ConvertedContactId` so the sync sees the person's current values; an update the lead refuses
 * (`CANNOT_UPDATE_CONVERTED_LEAD`) is written to that Contact instead. A converted lead thus stays linked.
 */
export class SalesforceClient implements CrmProviderClient {
  readonly provider = "salesforce";
  /** Salesforce datetimes (SystemModstamp, LastModifiedDate) come in whole seconds (`….000+0000`). */
  readonly limits: CrmProviderLimits = { maxBatchSize: SALESFORCE_BATCH_SIZE, clockResolutionMs: 1000 };
  readonly markerField: string;
  private readonly session: SalesforceSession;
  private readonly logger: ProviderLogger;
  /** Lead's field names (lower case), once a read met a field the org does not have. */
  private knownFields: Set<string> | undefined;

  constructor(options: SalesforceClientOptions) {
    this.session = options.session;
    this.markerField = options.markerField;
    this.logger = options.logger.child({ provider: "salesforce", orgId: options.orgId });
  }

  /**
   * Reads Leads by id with the sObject Collections retrieve (`POST /composite/sobjects/Lead {ids, fields}`), 200 per
   * call: a lookup by key, where a `WHERE Id IN (…)` query makes the org plan a query. Missing ids answer null.
   */
  async fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]> {
    const wanted = [...new Set(ids)].filter(isRecordId);
    const contacts: CrmContact[] = [];
    for (const chunk of chunks(wanted, SALESFORCE_BATCH_SIZE)) {
      const records = await this.withKnownFields((known) =>
        this.session.call("lead read", (conn) =>
          conn.request<Array<Record<string, unknown> | null>>(
            { method: "POST", url: "/composite/sobjects/Lead", body: JSON.stringify({ ids: chunk, fields: this.fieldList(properties, known) }), headers: { "content-type": "application/json" } },
            this.session.requestOptions(),
          ),
        ),
      );
      contacts.push(...(await this.withConversions(records.filter((r): r is Record<string, unknown> => r !== null), properties)));
    }
    return contacts;
  }

  /**
   * Creates or updates by email: one lookup per batch, then a collections create and a collections update. One email
   * twice in a batch is written once (later values win) and both inputs share the result.
   */
  async upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    return this.writeInChunks("lead upsert", inputs, async (batch) => {
      const byEmail = new Map<string, UpsertInput[]>();
      for (const input of batch) byEmail.set(normalizeEmail(input.email), [...(byEmail.get(normalizeEmail(input.email)) ?? []), input]);
      const chunk = [...byEmail.values()].map((group) => ({ ...(group[0] as UpsertInput), properties: Object.assign({}, ...group.map((g) => g.properties)) as Record<string, string> }));
      const shared = await this.upsertDistinct(chunk);
      return batch.map((input) => {
        const leader = (byEmail.get(normalizeEmail(input.email)) as UpsertInput[])[0] as UpsertInput;
        return { ...(shared.get(leader.leadId) as UpsertResult), leadId: input.leadId };
      });
    });
  }

  /** `upsertContacts` for inputs with distinct emails: result by lead id. */
  private async upsertDistinct(chunk: readonly UpsertInput[]): Promise<Map<string, UpsertResult>> {
    const existing = await this.leadsByEmail(chunk.map((i) => i.email));
    const results = new Map<string, UpsertResult>();
    const toCreate: UpsertInput[] = [];
    const toUpdate: UpdateInput[] = [];
    for (const input of chunk) {
      const match = existing.get(normalizeEmail(input.email));
      if (match === undefined) toCreate.push(input);
      else if ("ambiguous" in match) results.set(input.leadId, ambiguous(input, match.ambiguous));
      // A record that already exists keeps its origin: the marker goes only to records we create.
      else toUpdate.push({ leadId: input.leadId, externalId: match.id, properties: this.withoutMarker(input.properties) });
    }
    for (const r of await this.createLeads(toCreate)) results.set(r.leadId, r);
    for (const r of await this.updateLeads(toUpdate)) results.set(r.leadId, r);
    return results;
  }

  /**
   * Creates one Lead per input (collections, 200 per call, `allOrNone: false`). An email a Lead already has is not
   * written: the lookup before the create, or the org's duplicate rule (`DUPLICATES_DETECTED`), names the existing
   * Lead as `existingId`, and nothing of ours — least of all the marker — is set on it here.
   */
  async createContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    return this.writeInChunks("lead create", inputs, async (chunk) => {
      const existing = await this.leadsByEmail(chunk.map((i) => i.email));
      const results = new Map<string, UpsertResult>();
      for (const input of chunk) {
        const match = existing.get(normalizeEmail(input.email));
        if (match === undefined) continue;
        if ("ambiguous" in match) results.set(input.leadId, ambiguous(input, match.ambiguous));
        else results.set(input.leadId, { leadId: input.leadId, ok: false, retryable: false, existingId: match.id, message: `Salesforce already has Lead ${match.id} with this email` });
      }
      for (const r of await this.createLeads(chunk.filter((i) => !results.has(i.leadId)))) results.set(r.leadId, r);
      return chunk.map((i) => results.get(i.leadId) as UpsertResult);
    });
  }

  async updateContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    return this.writeInChunks("lead update", inputs, (chunk) => this.updateLeads(chunk));
  }

  /** Lead's field names as this org has them (describe; custom fields included), for checking field mappings. */
  async listFieldNames(): Promise<string[]> {
    const names = await this.describeLeadFields();
    this.knownFields = new Set(names.map((n) => n.toLowerCase()));
    return names;
  }

  /** Every live Lead with an id above `afterId`, in id order (Salesforce ids sort by creation within an org). */
  async listContactsAfter(afterId: string | undefined, properties: readonly string[], limit = SALESFORCE_BATCH_SIZE): Promise<ContactPage> {
    const size = Math.max(1, Math.min(limit, 2000));
    const where = afterId === undefined ? "" : ` WHERE Id > ${quote(checkedId(afterId))}`;
    const page = await this.leadPage("lead backfill page", properties, (select) => `SELECT ${select} FROM Lead${where} ORDER BY Id LIMIT ${size}`);
    const contacts = await this.withConversions(page.records, properties);
    const last = page.records.at(-1);
    return { contacts, ...(page.records.length >= size && last ? { after: String(last["Id"]) } : {}) };
  }

  /**
   * Leads modified at or after `sinceMs`, oldest first (`SystemModstamp, Id`), a page per call through the query
   * locator (`nextRecordsUrl`). `after` also carries the last record's (SystemModstamp, Id): a locator that expired
   * (15 minutes idle) restarts the run from there instead of from the beginning.
   */
  async listContactsModifiedSince(sinceMs: number, after: string | undefined, properties: readonly string[]): Promise<ContactPage> {
    const cursor = after === undefined ? undefined : decodeCursor(after);
    let page: QueryResult;
    let records: Array<Record<string, unknown>>;
    if (!cursor) {
      page = await this.leadPage("lead reconciliation page", properties, (select) => modifiedSoql(select, sinceMs));
      records = page.records;
    } else {
      try {
        page = await this.queryMore("lead reconciliation page", cursor.u);
      } catch (err) {
        if (!(err instanceof SalesforceApiError) || err.errorCode !== "INVALID_QUERY_LOCATOR") throw err;
        this.logger.info({ since: cursor.t }, "Salesforce query locator expired; resuming reconciliation from the last record read");
        page = await this.leadPage("lead reconciliation page", properties, (select) => modifiedSoql(select, cursor.t));
      }
      // A no-op on a locator's own pages (they continue after the key); after a restart from the key's second,
      // it drops what was already read, on however many pages that takes.
      records = page.records.filter((r) => isAfterKey(r, cursor));
    }
    const contacts = await this.withConversions(records, properties);
    if (page.done || !page.nextRecordsUrl) return { contacts, total: page.totalSize };
    // The key only moves forward: a page wholly before it (a restart's first pages) keeps the old one.
    const last = records.at(-1);
    const key = last ? { t: parseSalesforceDateTime(last["SystemModstamp"]), i: String(last["Id"]) } : cursor ? { t: cursor.t, i: cursor.i } : undefined;
    if (!key) return { contacts, total: page.totalSize };
    return { contacts, after: encodeCursor({ u: page.nextRecordsUrl, ...key }), total: page.totalSize };
  }

  // ---- writes ----

  private async createLeads(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    if (inputs.length === 0) return [];
    const bodies = inputs.map((i) => createBody(i.properties, i.email, this.markerField));
    const results = await this.collections("lead create", "POST", bodies.map((body) => ({ attributes: { type: "Lead" }, ...body })));
    return inputs.map((input, index) => toUpsertResult(input.leadId, results[index], true, bodies[index] as Record<string, string>));
  }

  private async updateLeads(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    const bodies = inputs.map((i) => updateBody(i.properties, this.markerField));
    const sendable = inputs.map((_, index) => index).filter((index) => Object.keys(bodies[index] as object).length > 0);
    const sent = sendable.length === 0 ? [] : await this.collections("lead update", "PATCH", sendable.map((index) => ({ attributes: { type: "Lead" }, id: inputs[index]?.externalId, ...bodies[index] })));
    const results: UpsertResult[] = inputs.map((input, index) => {
      const position = sendable.indexOf(index);
      // Nothing left to write (only placeholders): the record already holds what matters.
      if (position < 0) return { leadId: input.leadId, ok: true, externalId: input.externalId, created: false, properties: {} };
      return toUpsertResult(input.leadId, sent[position], false, bodies[index] as Record<string, string>);
    });
    const converted = inputs.filter((_, index) => {
      const position = sendable.indexOf(index);
      return position >= 0 && codeOf(sent[position]?.errors?.[0]) === CANNOT_UPDATE_CONVERTED_LEAD;
    });
    if (converted.length === 0) return results;
    const followed = new Map((await this.updateConvertedContacts(converted)).map((r) => [r.leadId, r]));
    return results.map((r) => followed.get(r.leadId) ?? r);
  }

  /** The lead was converted: its person is a Contact now, so the update goes there (the link keeps the lead's id). */
  private async updateConvertedContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    const leads = await this.queryAll("converted lead lookup", `SELECT Id, ConvertedContactId FROM Lead WHERE Id IN ${idList(inputs.map((i) => i.externalId))}`);
    const contactOf = new Map(leads.map((r) => [String(r["Id"]), typeof r["ConvertedContactId"] === "string" ? r["ConvertedContactId"] : undefined]));
    const writable = inputs
      .map((input) => ({ input, contactId: contactOf.get(input.externalId) ?? contactOf.get(input.externalId.slice(0, 15)), body: contactBody(updateBody(input.properties, this.markerField)) }))
      .filter((w): w is { input: UpdateInput; contactId: string; body: Record<string, string> } => w.contactId !== undefined && Object.keys(w.body).length > 0);
    if (writable.length === 0) return [];
    const sent = await this.collections("converted contact update", "PATCH", writable.map((w) => ({ attributes: { type: "Contact" }, id: w.contactId, ...w.body })));
    this.logger.info({ leads: writable.length }, "Salesforce leads were converted; their updates went to the converted Contacts");
    return writable.map((w, index) => {
      const result = toUpsertResult(w.input.leadId, sent[index], false, w.body);
      // The link keeps the lead's id: the feed, reconciliation and later reads all name the lead.
      return result.ok ? { ...result, externalId: w.input.externalId } : result;
    });
  }

  /** `POST|PATCH /composite/sobjects`, `allOrNone: false`: one result per record, in order. */
  private async collections(operation: string, method: "POST" | "PATCH", records: readonly Record<string, unknown>[]): Promise<SaveResult[]> {
    return this.session.call(operation, (conn) =>
      conn.request<SaveResult[]>(
        { method, url: "/composite/sobjects", body: JSON.stringify({ allOrNone: false, records }), headers: { "content-type": "application/json" } },
        this.session.requestOptions(),
      ),
    );
  }

  /**
   * Chunks of 200. A transient failure before any chunk was written throws (the job is retried or delayed);
   * after that the remaining inputs come back as retryable failures so what was written is not lost.
   */
  private async writeInChunks<I extends { leadId: string }>(operation: string, inputs: readonly I[], write: (chunk: I[]) => Promise<UpsertResult[]>): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (const chunk of chunks(inputs, SALESFORCE_BATCH_SIZE)) {
      try {
        results.push(...(await write(chunk)));
      } catch (err) {
        const error = toSalesforceError(err, operation);
        const retryable = !(error instanceof SalesforceApiError) || error.retryable;
        if (results.length === 0 || !retryable) throw error;
        this.logger.warn({ err: error }, `Salesforce ${operation} interrupted; remaining inputs left for retry`);
        results.push(...chunk.map((input) => ({ leadId: input.leadId, ok: false as const, message: error.message, retryable: true })));
      }
    }
    return results;
  }

  // ---- reads ----

  /**
   * Existing Leads by normalised email (SOQL compares text case-insensitively). One live, unconverted Lead is the
   * match; none but converted ones: the newest converted (its person is that Contact now). Several unconverted
   * Leads with one email is ambiguous (Salesforce answers an external-id upsert like that with 300): the input
   * fails with their ids rather than our picking one.
   */
  private async leadsByEmail(emails: readonly string[]): Promise<Map<string, EmailMatch>> {
    const unique = [...new Set(emails.map(normalizeEmail))].filter((e) => e !== "");
    const found = new Map<string, { open: string[]; converted: string[] }>();
    for (const group of byLength(unique, MAX_EMAIL_LOOKUP_CHARS)) {
      const records = await this.queryAll("lead lookup by email", `SELECT Id, Email, IsConverted FROM Lead WHERE Email IN (${group.map(quote).join(", ")}) ORDER BY Id`);
      for (const record of records) {
        const email = typeof record["Email"] === "string" ? normalizeEmail(record["Email"]) : "";
        const entry = found.get(email) ?? { open: [], converted: [] };
        (record["IsConverted"] === true ? entry.converted : entry.open).push(String(record["Id"]));
        found.set(email, entry);
      }
    }
    const matches = new Map<string, EmailMatch>();
    for (const [email, { open, converted }] of found) {
      if (open.length > 1) matches.set(email, { ambiguous: open });
      else if (open.length === 1) matches.set(email, { id: open[0] as string });
      else if (converted.length > 0) matches.set(email, { id: converted.at(-1) as string });
    }
    return matches;
  }

  /** Converted leads read their values from the Contact they became (Contact fields only; the rest stays the lead's). */
  private async withConversions(records: ReadonlyArray<Record<string, unknown>>, properties: readonly string[]): Promise<CrmContact[]> {
    const contactIds = [...new Set(records.filter(isConverted).map((r) => String(r["ConvertedContactId"])))];
    const contacts = new Map<string, Record<string, unknown>>();
    if (contactIds.length > 0) {
      const fields = properties.map((p) => leadFieldOf(p, this.markerField)).filter((f) => CONTACT_FIELDS.has(f));
      try {
        for (const c of await this.readContacts(contactIds, fields)) contacts.set(String(c["Id"]), c);
      } catch (err) {
        if (err instanceof SalesforceApiError && err.retryable) throw err;
        // No access to Contacts (profile, or an org without them): the lead's values at conversion still stand.
        this.logger.warn({ err }, "could not read the Contacts of converted Salesforce leads; using the leads' values");
      }
    }
    return records.map((record) => {
      const id = String(record["Id"]);
      const contact = isConverted(record) ? contacts.get(String(record["ConvertedContactId"])) : undefined;
      if (!contact) return toCrmContact(id, record, properties, this.markerField);
      const merged: Record<string, unknown> = { ...record };
      for (const field of CONTACT_FIELDS) if (field in contact) merged[field] = contact[field];
      const updatedAt = Math.max(parseSalesforceDateTime(record["SystemModstamp"]) || 0, parseSalesforceDateTime(contact["SystemModstamp"]) || 0);
      return toCrmContact(id, merged, properties, this.markerField, updatedAt);
    });
  }

  /**
   * Contacts by id: SOQL, 200 per call. Where Contact cannot be queried (`INVALID_TYPE`: the emulator serves
   * Contacts only as single records) each is read by id, one call apiece; converted leads are few.
   */
  private async readContacts(ids: readonly string[], fields: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const select = selectList(["Id", "SystemModstamp", ...fields]);
    try {
      const out: Array<Record<string, unknown>> = [];
      for (const chunk of chunks(ids, SALESFORCE_BATCH_SIZE)) out.push(...(await this.queryAll("converted contact read", `SELECT ${select} FROM Contact WHERE Id IN ${idList(chunk)}`)));
      return out;
    } catch (err) {
      if (!(err instanceof SalesforceApiError) || err.errorCode !== "INVALID_TYPE") throw err;
    }
    const out: Array<Record<string, unknown>> = [];
    for (const id of ids) {
      if (!isRecordId(id)) continue;
      try {
        out.push(await this.session.call("converted contact read", (conn) => conn.request<Record<string, unknown>>(`/sobjects/Contact/${id}`, this.session.requestOptions())));
      } catch (err) {
        if (!(err instanceof SalesforceApiError) || (err.errorCode !== "NOT_FOUND" && err.errorCode !== "ENTITY_IS_DELETED")) throw err;
      }
    }
    return out;
  }

  /** The fields of a Lead read: system fields plus the requested properties' fields (invalid or unknown names dropped). */
  private fieldList(properties: readonly string[], known: ReadonlySet<string> | undefined): string[] {
    const fields = properties.map((p) => leadFieldOf(p, this.markerField));
    const unusable = fields.filter((f) => !isFieldName(f) || (known !== undefined && !known.has((f.split(".")[0] ?? f).toLowerCase())));
    if (unusable.length > 0) this.logger.warn({ fields: unusable }, "ignoring properties that are not fields of this org's Lead");
    return selectList([...LEAD_SYSTEM_FIELDS, ...fields.filter((f) => !unusable.includes(f))]).split(", ");
  }

  /**
   * A Lead read of the requested properties. A mapped field the org does not have (`INVALID_FIELD`: a mapping typo,
   * a field an admin deleted) would fail every read; instead it is dropped (after one describe, cached) and the read
   * sent again, so the other fields keep syncing.
   */
  private async withKnownFields<T>(read: (known: ReadonlySet<string> | undefined) => Promise<T>): Promise<T> {
    try {
      return await read(this.knownFields);
    } catch (err) {
      if (!(err instanceof SalesforceApiError) || err.errorCode !== "INVALID_FIELD" || this.knownFields !== undefined) throw err;
      this.knownFields = new Set((await this.describeLeadFields()).map((n) => n.toLowerCase()));
      return read(this.knownFields);
    }
  }

  /** One page of a Lead query of the requested properties (see `withKnownFields`). */
  private leadPage(operation: string, properties: readonly string[], soql: (select: string) => string): Promise<QueryResult> {
    return this.withKnownFields((known) => this.query(operation, soql(this.fieldList(properties, known).join(", "))));
  }

  private async describeLeadFields(): Promise<string[]> {
    const describe = await this.session.call("lead describe", (conn) => conn.request<{ fields?: Array<{ name: string }> }>("/sobjects/Lead/describe", this.session.requestOptions()));
    return (describe.fields ?? []).map((f) => f.name);
  }

  private query(operation: string, soql: string): Promise<QueryResult> {
    return this.session.call(operation, (conn) =>
      conn.request<QueryResult>(
        { method: "GET", url: `/query?q=${encodeURIComponent(soql)}`, headers: { "Sforce-Query-Options": `batchSize=${QUERY_BATCH_SIZE}` } },
        this.session.requestOptions(),
      ),
    );
  }

  private queryMore(operation: string, nextRecordsUrl: string): Promise<QueryResult> {
    if (!nextRecordsUrl.startsWith("/services/data/")) throw new Error("not a Salesforce query locator URL");
    return this.session.call(operation, (conn) =>
      conn.request<QueryResult>({ method: "GET", url: nextRecordsUrl, headers: { "Sforce-Query-Options": `batchSize=${QUERY_BATCH_SIZE}` } }, this.session.requestOptions()),
    );
  }

  /** Every page of a query (for lookups whose size we bound ourselves). */
  private async queryAll(operation: string, soql: string): Promise<Array<Record<string, unknown>>> {
    let page = await this.query(operation, soql);
    const records = [...page.records];
    while (!page.done && page.nextRecordsUrl) {
      page = await this.queryMore(operation, page.nextRecordsUrl);
      records.push(...page.records);
    }
    return records;
  }

  private withoutMarker(properties: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(properties).filter(([p]) => leadFieldOf(p, this.markerField) !== this.markerField));
  }
}

function modifiedSoql(select: string, sinceMs: number): string {
  return `SELECT ${select} FROM Lead WHERE SystemModstamp >= ${dateTimeLiteral(sinceMs)} ORDER BY SystemModstamp, Id`;
}

/** What an email lookup found: the one Lead to link to, or several that only a person can tell apart. */
type EmailMatch = { id: string } | { ambiguous: string[] };

function ambiguous(input: UpsertInput, ids: readonly string[]): UpsertResult {
  return {
    leadId: input.leadId,
    ok: false,
    retryable: false,
    message: `Salesforce has ${ids.length} Leads with the email ${normalizeEmail(input.email)} (${ids.join(", ")}): merge them in Salesforce, then the lead syncs`,
  };
}

function isConverted(record: Readonly<Record<string, unknown>>): boolean {
  return record["IsConverted"] === true && typeof record["ConvertedContactId"] === "string" && record["ConvertedContactId"].startsWith(CONTACT_KEY_PREFIX);
}

/** What of a lead update a Contact can take (same API names; Company belongs to the Account). */
function contactBody(body: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).filter(([field]) => CONTACT_FIELDS.has(field)));
}

/** The record comes after the cursor's last record in (SystemModstamp, Id) order. */
function isAfterKey(record: Readonly<Record<string, unknown>>, cursor: ModifiedCursor): boolean {
  const stamp = parseSalesforceDateTime(record["SystemModstamp"]);
  return stamp > cursor.t || (stamp === cursor.t && String(record["Id"]) > cursor.i);
}

function encodeCursor(cursor: ModifiedCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(after: string): ModifiedCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(after, "base64url").toString("utf8")) as Partial<ModifiedCursor>;
    if (typeof value.u === "string" && typeof value.t === "number" && typeof value.i === "string") return value as ModifiedCursor;
  } catch {
    // fall through: not ours
  }
  throw new SalesforceApiError("not a Salesforce reconciliation cursor", { retryable: false });
}

function checkedId(id: string): string {
  if (!isRecordId(id)) throw new SalesforceApiError(`not a Salesforce record id: ${JSON.stringify(id)}`, { retryable: false });
  return id;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups of strings whose quoted total stays under `maxChars`. */
function byLength(values: readonly string[], maxChars: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const value of values) {
    if (current.length > 0 && (length + value.length + 4 > maxChars || current.length >= SALESFORCE_BATCH_SIZE)) {
      groups.push(current);
      current = [];
      length = 0;
    }
    current.push(value);
    length += value.length + 4;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
