import { ChangeLog } from "../cdc/change-log.js";
import type { ResolvedOptions } from "../options.js";
import { ApiUsage } from "./api-usage.js";
import { KEY_PREFIX } from "./ids.js";
import { customField, standardContactFields, standardLeadFields, type CustomFieldMetadata, type FieldDef } from "./lead-fields.js";
import { SObjectStore, type SObjectName, type WriteContext } from "./records.js";
import type { orgSnapshotSchema } from "./snapshot.js";
import type { z } from "zod";

type OrgSnapshot = z.output<typeof orgSnapshotSchema>;
type OrgSnapshotJson = z.input<typeof orgSnapshotSchema>;

/** Per-org switches that tests flip through `PATCH /__sandbox/accounts/:accountId`. */
export interface OrgSettings {
  /** an active duplicate rule (alert, allowSave) with an exact matching rule on Email */
  duplicateRule: boolean;
  /** the integration user holds "Customize Application" (Tooling CustomField create) */
  customizeApplication: boolean;
  /** entities selected for Change Data Capture (Setup → Change Data Capture) */
  cdcEntities: Set<string>;
  /**
   * `Sforce-Call-Options: client=` reaches changeOrigin for sObject Collections writes (providers-facts §2.4:
   * UNCERTAIN for real Salesforce). false = the fallback reading: collections writes carry no `;client=`.
   */
  collectionsCallOptions: boolean;
  dailyApiRequests: number;
  concurrentLongRunningLimit: number;
  /** change events delivered to subscribers per rolling 24 h (CDC delivery allocation) */
  dailyDeliveredEvents: number;
}

export interface CallStats {
  total: number;
  byEndpoint: Map<string, number>;
  /** requests answered 403 REQUEST_LIMIT_EXCEEDED */
  throttled: number;
}

export interface NotificationStats {
  delivered: number;
  failed: number;
}

/** One emulated Salesforce org ("account" in the sandbox's admin routes): users, leads, custom fields, limits, event bus. */
export class Org {
  readonly leads: SObjectStore;
  readonly contacts: SObjectStore;
  readonly customFields = new Map<string, { id: string; fullName: string; metadata: CustomFieldMetadata }>();
  readonly usage = new ApiUsage();
  /** change events delivered over Pub/Sub, rolling 24 h */
  readonly deliveries = new ApiUsage();
  readonly calls: CallStats = { total: 0, byEndpoint: new Map(), throttled: 0 };
  readonly notifications: NotificationStats = { delivered: 0, failed: 0 };
  readonly changeLog: ChangeLog;
  readonly settings: OrgSettings;
  /** requests in flight: start times, for the concurrent long-running cap */
  readonly inFlight = new Set<{ startedAt: number }>();
  /** Tooling ids of the CDC channel members (`ChangeEvents_<Entity>ChangeEvent`), stable per entity */
  private readonly channelMemberIds = new Map<string, string>();
  private fieldList: FieldDef[] = standardLeadFields();

  constructor(
    readonly orgId: string,
    /** the integration (API) user: tokens belong to it */
    readonly apiUserId: string,
    /** the person who edits in the UI (admin routes) */
    readonly uiUserId: string,
    readonly username: string,
    options: ResolvedOptions,
    private readonly nextId: (prefix: string) => string,
  ) {
    this.settings = {
      duplicateRule: false,
      customizeApplication: true,
      cdcEntities: new Set(["Lead"]),
      collectionsCallOptions: true,
      dailyApiRequests: options.dailyApiRequests,
      concurrentLongRunningLimit: options.concurrentLongRunningLimit,
      dailyDeliveredEvents: options.dailyDeliveredEvents,
    };
    this.changeLog = new ChangeLog(() => options.retentionMs);
    this.leads = new SObjectStore({
      objectName: "Lead",
      fields: () => this.fieldList,
      nextId: () => this.nextId(KEY_PREFIX.Lead),
      duplicateRuleActive: () => this.settings.duplicateRule,
      defaultOwnerId: () => this.apiUserId,
    });
    const contactFields = standardContactFields();
    this.contacts = new SObjectStore({
      objectName: "Contact",
      fields: () => contactFields,
      nextId: () => this.nextId(KEY_PREFIX.Contact),
      // the sandbox's duplicate rule watches Leads only
      duplicateRuleActive: () => false,
      defaultOwnerId: () => this.apiUserId,
    });
  }

