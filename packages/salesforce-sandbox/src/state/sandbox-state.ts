import { createHash, createHmac, randomBytes } from "node:crypto";
import { buildLeadEventSchema, schemaFromJson, type EventSchema } from "../cdc/avro-schema.js";
import type { ChangeEvent, NewChangeEvent } from "../cdc/change-log.js";
import type { ResolvedOptions } from "../options.js";
import { FaultRegistry } from "./faults.js";
import { KEY_PREFIX, makeId } from "./ids.js";
import type { PendingWrite } from "./records.js";
import { Org } from "./org.js";
import type { SalesforceSnapshot, SalesforceSnapshotJson } from "./snapshot.js";

export interface AccessTokenEntry {
  orgId: string;
  userId: string;
  expiresAt: number;
  refreshToken: string | undefined;
}

interface RefreshTokenEntry {
  orgId: string;
  userId: string;
}

interface AuthorizationCode {
  orgId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  expiresAt: number;
}

export interface TokenGrant {
  accessToken: string;
  refreshToken: string | undefined;
  org: Org;
  userId: string;
  issuedAt: number;
}

export type TokenLookup = { org: Org; entry: AccessTokenEntry } | { error: "INVALID_SESSION_ID" };

/** An authorization code is good for 15 minutes and once (Salesforce's web-server flow). */
const CODE_TTL_MS = 15 * 60_000;

/** Everything the sandbox knows: the connected app, orgs, their tokens, event schemas and faults. */
export class SandboxState {
  readonly orgs = new Map<string, Org>();
  readonly faults = new FaultRegistry();
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  private readonly refreshTokens = new Map<string, RefreshTokenEntry>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly schemas = new Map<string, EventSchema>();
  /** live Pub/Sub subscriptions: events waiting for flow-control credit count as pending notifications */
  readonly subscriptions = new Set<{ orgId: string; pending(): number }>();
  private counter = 100_000;
  /** the HTTP base URL (instance and login URL alike), set once the server listens */
  baseUrl = "http://127.0.0.1";
  /** the Pub/Sub endpoint once its server listens: `grpc://host:port` (plaintext) or `grpcs://host:port` and the CA */
  pubsub: { url: string; caPem: string | undefined } | undefined;

  constructor(readonly options: ResolvedOptions) {}

  nextId(prefix: string): string {
    return makeId(prefix, ++this.counter);
  }

  createOrg(): Org {
    const orgId = this.nextId(KEY_PREFIX.Org);
    const n = this.orgs.size + 1;
    const org = new Org(orgId, this.nextId(KEY_PREFIX.User), this.nextId(KEY_PREFIX.User), `integration@org${n}.sandbox.test`, this.options, (p) => this.nextId(p));
    this.orgs.set(orgId, org);
    return org;
  }

  /** Access tokens look like Salesforce session ids: the 15-character org id, `!`, an opaque part. */
  issueTokens(org: Org, userId: string, withRefresh: string | true | false): TokenGrant {
    const issuedAt = Date.now();
    const accessToken = `${org.orgId.slice(0, 15)}!AR${randomBytes(48).toString("base64url").replaceAll("-", ".").replaceAll("_", "")}`;
    let refreshToken: string | undefined;
    if (withRefresh === true) {
      refreshToken = `5Aep861${randomBytes(40).toString("base64url").replaceAll("-", ".").replaceAll("_", "")}`;
      this.refreshTokens.set(refreshToken, { orgId: org.orgId, userId });
    } else if (typeof withRefresh === "string") {
      refreshToken = withRefresh;
    }
    this.accessTokens.set(accessToken, { orgId: org.orgId, userId, expiresAt: issuedAt + this.options.sessionTimeoutMs, refreshToken });
    return { accessToken, refreshToken, org, userId, issuedAt };
  }

  lookupAccessToken(token: string, now = Date.now()): TokenLookup {
    const entry = this.accessTokens.get(token);
    const org = entry && this.orgs.get(entry.orgId);
    if (!entry || !org || entry.expiresAt <= now) return { error: "INVALID_SESSION_ID" };
    return { org, entry };
  }

  /** `grant_type=refresh_token`: a new access token; with rotation, a new refresh token and the old one dies. */
  refresh(refreshToken: string): TokenGrant | undefined {
    const entry = this.refreshTokens.get(refreshToken);
    const org = entry && this.orgs.get(entry.orgId);
    if (!entry || !org) return undefined;
    if (this.options.refreshTokenRotation) {
      this.refreshTokens.delete(refreshToken);
      return this.issueTokens(org, entry.userId, true);
    }
    return this.issueTokens(org, entry.userId, refreshToken);
  }

  /** Revoking a refresh token also ends the sessions issued from it; revoking an access token ends that session. */
  revoke(token: string): boolean {
    if (this.refreshTokens.delete(token)) {
      for (const [access, entry] of this.accessTokens) if (entry.refreshToken === token) this.accessTokens.delete(access);
      return true;
    }
    return this.accessTokens.delete(token);
  }

  revokeRefreshTokens(org: Org): void {
    for (const [token, entry] of this.refreshTokens) if (entry.orgId === org.orgId) this.revoke(token);
  }

  expireAccessTokens(org: Org): void {
    for (const entry of this.accessTokens.values()) if (entry.orgId === org.orgId) entry.expiresAt = Date.now() - 1;
  }

  /** the newest live access token of the org's integration user (for the admin account list) */
  currentTokens(org: Org): { accessToken: string; refreshToken: string | undefined } | undefined {
    let found: { accessToken: string; refreshToken: string | undefined } | undefined;
    for (const [accessToken, entry] of this.accessTokens) {
      if (entry.orgId === org.orgId && entry.expiresAt > Date.now()) found = { accessToken, refreshToken: entry.refreshToken };
    }
    return found;
  }

