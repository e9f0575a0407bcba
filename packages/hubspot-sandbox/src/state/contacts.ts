/** One stored contact. Property values are strings, as HubSpot keeps them; system properties are derived on read. */
export interface ContactRecord {
  id: string;
  properties: Map<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

/** A contact as the snapshot keeps it (JSON: properties as an object). */
export type StoredContact = Omit<ContactRecord, "properties"> & { properties: Record<string, string> };

/** HubSpot stores emails lower-cased and trimmed; lookups by email are case-insensitive. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The contacts of one portal, with the email index HubSpot uses for 409s, `idProperty=email` and upserts.
 * Pure storage: validation and webhook events live in crm/contact-service.ts.
 */
export class ContactStore {
  private readonly byId = new Map<string, ContactRecord>();
  private readonly idByEmail = new Map<string, string>();

  constructor(private readonly nextId: () => string) {}

  get(id: string): ContactRecord | undefined {
    return this.byId.get(id);
  }

  /** Only live contacts own their email; an archived contact's email is free again. */
  findByEmail(email: string): ContactRecord | undefined {
    const id = this.idByEmail.get(normaliseEmail(email));
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Every contact, archived included, in id order. */
  all(): ContactRecord[] {
    return [...this.byId.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  live(): ContactRecord[] {
    return this.all().filter((c) => !c.archived);
  }

  insert(properties: Record<string, string>, now: number): ContactRecord {
    const record: ContactRecord = { id: this.nextId(), properties: new Map(), createdAt: now, updatedAt: now, archived: false };
    this.byId.set(record.id, record);
    this.write(record, properties, now);
    record.updatedAt = now;
    return record;
  }

  /** A contact with a known id (restoring a sandbox's earlier state): no events, the caller keeps ids unique. */
  insertWithId(id: string, properties: Record<string, string>, now: number): ContactRecord {
    if (this.byId.has(id)) throw new Error(`contact ${id} already exists`);
    const record: ContactRecord = { id, properties: new Map(), createdAt: now, updatedAt: now, archived: false };
    this.byId.set(id, record);
    this.write(record, properties, now);
    record.updatedAt = now;
    return record;
  }

  /** Applies the values; `""` clears. Returns only the properties whose value really changed (new value, "" when cleared). */
  write(record: ContactRecord, properties: Record<string, string>, now: number): Record<string, string> {
    const changed: Record<string, string> = {};
    for (const [name, raw] of Object.entries(properties)) {
      const value = name === "email" ? normaliseEmail(raw) : raw;
      const previous = record.properties.get(name) ?? "";
      if (previous === value) continue;
      if (name === "email") this.reindexEmail(record, previous, value);
      if (value === "") record.properties.delete(name);
      else record.properties.set(name, value);
      changed[name] = value;
    }
    if (Object.keys(changed).length > 0) record.updatedAt = now;
    return changed;
  }

  archive(record: ContactRecord, now: number): void {
    record.archived = true;
    record.archivedAt = now;
    record.updatedAt = now;
    const email = record.properties.get("email");
    if (email !== undefined && this.idByEmail.get(email) === record.id) this.idByEmail.delete(email);
  }

  restore(record: ContactRecord, now: number): void {
    record.archived = false;
    delete record.archivedAt;
    record.updatedAt = now;
    const email = record.properties.get("email");
    if (email !== undefined && !this.idByEmail.has(email)) this.idByEmail.set(email, record.id);
  }

  /** GDPR delete: the record is gone for good. */
  purge(record: ContactRecord): void {
    this.archive(record, record.updatedAt);
    this.byId.delete(record.id);
  }

  /** Every contact as stored (archived included), for the emulator's snapshot. */
  snapshot(): StoredContact[] {
    return this.all().map((c) => ({ ...c, properties: Object.fromEntries(c.properties) }));
  }

  /** Puts a snapshot's contacts back (ids, timestamps, archived state) and rebuilds the email index. */
  restoreSnapshot(contacts: readonly StoredContact[]): void {
    for (const stored of contacts) {
      const record: ContactRecord = { ...stored, properties: new Map(Object.entries(stored.properties)) };
      this.byId.set(record.id, record);
      const email = record.properties.get("email");
      if (email !== undefined && !record.archived) this.idByEmail.set(email, record.id);
    }
  }

  private reindexEmail(record: ContactRecord, previous: string, next: string): void {
    if (previous !== "" && this.idByEmail.get(previous) === record.id) this.idByEmail.delete(previous);
    if (next !== "" && !record.archived) this.idByEmail.set(next, record.id);
  }
}
