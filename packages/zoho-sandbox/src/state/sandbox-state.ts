import type { Logger } from "pino";
import { NotificationDelivery } from "../notify/delivery.js";
import type { ResolvedOptions } from "../options.js";
import { Account, type AccountInfo } from "./account.js";
import type { Edition } from "./editions.js";
import { FaultRegistry } from "./faults.js";
import type { WriteOutcome } from "./leads.js";
import type { ZohoSnapshot } from "./snapshot.js";
import { TokenStore } from "./tokens.js";

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

export interface CreateAccountInput {
  edition?: Edition | undefined;
  users?: number | undefined;
  fieldsPermission?: boolean | undefined;
}

/** Everything the emulator knows: the OAuth app, the orgs, tokens, notification delivery and faults. */
export class SandboxState {
  readonly app: AppCredentials;
  readonly accounts = new Map<string, Account>();
  readonly tokens: TokenStore;
  readonly faults = new FaultRegistry();
  readonly delivery: NotificationDelivery;
  /** The advertised hosts (set once the listeners are up, unless configured). */
  urls: { accountsUrl: string; apiDomain: string };
  /** The API listener's port: CRM routes answer there only (the accounts server knows no /crm). */
  apiPort: number | undefined;
  private readonly refreshTokens = new Map<string, string>();
  private lastId = 5_725_767_000_000_000_000n;
  private lastOrg = 60_000_000;
  private readonly gcTimer: NodeJS.Timeout;

  constructor(readonly options: ResolvedOptions) {
    this.app = { clientId: options.clientId, clientSecret: options.clientSecret };
    this.urls = { accountsUrl: options.accountsUrl ?? "http://127.0.0.1", apiDomain: options.apiDomain ?? "http://127.0.0.1" };
    this.tokens = new TokenStore(() => options.accessTokenTtlSeconds * 1000, options.tokenMintLimit);
    this.delivery = new NotificationDelivery({
      flushMs: options.notifyFlushMs,
      retryDelaysMs: options.notifyRetryDelaysMs,
      timeoutMs: options.notifyTimeoutMs,
      channel: (accountId, channelId) => this.accounts.get(accountId)?.channels.get(channelId, Date.now()),
      resourceUri: () => `${this.urls.apiDomain}/crm/v8/Leads`,
      takeFault: (accountId) => this.faults.takeForNotification(accountId),
      logger: options.logger === false ? undefined : (options.logger as Logger),
    });
    this.gcTimer = setInterval(() => this.collectChannels(), options.channelGcIntervalMs);
    this.gcTimer.unref();
  }

  nextId(): string {
    this.lastId += 1n;
    return this.lastId.toString();
  }

  createAccount(input: CreateAccountInput = {}): Account {
    const accountId = String(++this.lastOrg);
    const apiUser = { id: this.nextId(), name: "LeadSync Integration", email: `integration@org${accountId}.example` };
    const person = { id: this.nextId(), name: "Pat Person", email: `pat@org${accountId}.example` };
    const account = new Account(
      accountId,
      apiUser,
      person,
      { edition: input.edition ?? "enterprise", users: input.users ?? 10, fieldsPermission: input.fieldsPermission ?? true, fieldApiNameSuffix: "", companyMandatory: true },
      () => this.nextId(),
    );
    this.accounts.set(accountId, account);
    this.refreshTokens.set(accountId, this.tokens.newRefreshToken(accountId));
    return account;
  }

  info(account: Account): AccountInfo {
    return {
      accountId: account.accountId,
      connect: {
        provider: "zoho",
        refreshToken: this.refreshTokenOf(account.accountId),
        apiDomain: this.urls.apiDomain,
        accountsUrl: this.urls.accountsUrl,
        clientId: this.app.clientId,
      },
      edition: account.settings.edition,
      users: account.settings.users,
      apiUser: account.apiUser,
      person: account.person,
    };
  }

  /** The account's current refresh token (a revoked one is replaced, as a customer re-consenting would get). */
  refreshTokenOf(accountId: string): string {
    return this.refreshTokens.get(accountId) ?? "";
  }

  revokeRefreshTokens(accountId: string): void {
    this.tokens.revokeRefreshTokens(accountId);
    this.refreshTokens.set(accountId, this.tokens.newRefreshToken(accountId));
  }

  /** After a write: each change goes to every live channel watching it. */
  notify(account: Account, outcome: WriteOutcome): void {
    const now = Date.now();
    for (const change of outcome.changes) {
      for (const channel of account.channels.watching(change.operation, now)) {
        this.delivery.enqueue(account.accountId, channel, change.operation, change.id, change.affectedFields);
      }
    }
  }

  collectChannels(): void {
    const now = Date.now();
    for (const account of this.accounts.values()) account.channels.collectGarbage(now);
  }

  /** The state a restarted emulator needs (state/snapshot.ts says what is left out). */
  snapshot(): ZohoSnapshot {
    return {
      app: { ...this.app },
      counters: { lastId: this.lastId.toString(), lastOrg: this.lastOrg },
      accounts: [...this.accounts.values()].map((account) => ({
        accountId: account.accountId,
        apiUser: account.apiUser,
        person: account.person,
        settings: account.settings,
        refreshToken: this.refreshTokenOf(account.accountId),
        fields: account.fields.list(),
        leads: [...account.leads.records.values()],
        channels: account.channels.all().map((c) => ({ ...c, events: [...c.events], ...(c.token === undefined ? {} : { token: c.token }) })),
      })),
      ...this.tokens.snapshot(),
    };
  }

  /** Loads a snapshot into this (new, empty) state; the app's credentials come from the options (see startSandbox). */
  restoreSnapshot(snapshot: ZohoSnapshot): void {
    for (const stored of snapshot.accounts) {
      const account = new Account(stored.accountId, stored.apiUser, stored.person, { ...stored.settings }, () => this.nextId());
      account.fields.restoreSnapshot(stored.fields);
      for (const lead of stored.leads) account.leads.records.set(lead.id, lead);
      for (const channel of stored.channels) account.channels.set({ ...channel, events: new Set(channel.events), token: channel.token });
      this.accounts.set(account.accountId, account);
      this.refreshTokens.set(account.accountId, stored.refreshToken);
    }
    this.tokens.restoreSnapshot(snapshot);
    // after the accounts: building one draws ids for its standard fields, which the snapshot's replace
    this.lastId = BigInt(snapshot.counters.lastId);
    this.lastOrg = snapshot.counters.lastOrg;
  }

  close(): void {
    clearInterval(this.gcTimer);
    this.delivery.close();
  }
}
