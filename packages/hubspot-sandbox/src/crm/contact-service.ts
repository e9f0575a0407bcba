import { HubSpotError, notFound, validationError } from "../http/errors.js";
import type { ContactRecord } from "../state/contacts.js";
import { normaliseEmail } from "../state/contacts.js";
import type { Portal } from "../state/portal.js";
import type { SandboxState } from "../state/sandbox-state.js";
import type { ChangeSource } from "../webhooks/events.js";

export type Properties = Record<string, string>;

/** "Batch limit: 100 records per request" (hubspot-facts.md §4). */
export const MAX_BATCH_INPUTS = 100;

export function conflict(existingId: string): HubSpotError {
  return new HubSpotError(409, "CONFLICT", `Contact already exists. Existing ID: ${existingId}`);
}

export function checkBatchSize(inputs: readonly unknown[]): void {
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(`Batch input must contain at most ${MAX_BATCH_INPUTS} inputs, got ${inputs.length}.`);
  }
}

/**
 * Contact writes of one portal by one actor (UI or integration): validation like HubSpot, storage, and the
 * webhook events they cause. Batch methods validate every input before changing anything.
 */
export class ContactService {
  constructor(
    private readonly state: SandboxState,
    private readonly portal: Portal,
    private readonly source: ChangeSource,
  ) {}

  /** A live contact by id, or by email with `idProperty=email`. */
  find(id: string, idProperty?: string, includeArchived = false): ContactRecord | undefined {
    const record = this.lookup(id, idProperty);
    return record && (includeArchived || !record.archived) ? record : undefined;
  }

  require(id: string, idProperty?: string): ContactRecord {
    const record = this.find(id, idProperty);
    if (!record) throw notFound();
    return record;
  }

  create(properties: Properties): ContactRecord {
    return this.createMany([properties])[0] as ContactRecord;
  }

  createMany(inputs: Properties[]): ContactRecord[] {
    checkBatchSize(inputs);
    const emails = new Set<string>();
    for (const properties of inputs) {
      this.validate(properties);
      const email = properties["email"] ? normaliseEmail(properties["email"]) : undefined;
      if (email === undefined) continue;
      const existing = this.portal.contacts.findByEmail(email);
      if (existing) throw conflict(existing.id);
      if (emails.has(email)) throw validationError(`Duplicate email ${email} in batch input.`);
      emails.add(email);
    }
    const now = Date.now();
    return inputs.map((properties) => this.insertNew(properties, now));
  }

  /**
   * Batch create with multi-status (HubSpot's mode when every input carries an `objectWriteTraceId`): each input
   * is created or fails alone — an invalid value, an email another contact has (409 "Existing ID"), or a
   * duplicate email in the batch — and the others are created.
   */
  createEach(inputs: Properties[]): Array<ContactRecord | HubSpotError> {
    checkBatchSize(inputs);
    const emails = new Set<string>();
    const checked = inputs.map((properties): Properties | HubSpotError => {
      try {
        this.validate(properties);
      } catch (error) {
        if (error instanceof HubSpotError) return error;
        throw error;
      }
      const email = properties["email"] ? normaliseEmail(properties["email"]) : undefined;
      if (email === undefined) return properties;
      const existing = this.portal.contacts.findByEmail(email);
      if (existing) return conflict(existing.id);
      if (emails.has(email)) return validationError(`Duplicate email ${email} in batch input.`);
      emails.add(email);
      return properties;
    });
    const now = Date.now();
    return checked.map((outcome) => (outcome instanceof HubSpotError ? outcome : this.insertNew(outcome, now)));
  }

  update(record: ContactRecord, properties: Properties): ContactRecord {
    this.validate(properties);
    this.checkEmailFree(record, properties["email"]);
    this.apply(record, properties, Date.now());
    return record;
  }

  /** Batch update: ids that do not exist are reported (207), the rest are written. */
  updateMany(inputs: Array<{ id: string; properties: Properties; idProperty?: string | undefined }>): {
    results: ContactRecord[];
    missing: string[];
  } {
    checkBatchSize(inputs);
    const targets: Array<{ record: ContactRecord; properties: Properties }> = [];
    const missing: string[] = [];
    for (const input of inputs) {
      this.validate(input.properties);
      const record = this.find(input.id, input.idProperty);
      if (!record) {
        missing.push(input.id);
        continue;
      }
      this.checkEmailFree(record, input.properties["email"]);
      targets.push({ record, properties: input.properties });
    }
    const now = Date.now();
    for (const { record, properties } of targets) this.apply(record, properties, now);
    return { results: targets.map((t) => t.record), missing };
  }