  fields(): FieldDef[] {
    return this.fieldList;
  }

  store(objectName: SObjectName): SObjectStore {
    return objectName === "Lead" ? this.leads : this.contacts;
  }

  /** a field of Lead or Contact, by case-insensitive name */
  fieldOf(objectName: SObjectName, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return this.store(objectName)
      .fields()
      .find((f) => f.name.toLowerCase() === lower);
  }

  field(name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return this.fieldList.find((f) => f.name.toLowerCase() === lower);
  }

  addCustomField(apiName: string, fullName: string, metadata: CustomFieldMetadata): { id: string } {
    const id = this.nextId(KEY_PREFIX.CustomField);
    this.customFields.set(apiName, { id, fullName, metadata });
    this.fieldList = [...this.fieldList, customField(apiName, metadata)];
    this.leads.addField(apiName);
    return { id };
  }

  channelMemberId(entity: string): string {
    let id = this.channelMemberIds.get(entity);
    if (!id) {
      id = this.nextId(KEY_PREFIX.PlatformEventChannelMember);
      this.channelMemberIds.set(entity, id);
    }
    return id;
  }

  /** The org as the emulator's snapshot keeps it (state/snapshot.ts). */
  snapshot(): OrgSnapshotJson {
    const { cdcEntities, ...settings } = this.settings;
    const log = this.changeLog.snapshot();
    return {
      orgId: this.orgId,
      apiUserId: this.apiUserId,
      uiUserId: this.uiUserId,
      username: this.username,
      settings: { ...settings, cdcEntities: [...cdcEntities] },
      customFields: [...this.customFields.entries()],
      channelMemberIds: [...this.channelMemberIds.entries()],
      leads: [...this.leads.records.values()],
      contacts: [...this.contacts.records.values()],
      // replay ids are bigints: stored as decimal strings
      changeLog: {
        ...log,
        events: log.events.map((event) => ({ ...event, replayId: event.replayId.toString() })),
        nextReplay: log.nextReplay.toString(),
        replayFloor: log.replayFloor.toString(),
      },
    };
  }

  /** Loads a snapshot into this (new) org: custom fields rebuild the Lead field list, then the records and the bus. */
  restoreSnapshot(snapshot: OrgSnapshot): void {
    const { cdcEntities, ...settings } = snapshot.settings;
    Object.assign(this.settings, settings, { cdcEntities: new Set(cdcEntities) });
    for (const [apiName, field] of snapshot.customFields) {
      const metadata = Object.fromEntries(Object.entries(field.metadata).filter(([, v]) => v !== undefined)) as CustomFieldMetadata;
      this.customFields.set(apiName, { id: field.id, fullName: field.fullName, metadata });
      this.fieldList = [...this.fieldList, customField(apiName, metadata)];
    }
    for (const [entity, id] of snapshot.channelMemberIds) this.channelMemberIds.set(entity, id);
    for (const lead of snapshot.leads) this.leads.records.set(String(lead["Id"]), lead);
    for (const contact of snapshot.contacts) this.contacts.records.set(String(contact["Id"]), contact);
    this.changeLog.restoreSnapshot(snapshot.changeLog);
  }

  countCall(endpoint: string): void {
    this.calls.total++;
    this.calls.byEndpoint.set(endpoint, (this.calls.byEndpoint.get(endpoint) ?? 0) + 1);
  }

  /** The Contact a lead converts into, created in the same (UI) transaction; Contacts publish no change events here. */
  createContact(fromLead: Record<string, unknown>, ctx: WriteContext): string {
    const body: Record<string, unknown> = {};
    for (const name of ["FirstName", "LastName", "Salutation", "Email", "Phone", "Title", "LeadSource"]) if (fromLead[name] !== null && fromLead[name] !== undefined) body[name] = fromLead[name];
    const outcome = this.contacts.prepareCreate(body, ctx);
    if (!outcome.ok) throw new Error(`converting lead ${String(fromLead["Id"])}: ${outcome.errors.map((e) => e.message).join("; ")}`);
    this.contacts.apply(outcome.value);
    return outcome.value.id;
  }

}

