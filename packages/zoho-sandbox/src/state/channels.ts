/** Notification channels of one org (`/crm/v8/actions/watch`), with Zoho's expiry and garbage collection. */
export const DEFAULT_CHANNEL_LIFE_MS = 60 * 60 * 1000;
export const MAX_CHANNEL_LIFE_MS = 7 * 24 * 60 * 60 * 1000;
export const MAX_TOKEN_LENGTH = 50;

export interface Channel {
  channelId: string;
  /** e.g. `Leads.create`, `Leads.all` */
  events: Set<string>;
  notifyUrl: string;
  token: string | undefined;
  expiresAt: number;
  notifyOnRelatedAction: boolean;
  returnAffectedFieldValues: boolean;
}

const OPERATION_EVENT = { insert: "create", update: "edit", delete: "delete" } as const;

export class ChannelRegistry {
  private readonly channels = new Map<string, Channel>();

  /** A live channel (an expired one is as good as gone: it no longer notifies and cannot be renewed). */
  get(channelId: string, now: number): Channel | undefined {
    const channel = this.channels.get(channelId);
    return channel && channel.expiresAt > now ? channel : undefined;
  }

  live(now: number): Channel[] {
    return [...this.channels.values()].filter((c) => c.expiresAt > now);
  }

  /** Every channel, expired ones included (the garbage collector removes those), for the snapshot. */
  all(): Channel[] {
    return [...this.channels.values()];
  }

  set(channel: Channel): void {
    this.channels.set(channel.channelId, channel);
  }

  remove(channelId: string): boolean {
    return this.channels.delete(channelId);
  }

  /** Forgets expired channels; returns how many. */
  collectGarbage(now: number): number {
    let removed = 0;
    for (const [id, channel] of this.channels) if (channel.expiresAt <= now && this.channels.delete(id)) removed++;
    return removed;
  }

  expireNow(channelId: string, now: number): boolean {
    const channel = this.channels.get(channelId);
    if (!channel) return false;
    channel.expiresAt = now;
    return true;
  }

  /** The live channels that watch this operation on Leads. */
  watching(operation: keyof typeof OPERATION_EVENT, now: number): Channel[] {
    const event = `Leads.${OPERATION_EVENT[operation]}`;
    return this.live(now).filter((c) => c.events.has(event) || c.events.has("Leads.all"));
  }
}