  /** Batch upsert by email: creates missing contacts (with that email), updates existing ones. */
  upsertByEmail(inputs: Array<{ id: string; properties: Properties }>): Array<{ record: ContactRecord; created: boolean }> {
    checkBatchSize(inputs);
    const seen = new Set<string>();
    for (const input of inputs) {
      const email = normaliseEmail(input.id);
      if (seen.has(email)) throw validationError(`Duplicate IDs found in batch input: [${email}]. IDs must be unique`);
      seen.add(email);
      this.validate({ ...input.properties, email });
    }
    const now = Date.now();
    return inputs.map((input) => {
      const email = normaliseEmail(input.id);
      const existing = this.portal.contacts.findByEmail(email);
      const properties = { ...input.properties, email };
      if (existing) {
        this.apply(existing, properties, now);
        return { record: existing, created: false };
      }
      return { record: this.insertNew(properties, now), created: true };
    });
  }

  /** Archive (HubSpot's DELETE): idempotent, restorable. */
  archive(record: ContactRecord): void {
    if (record.archived) return;
    const now = Date.now();
    this.portal.contacts.archive(record, now);
    this.state.recordChange(this.portal, { kind: "deleted", contactId: record.id, occurredAt: now }, this.source);
  }

  restore(record: ContactRecord): void {
    if (!record.archived) return;
    const email = record.properties.get("email");
    const holder = email === undefined ? undefined : this.portal.contacts.findByEmail(email);
    if (holder) throw conflict(holder.id);
    const now = Date.now();
    this.portal.contacts.restore(record, now);
    this.state.recordChange(this.portal, { kind: "restored", contactId: record.id, occurredAt: now }, this.source);
  }

  /** Merge `loser` into `primary`: values the primary lacks move over, the loser disappears. */
  merge(primary: ContactRecord, loser: ContactRecord): ContactRecord {
    if (primary.id === loser.id) throw validationError("Cannot merge a contact into itself.");
    const moved: Properties = {};
    for (const [name, value] of loser.properties) {
      if (name !== "email" && !primary.properties.has(name)) moved[name] = value;
    }
    const now = Date.now();
    this.portal.contacts.archive(loser, now);
    this.portal.contacts.write(primary, moved, now);
    primary.updatedAt = now;
    this.state.recordChange(
      this.portal,
      {
        kind: "merged",
        contactId: primary.id,
        occurredAt: now,
        mergedObjectIds: [loser.id],
        newObjectId: primary.id,
        numberOfPropertiesMoved: Object.keys(moved).length,
      },
      this.source,
    );
    return primary;
  }

  /** GDPR delete: gone for good; subscribers get privacyDeletion and deletion. */
  privacyDelete(record: ContactRecord): void {
    const now = Date.now();
    this.portal.contacts.purge(record);
    this.state.recordChange(this.portal, { kind: "privacyDeleted", contactId: record.id, occurredAt: now }, this.source);
  }

  private insertNew(properties: Properties, now: number): ContactRecord {
    const record = this.portal.contacts.insert({}, now);
    const changed = this.portal.contacts.write(record, properties, now);
    record.updatedAt = now;
    this.state.recordChange(this.portal, { kind: "created", contactId: record.id, occurredAt: now, changed }, this.source);
    return record;
  }

  private apply(record: ContactRecord, properties: Properties, now: number): void {
    const changed = this.portal.contacts.write(record, properties, now);
    if (Object.keys(changed).length === 0) return;
    this.state.recordChange(this.portal, { kind: "updated", contactId: record.id, occurredAt: now, changed }, this.source);
  }

  private validate(properties: Properties): void {
    this.portal.properties.validateWrite(this.portal.portalId, properties);
    const email = properties["email"];
    if (email !== undefined && email !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) {
      throw validationError(`Property values were not valid: [{"isValid":false,"message":"Email address ${email} is invalid","error":"INVALID_EMAIL","name":"email"}]`, {
        subCategory: "INVALID_EMAIL",
      });
    }
  }

  private checkEmailFree(record: ContactRecord, email: string | undefined): void {
    if (!email) return;
    const holder = this.portal.contacts.findByEmail(email);
    if (holder && holder.id !== record.id) throw conflict(holder.id);
  }

  private lookup(id: string, idProperty?: string): ContactRecord | undefined {
    if (idProperty === undefined || idProperty === "hs_object_id") return this.portal.contacts.get(id);
    if (idProperty === "email") return this.portal.contacts.findByEmail(id);
    const definition = this.portal.properties.get(idProperty);
    if (!definition?.hasUniqueValue) throw validationError(`${idProperty} is not a unique identifier property`);
    return this.portal.contacts.all().find((c) => c.properties.get(idProperty) === id);
  }
}
