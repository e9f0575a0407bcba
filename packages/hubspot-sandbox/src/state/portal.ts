import type { AuthType, PortalInfo, SandboxTier } from "../options.js";
import { ContactStore } from "./contacts.js";
import { PropertyStore } from "./properties.js";
import { limitsFor, PortalRateLimiter, type PortalLimits } from "./rate-limiter.js";

/** Admin overrides of the tier's limits (`PATCH /__sandbox/portals/:portalId`). */
export interface LimitOverrides {
  dailyLimit?: number;
  rateLimitPer10s?: number;
}

export interface CallStats {
  total: number;
  byEndpoint: Map<string, number>;
  throttled: number;
}

/** One emulated HubSpot account: its CRM data, credentials, budget and counters. */
export class Portal {
  readonly contacts: ContactStore;
  readonly properties = new PropertyStore();
  readonly rateLimiter: PortalRateLimiter;
  readonly calls: CallStats = { total: 0, byEndpoint: new Map(), throttled: 0 };
  overrides: LimitOverrides = {};
  accessToken = "";
  refreshToken: string | undefined;
  /** the user id in `sourceId: "userId:N"` of changes made in the UI */
  readonly uiUserId: number;

  constructor(
    readonly portalId: number,
    public tier: SandboxTier,
    readonly authType: AuthType,
    nextContactId: () => string,
  ) {
    this.contacts = new ContactStore(nextContactId);
    this.rateLimiter = new PortalRateLimiter(() => this.limits());
    this.uiUserId = 9_000_000 + (portalId % 1_000_000);
  }

  limits(): PortalLimits {
    const base = limitsFor(this.tier, this.authType);
    return {
      ...base,
      ...(this.overrides.rateLimitPer10s !== undefined && { per10s: this.overrides.rateLimitPer10s }),
      ...(this.overrides.dailyLimit !== undefined && { daily: this.overrides.dailyLimit }),
    };
  }

  countCall(endpoint: string): void {
    this.calls.total++;
    this.calls.byEndpoint.set(endpoint, (this.calls.byEndpoint.get(endpoint) ?? 0) + 1);
  }

  info(): PortalInfo {
    return {
      portalId: this.portalId,
      accessToken: this.accessToken,
      tier: this.tier,
      authType: this.authType,
      ...(this.refreshToken !== undefined && { refreshToken: this.refreshToken }),
    };
  }
}