  createCode(org: Org, redirectUri: string, codeChallenge: string | undefined): string {
    const code = `aPrx${randomBytes(36).toString("base64url")}`;
    this.codes.set(code, { orgId: org.orgId, redirectUri, codeChallenge, expiresAt: Date.now() + CODE_TTL_MS });
    return code;
  }

  /** Redeems a code once. PKCE: S256 of the verifier must equal the stored challenge. */
  redeemCode(code: string, redirectUri: string | undefined, codeVerifier: string | undefined): { org: Org } | { error: string; description: string } {
    const entry = this.codes.get(code);
    this.codes.delete(code);
    const org = entry && this.orgs.get(entry.orgId);
    if (!entry || !org || entry.expiresAt <= Date.now()) return { error: "invalid_grant", description: "invalid authorization code" };
    if (redirectUri !== entry.redirectUri) return { error: "redirect_uri_mismatch", description: "redirect_uri must match configuration" };
    if (entry.codeChallenge !== undefined) {
      const computed = codeVerifier === undefined ? undefined : createHash("sha256").update(codeVerifier).digest("base64url");
      if (computed !== entry.codeChallenge) return { error: "invalid_grant", description: "invalid code verifier" };
    }
    return { org };
  }

  /** The token response's `signature`: HMAC-SHA256 of id + issued_at under the consumer secret, base64. */
  signature(idUrl: string, issuedAt: number): string {
    return createHmac("sha256", this.options.clientSecret).update(`${idUrl}${issuedAt}`).digest("base64");
  }

  idUrl(org: Org, userId: string): string {
    return `${this.baseUrl}/id/${org.orgId}/${userId}`;
  }

  /** The LeadChangeEvent schema for the org's current fields; every schema ever used stays resolvable by id. */
  schemaFor(org: Org): EventSchema {
    const schema = buildLeadEventSchema(org.fields());
    if (!this.schemas.has(schema.schemaId)) this.schemas.set(schema.schemaId, schema);
    return this.schemas.get(schema.schemaId) as EventSchema;
  }

  schemaById(schemaId: string): EventSchema | undefined {
    return this.schemas.get(schemaId);
  }

  pendingNotifications(org: Org): number {
    let pending = 0;
    for (const sub of this.subscriptions) if (sub.orgId === org.orgId) pending += sub.pending();
    return pending;
  }

  /** The state a restarted emulator needs (state/snapshot.ts says what is left out). */
  snapshot(): SalesforceSnapshotJson {
    return {
      app: { clientId: this.options.clientId, clientSecret: this.options.clientSecret },
      counter: this.counter,
      orgs: [...this.orgs.values()].map((org) => org.snapshot()),
      accessTokens: [...this.accessTokens.entries()].map(([token, entry]) => [token, { orgId: entry.orgId, userId: entry.userId, expiresAt: entry.expiresAt, ...(entry.refreshToken !== undefined && { refreshToken: entry.refreshToken }) }]),
      refreshTokens: [...this.refreshTokens.entries()],
      schemas: [...this.schemas.values()].map((schema) => schema.json),
    };
  }

  /** Loads a snapshot into this (new, empty) state; the app's key and secret come from the options (see the start function). */
  restoreSnapshot(snapshot: SalesforceSnapshot): void {
    this.counter = snapshot.counter;
    for (const json of snapshot.schemas) {
      const schema = schemaFromJson(json);
      this.schemas.set(schema.schemaId, schema);
    }
    for (const stored of snapshot.orgs) {
      const org = new Org(stored.orgId, stored.apiUserId, stored.uiUserId, stored.username, this.options, (p) => this.nextId(p));
      org.restoreSnapshot(stored);
      this.orgs.set(org.orgId, org);
    }
    for (const [token, { orgId, userId, expiresAt, refreshToken }] of snapshot.accessTokens) this.accessTokens.set(token, { orgId, userId, expiresAt, refreshToken });
    for (const [token, entry] of snapshot.refreshTokens) this.refreshTokens.set(token, entry);
  }

  /** Applies a transaction and sends its change events through the fault filter onto the org's bus. */
  commit(org: Org, writes: PendingWrite[]): ChangeEvent[] {
    for (const write of writes) org.leads.apply(write);
    return this.announce(org, writes);
  }

  /** Publishes the change events of writes already applied (when Lead is selected for Change Data Capture). */
  announce(org: Org, writes: PendingWrite[]): ChangeEvent[] {
    // only entities selected for Change Data Capture publish (the sandbox can select Lead)
    const selected = writes.filter((w) => org.settings.cdcEntities.has(w.event.entityName));
    if (selected.length === 0) return [];
    return this.publish(org, selected.map((w) => w.event));
  }

  private publish(org: Org, events: NewChangeEvent[]): ChangeEvent[] {
    const schema = this.schemaFor(org);
    const out: NewChangeEvent[] = [];
    for (const event of events) {
      const fault = this.faults.takeForEvent(org.orgId);
      if (fault === "drop_notifications") {
        org.changeLog.dropped++;
        org.notifications.failed++;
        continue;
      }
      if (fault === "gap_events") {
        // a gap event says "something changed, read the record": header only, no field data
        out.push({ ...event, changeType: `GAP_${event.changeType}` as NewChangeEvent["changeType"], changedFields: [], nulledFields: [], diffFields: [], fields: {} });
        continue;
      }
      if (fault === "overflow_events") {
        out.push({ ...event, changeType: "GAP_OVERFLOW", recordIds: [], changedFields: [], nulledFields: [], diffFields: [], fields: {} });
        continue;
      }
      out.push(event);
    }
    return out.length > 0 ? org.changeLog.publish(out, schema.schemaId) : [];
  }
}
