import { normalizeEmail, type ClientContext, type ContactPage, type CrmContact, type CrmProviderClient, type CrmProviderLimits, type UpdateInput, type UpsertInput, type UpsertResult } from "@leadsync/core";
import type { v2 } from "pipedrive";
import { PipedriveApiError } from "./errors.js";
import { chunks, writeEach } from "./parallel.js";
import { PERSON_PROPERTIES, needsCurrent, personProperties, personWriteBody, toCrmContact, type PersonLike, type PersonWrite } from "./person-mapping.js";
import { forgetCreated, rememberCreated, recentlyCreated } from "./recent-creates.js";
import { PipedriveSession } from "./session.js";
import { apiDomainOf, stateOf } from "./state.js";

/** `ids` filter of v2 list reads: at most 100 per call. */
export const MAX_IDS_PER_READ = 100;
/** Parallel single-record calls per account: enough to use a growth api token's 40 per 2 s without queueing on it. */
export const DEFAULT_PARALLEL_CALLS = 8;
const MAX_PAGE = 500;
/** `after` values this client hands out are v2 cursors, prefixed so a plain record id can be told apart. */
const CURSOR_PREFIX = "c:";

/** The SDK's request types say `number`/`string` where Pipedrive takes null to clear (org_id, job_title). */
function sdkBody(body: PersonWrite & { org_id?: number | null }): v2.AddPersonRequest & v2.UpdatePersonRequest {
  return body as v2.AddPersonRequest & v2.UpdatePersonRequest;
}

const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * `CrmProviderClient` for one Pipedrive company (persons, API v2). One record per call (`maxBatchSize: 1`), up to
 * `maxParallelCalls` at once; every call is budgeted by the shared limiter in Pipedrive's token costs. Creates look
 * the email up first (Pipedrive allows duplicate emails) and report an existing person as `existingId`.
 */
export class PipedriveClient implements CrmProviderClient {
  readonly provider = "pipedrive";
  readonly limits: CrmProviderLimits;
  readonly markerField: string;
  private readonly session: PipedriveSession;
  private readonly orgNames = new Map<number, string>();
  private readonly orgIds = new Map<string, Promise<number>>();

  constructor(private readonly context: ClientContext, options: { maxParallelCalls?: number } = {}) {
    const state = stateOf(context.integration.state);
    if (!state.markerField) throw new Error(`Pipedrive integration ${context.integration.id} has no marker field key in its state: connect it again`);
    this.markerField = state.markerField;
    // Pipedrive stamps update_time to the second.
    this.limits = { maxBatchSize: 1, maxParallelCalls: options.maxParallelCalls ?? DEFAULT_PARALLEL_CALLS, clockResolutionMs: 1000 };
    this.session = new PipedriveSession({
      apiDomain: apiDomainOf(state, context.env),
      authType: context.integration.authType,
      getAccessToken: (o) => context.getAccessToken(o),
      limiter: context.limiter,
      logger: context.logger,
      timeoutMs: context.env.requestTimeoutMs,
    });
  }

  /** Persons by id, 100 per call; deleted and unknown ids are absent. Organisation names are resolved when asked for. */
  async fetchContacts(ids: readonly string[], properties: readonly string[]): Promise<CrmContact[]> {
    const numeric = [...new Set(ids)].filter((id) => /^\d+$/.test(id));
    const persons: PersonLike[] = [];
    for (const part of chunks(numeric, MAX_IDS_PER_READ)) {
      const response = await this.session.call("persons list", (api) => api.persons.getPersons({ ids: part.join(","), limit: MAX_IDS_PER_READ }));
      persons.push(...((response.data ?? []) as PersonLike[]));
    }
    return this.toContacts(persons, properties);
  }

