import { badRequest, notFound } from "../http/errors.js";
import type { Company } from "./company.js";
import type { PersonInput, PersonRecord } from "./persons.js";
import type { SandboxState } from "./sandbox-state.js";

/**
 * Person writes with their webhook side: API writes raise `change_source: "api"` with the token's user, the admin
 * routes `"app"` with the UI user. A change that changes nothing raises no webhook (v2 sends one per real edit).
 */
export class PersonService {
  constructor(
    private readonly state: SandboxState,
    private readonly company: Company,
    private readonly source: "app" | "api",
    private readonly userId: number,
  ) {}

  require(id: number): PersonRecord {
    const record = this.company.persons.get(id);
    if (!record || record.is_deleted) throw notFound("Person not found");
    return record;
  }

  create(input: PersonInput): PersonRecord {
    this.checkRefs(input);
    const record = this.company.persons.create(input, this.userId, this.state.now(), this.state.options.searchIndexDelayMs);
    this.emit({ action: "create", record, previous: null });
    return record;
  }

  update(record: PersonRecord, input: PersonInput, extra: { mergedFromId?: number } = {}): PersonRecord {
    this.checkRefs(input);
    const previous = this.company.persons.update(record, input, this.state.now(), this.state.options.searchIndexDelayMs);
    if (Object.keys(previous).length > 0 || extra.mergedFromId !== undefined) this.emit({ action: "change", record, previous, ...extra });
    return record;
  }

  remove(record: PersonRecord, extra: { mergedToId?: number } = {}): void {
    this.company.persons.remove(record, this.state.now());
    this.emit({ action: "delete", record, previous: null, ...extra });
  }

  /** `from` is merged into `into`: `into` survives with the emails and phones of both; `from` is deleted. */
  merge(from: PersonRecord, into: PersonRecord): PersonRecord {
    if (from.id === into.id) throw badRequest("Cannot merge a person with itself");
    const emails = [...into.emails, ...from.emails.filter((e) => !into.emails.some((x) => x.value.toLowerCase() === e.value.toLowerCase())).map((e) => ({ ...e, primary: false }))];
    const phones = [...into.phones, ...from.phones.filter((p) => !into.phones.some((x) => x.value === p.value)).map((p) => ({ ...p, primary: false }))];
    const input: PersonInput = { emails, phones };
    if (into.job_title === null && from.job_title !== null) input.job_title = from.job_title;
    if (into.org_id === null && from.org_id !== null) input.org_id = from.org_id;
    const custom: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(from.custom_fields)) if (!(key in into.custom_fields)) custom[key] = value;
    if (Object.keys(custom).length > 0) input.custom_fields = custom;
    this.remove(from, { mergedToId: into.id });
    return this.update(into, input, { mergedFromId: from.id });
  }

  private checkRefs(input: PersonInput): void {
    if (input.org_id !== undefined && input.org_id !== null) {
      const org = this.company.organizations.get(input.org_id);
      if (!org || org.is_deleted) throw badRequest(`Organization with id ${input.org_id} does not exist`);
    }
    if (input.owner_id !== undefined && !this.company.user(input.owner_id)) throw badRequest(`User with id ${input.owner_id} does not exist`);
  }

  private emit(change: { action: "create" | "change" | "delete"; record: PersonRecord; previous: Record<string, unknown> | null; mergedToId?: number; mergedFromId?: number }): void {
    this.state.personChanged(this.company, { ...change, source: this.source, userId: this.userId });
  }
}
