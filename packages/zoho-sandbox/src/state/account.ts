import { ChannelRegistry } from "./channels.js";
import { concurrencyOf, CreditWindow, creditsPerDay, type Edition } from "./editions.js";
import { LeadFields } from "./fields.js";
import { LeadStore, type ZohoUser } from "./leads.js";

/** The body `POST /api/v1/crm-integration` takes to connect this account (README "Connect body"). */
export interface ZohoConnectBody {
  provider: "zoho";
  refreshToken: string;
  apiDomain: string;
  accountsUrl: string;
  clientId: string;
}

export interface AccountInfo {
  accountId: string;
  connect: ZohoConnectBody;
  edition: Edition;
  users: number;
  /** the integration user the tokens act as (`Modified_By` of API writes) */
  apiUser: ZohoUser;
  /** the person who edits in the UI (`Modified_By` of admin-route writes) */
  person: ZohoUser;
}

export interface AccountSettings {
  edition: Edition;
  users: number;
  /** the token's user may create fields (`ZohoCRM.settings.fields` with an admin profile); false → NO_PERMISSION */
  fieldsPermission: boolean;
  /** appended to generated custom-field api_names, so clients must read them back */
  fieldApiNameSuffix: string;
  companyMandatory: boolean;
}

/** One Zoho CRM org: its users, Leads, fields, channels, credits and counters. */
export class Account {
  readonly fields: LeadFields;
  readonly leads: LeadStore;
  readonly channels = new ChannelRegistry();
  readonly credits = new CreditWindow();
  readonly calls = { total: 0, byEndpoint: {} as Record<string, number>, throttled: 0 };
  /** API calls in flight (per-org concurrency) and the most seen at once */
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly accountId: string,
    readonly apiUser: ZohoUser,
    readonly person: ZohoUser,
    readonly settings: AccountSettings,
    nextId: () => string,
  ) {
    this.fields = new LeadFields(nextId);
    this.leads = new LeadStore(this.fields, () => ({ companyMandatory: this.settings.companyMandatory }), nextId);
  }

  creditLimit(): number {
    return creditsPerDay(this.settings.edition, this.settings.users);
  }

  concurrencyLimit(): number {
    return concurrencyOf(this.settings.edition);
  }

  countCall(endpoint: string): void {
    this.calls.total++;
    this.calls.byEndpoint[endpoint] = (this.calls.byEndpoint[endpoint] ?? 0) + 1;
  }
}