  async createContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    const sameEmail = new EmailQueue();
    return writeEach(inputs, this.parallel(), (input) =>
      sameEmail.run(normalizeEmail(input.email), async () => {
        const existing = await this.findByEmail(input.email);
        if (existing !== undefined) {
          return { leadId: input.leadId, ok: false, message: `Pipedrive already has person ${existing} with this email`, retryable: false, existingId: existing };
        }
        return this.create(input);
      }),
    );
  }

  async upsertContacts(inputs: readonly UpsertInput[]): Promise<UpsertResult[]> {
    const sameEmail = new EmailQueue();
    return writeEach(inputs, this.parallel(), (input) =>
      sameEmail.run(normalizeEmail(input.email), async () => {
        const existing = await this.findByEmail(input.email);
        if (existing === undefined) return this.create(input);
        return this.update({ leadId: input.leadId, externalId: existing, properties: { ...input.properties, [PERSON_PROPERTIES.email]: normalizeEmail(input.email) } });
      }),
    );
  }

  /** Repeated edits of one person in one call are coalesced into one PATCH (later properties win). */
  async updateContacts(inputs: readonly UpdateInput[]): Promise<UpsertResult[]> {
    const merged = new Map<string, UpdateInput>();
    for (const input of inputs) {
      const seen = merged.get(input.externalId);
      merged.set(input.externalId, seen ? { ...seen, properties: { ...seen.properties, ...input.properties } } : input);
    }
    const unique = [...merged.values()];
    const results = await writeEach(unique, this.parallel(), (input) => this.update(input));
    const byId = new Map(unique.map((input, i) => [input.externalId, results[i] as UpsertResult]));
    return inputs.map((input) => ({ ...(byId.get(input.externalId) as UpsertResult), leadId: input.leadId }));
  }

  /**
   * Every live person in id order for backfills. `after` is the v2 cursor of the next page (`c:…`); a plain person
   * id (a resumed backfill) pages from the start and skips up to it.
   */
  async listContactsAfter(afterId: string | undefined, properties: readonly string[], limit = 100): Promise<ContactPage> {
    const pageSize = Math.min(Math.max(1, limit), MAX_PAGE);
    let cursor = afterId?.startsWith(CURSOR_PREFIX) ? afterId.slice(CURSOR_PREFIX.length) : undefined;
    const skipTo = afterId !== undefined && cursor === undefined ? Number(afterId) : undefined;
    for (;;) {
      const response = await this.session.call("persons list", (api) => api.persons.getPersons({ sort_by: "id", sort_direction: "asc", limit: pageSize, ...(cursor !== undefined && { cursor }) }));
      const persons = ((response.data ?? []) as PersonLike[]).filter((p) => skipTo === undefined || (p.id ?? 0) > skipTo);
      const next = response.additional_data?.next_cursor ?? undefined;
      if (persons.length > 0 || !next) return { contacts: await this.toContacts(persons, properties), ...(next ? { after: `${CURSOR_PREFIX}${next}` } : {}) };
      cursor = next;
    }
  }

  /** Persons with `update_time` ≥ `sinceMs` (second precision), oldest first, 500 per page. */
  async listContactsModifiedSince(sinceMs: number, after: string | undefined, properties: readonly string[]): Promise<ContactPage> {
    const cursor = after?.startsWith(CURSOR_PREFIX) ? after.slice(CURSOR_PREFIX.length) : after;
    const response = await this.session.call("persons list", (api) =>
      api.persons.getPersons({ updated_since: rfc3339(sinceMs), sort_by: "update_time", sort_direction: "asc", limit: MAX_PAGE, ...(cursor !== undefined && { cursor }) }),
    );
    const next = response.additional_data?.next_cursor ?? undefined;
    return { contacts: await this.toContacts((response.data ?? []) as PersonLike[], properties), ...(next ? { after: `${CURSOR_PREFIX}${next}` } : {}) };
  }

  /** The flat properties a person has here: the standard ones and every person custom field by its key. */
  async listFieldNames(): Promise<string[]> {
    const names: string[] = Object.values(PERSON_PROPERTIES);
    for (let start = 0; ; ) {
      const page = await this.session.call("personFields list", (api) => api.personFields.getPersonFields({ start, limit: 500 }));
      for (const field of page.data ?? []) if (field.edit_flag === true && field.key) names.push(field.key);
      const pagination = (page.additional_data as { pagination?: { more_items_in_collection?: boolean; next_start?: number } } | undefined)?.pagination;
      if (!pagination?.more_items_in_collection || pagination.next_start === undefined) return names;
      start = pagination.next_start;
    }
  }

  /** A Pipedrive lead on a person (integrations whose settings ask for one); `originId` marks who created it. */
  async createLead(personId: string, title: string, originId: string): Promise<string> {
    const response = await this.session.call("lead create", (api) => api.leads.addLead({ AddLeadRequest: { title, person_id: Number(personId), origin_id: originId } }));
    return String(response.data?.id);
  }

  private parallel(): number {
    return this.limits.maxParallelCalls ?? 1;
  }

  /** The oldest live person whose email is exactly this one (search ignores case), or one this process just created. */
  private async findByEmail(email: string): Promise<string | undefined> {
    const term = normalizeEmail(email);
    const recent = recentlyCreated(this.context.integration.id, term);
    if (recent !== undefined) return recent;
    const response = await this.session.call("persons search", (api) => api.persons.searchPersons({ term, fields: "email", exact_match: true, limit: 10 }));
    const ids = (response.data?.items ?? [])
      .filter((hit) => (hit.item?.emails ?? []).some((e) => e.toLowerCase() === term))
      .map((hit) => hit.item?.id)
      .filter((id): id is number => typeof id === "number")
      .sort((a, b) => a - b);
    return ids.length > 0 ? String(ids[0]) : undefined;
  }

  private async create(input: UpsertInput): Promise<UpsertResult> {
    const email = normalizeEmail(input.email);
    const { body, ignored } = personWriteBody({ ...input.properties, [PERSON_PROPERTIES.email]: email }, undefined);
    this.reportIgnored(ignored);
    const write = await this.withOrganization(body, input.properties[PERSON_PROPERTIES.company]);
    // Pipedrive requires a name; the marker says the person is ours
    const response = await this.session.call("person create", (api) =>
      api.persons.addPerson({
        AddPersonRequest: sdkBody({ ...write.body, name: write.body.name ?? email }),
      }),
    );
    const person = response.data as PersonLike;
    rememberCreated(this.context.integration.id, email, String(person.id));
    if (wantsCrmLead(this.context.integration.settings)) {
      // The integration asks for a Pipedrive lead on each person we create; origin_id names us as its creator.
      await this.createLead(String(person.id), `${write.body.name ?? email} (from ${this.context.env.marker})`, this.context.env.marker);
    }
    return { leadId: input.leadId, ok: true, externalId: String(person.id), created: true, properties: personProperties(person, write.orgName) };
  }

  private async update(input: UpdateInput): Promise<UpsertResult> {
    const id = Number(input.externalId);
    if (!Number.isInteger(id)) return { leadId: input.leadId, ok: false, message: `Pipedrive person id ${input.externalId} is not a number`, retryable: false };
    const current = needsCurrent(input.properties) ? await this.person(id) : undefined;
    const { body, ignored } = personWriteBody(input.properties, current);
    this.reportIgnored(ignored);
    const write = await this.withOrganization(body, input.properties[PERSON_PROPERTIES.company]);
    if (Object.keys(write.body).length === 0) {
      // nothing Pipedrive can hold changed: no call (an empty PATCH is not a write worth 10 tokens)
      return { leadId: input.leadId, ok: true, externalId: input.externalId, created: false, properties: current ? personProperties(current) : {} };
    }
    const response = await this.session.call("person update", (api) => api.persons.updatePerson({ id, UpdatePersonRequest: sdkBody(write.body) })).catch((err: unknown) => {
      if (err instanceof PipedriveApiError && err.status === 404) forgetCreated(this.context.integration.id, input.externalId);
      throw err;
    });
    return { leadId: input.leadId, ok: true, externalId: input.externalId, created: false, properties: personProperties(response.data as PersonLike, write.orgName) };
  }

  private async person(id: number): Promise<PersonLike> {
    try {
      return (await this.session.call("persons get", (api) => api.persons.getPerson({ id }))).data as PersonLike;
    } catch (err) {
      if (err instanceof PipedriveApiError && err.status === 404) forgetCreated(this.context.integration.id, String(id));
      throw err;
    }
  }

  /** Adds `org_id` for an organisation name: found by exact name, else created (once per name per client). */
  private async withOrganization(body: PersonWrite, orgName: string | undefined): Promise<{ body: PersonWrite & { org_id?: number | null }; orgName?: string | null }> {
    if (orgName === undefined) return { body };
    const name = orgName.trim();
    if (name === "") return { body: { ...body, org_id: null }, orgName: null };
    let pending = this.orgIds.get(name.toLowerCase());
    if (!pending) {
      pending = this.findOrCreateOrganization(name);
      this.orgIds.set(name.toLowerCase(), pending);
      pending.catch(() => this.orgIds.delete(name.toLowerCase()));
    }
    const orgId = await pending;
    this.orgNames.set(orgId, name);
    return { body: { ...body, org_id: orgId }, orgName: name };
  }

  private async findOrCreateOrganization(name: string): Promise<number> {
    const found = await this.session.call("organizations search", (api) => api.organizations.searchOrganization({ term: name, fields: "name", exact_match: true, limit: 10 }));
    const hit = (found.data?.items ?? []).find((i) => i.item?.name?.toLowerCase() === name.toLowerCase())?.item?.id;
    if (typeof hit === "number") return hit;
    const created = await this.session.call("organization create", (api) => api.organizations.addOrganization({ AddOrganizationRequest: { name } }));
    if (typeof created.data?.id !== "number") throw new PipedriveApiError("Pipedrive organization create returned no id", { retryable: true });
    return created.data.id;
  }

  private async toContacts(persons: PersonLike[], properties: readonly string[]): Promise<CrmContact[]> {
    if (!properties.includes(PERSON_PROPERTIES.company)) return persons.map((p) => toCrmContact(p));
    const missing = [...new Set(persons.map((p) => p.org_id).filter((id): id is number => typeof id === "number" && !this.orgNames.has(id)))];
    for (const part of chunks(missing, MAX_IDS_PER_READ)) {
      const response = await this.session.call("organizations list", (api) => api.organizations.getOrganizations({ ids: part.join(","), limit: MAX_IDS_PER_READ }));
      for (const org of response.data ?? []) if (typeof org.id === "number" && typeof org.name === "string") this.orgNames.set(org.id, org.name);
    }
    return persons.map((p) => toCrmContact(p, typeof p.org_id === "number" ? (this.orgNames.get(p.org_id) ?? null) : null));
  }

  private reportIgnored(ignored: string[]): void {
    if (ignored.length > 0) this.context.logger.warn({ integrationId: this.context.integration.id, properties: ignored }, "Pipedrive has no person field for these properties; left out");
  }
}

/**
 * Inputs of one call with the same email run one after another, so the second finds the person the first created
 * (search-before-create would not see it yet when both run at once) and links to it instead of duplicating it.
 */
class EmailQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(email: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(email) ?? Promise.resolve();
    const result = previous.then(task, task);
    this.tails.set(email, result.catch(() => undefined));
    return result;
  }
}

/** `settings.createCrmLead`: the integration wants a Pipedrive lead on every person LeadSync creates. */
function wantsCrmLead(settings: unknown): boolean {
  return typeof settings === "object" && settings !== null && (settings as Record<string, unknown>)["createCrmLead"] === true;
}
