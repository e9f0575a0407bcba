import { randomBytes, randomUUID } from "node:crypto";
import type { AccountInfo, SandboxPlan } from "../options.js";
import { PersonFields } from "./person-fields.js";
import { PersonStore } from "./persons.js";
import { CompanyRateLimits } from "./rate-limits.js";

export interface User {
  id: number;
  name: string;
  email: string;
  is_admin: boolean;
  /** the user's personal API token (one per user per company) */
  apiToken: string;
}

export interface Organization {
  id: number;
  name: string;
  owner_id: number;
  add_time: number;
  update_time: number;
  is_deleted: boolean;
}

export interface Lead {
  id: string;
  title: string;
  owner_id: number;
  creator_id: number;
  person_id: number | null;
  organization_id: number | null;
  origin_id: string | null;
  channel: number | null;
  channel_id: string | null;
  label_ids: string[];
  value: { amount: number; currency: string } | null;
  expected_close_date: string | null;
  visible_to: string;
  was_seen: boolean;
  is_archived: boolean;
  add_time: number;
  update_time: number;
}

export interface Webhook {
  id: number;
  owner_id: number;
  user_id: number;
  event_action: string;
  event_object: string;
  subscription_url: string;
  version: "1.0" | "2.0";
  name: string;
  http_auth_user: string | null;
  http_auth_password: string | null;
  add_time: number;
  is_active: 0 | 1;
  remove_time: number | null;
  remove_reason: string | null;
  last_delivery_time: number | null;
  last_http_status: number | null;
  /** failed first attempts since the last success or ban (10 → a 30 min ban) */
  failedFirstAttempts: number;
  bannedUntil: number | null;
  /** first failure after the last success: 3 days of failures delete the webhook */
  failingSince: number | null;
}

export interface CallStats {
  total: number;
  byEndpoint: Record<string, number>;
  throttled: number;
}

/** `"open"`, or `"closed"`: the company's subscription lapsed and every API call answers 402. */
export type CompanyStatus = "open" | "closed";

/** One Pipedrive company: its users and tokens, persons, fields, organizations, leads, webhooks and budget. */
export class Company {
  readonly users: User[];
  readonly persons: PersonStore;
  readonly personFields: PersonFields;
  readonly organizations = new Map<number, Organization>();
  readonly leads = new Map<string, Lead>();
  readonly webhooks: Webhook[] = [];
  readonly limits: CompanyRateLimits;
  readonly calls: CallStats = { total: 0, byEndpoint: {}, throttled: 0 };
  readonly domain: string;
  status: CompanyStatus = "open";

  constructor(
    readonly id: number,
    public plan: SandboxPlan,
    public seats: number,
    firstUserId: number,
    now: number,
    private readonly nextId: () => number,
  ) {
    this.domain = `company-${id}`;
    // one user per seat (at least the admin and the sales rep the admin routes act as)
    this.users = Array.from({ length: Math.max(2, seats) }, (_, i) => ({
      id: firstUserId + i,
      name: i === 0 ? "Integration Admin" : i === 1 ? "Sales Rep" : `User ${i + 1}`,
      email: i === 0 ? `admin@${this.domain}.example` : `user${i + 1}@${this.domain}.example`,
      is_admin: i === 0,
      apiToken: newApiToken(),
    }));
    this.personFields = new PersonFields(now);
    this.persons = new PersonStore(this.personFields, nextId);
    this.limits = new CompanyRateLimits(() => ({ plan: this.plan, seats: this.seats }));
  }

  /** the admin whose API token the account's `connect` body carries */
  get admin(): User {
    return this.users[0] as User;
  }

  /** the user whose edits the admin routes make, as in Pipedrive's web app */
  get uiUser(): User {
    return this.users[1] as User;
  }

  user(id: number): User | undefined {
    return this.users.find((u) => u.id === id);
  }

  countCall(endpoint: string): void {
    this.calls.total++;
    this.calls.byEndpoint[endpoint] = (this.calls.byEndpoint[endpoint] ?? 0) + 1;
  }

  addOrganization(name: string, ownerId: number, now: number): Organization {
    const org: Organization = { id: this.nextId(), name, owner_id: ownerId, add_time: now, update_time: now, is_deleted: false };
    this.organizations.set(org.id, org);
    return org;
  }

  addLead(input: Omit<Lead, "id" | "add_time" | "update_time" | "is_archived">, now: number): Lead {
    const lead: Lead = { ...input, id: randomUUID(), add_time: now, update_time: now, is_archived: false };
    this.leads.set(lead.id, lead);
    return lead;
  }

  info(): AccountInfo {
    return {
      accountId: this.id,
      connect: { provider: "pipedrive", apiToken: this.admin.apiToken, companyDomain: this.domain },
      companyDomain: this.domain,
      plan: this.plan,
      seats: this.seats,
      userId: this.admin.id,
      uiUserId: this.uiUser.id,
      apiToken: this.admin.apiToken,
    };
  }
}

/** Pipedrive API tokens are 40 hex characters. */
export function newApiToken(): string {
  return randomBytes(20).toString("hex");
}
