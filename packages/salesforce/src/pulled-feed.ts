import { status } from "@grpc/grpc-js";
import { isCrmReauthRequired, type ClientContext, type ProviderEnvironment, type PulledFeed, type RecordChange } from "@leadsync/core";
import { decodeReplayId, encodeReplayId, mapChangeEvent, type DecodedChangeEvent } from "./change-events.js";
import { LEAD_CHANGE_CHANNEL } from "./constants.js";
import { SalesforceRateLimitedError } from "./errors.js";
import { stateOf } from "./integration-state.js";
import { PubSubClient, PubSubError, type ChangeEventMessage, type PubSubEndpoint, type ReplayStart } from "./pubsub/index.js";

/**
 * The Change Data Capture feed of one integration: the Pub/Sub client's `subscribe` on `/data/LeadChangeEvent`
 * from the stored replay id (CUSTOM) or LATEST.
 *
 * Acknowledgement drives flow control. Events are taken from the stream in batches of at most `batchSize`; a batch
 * is mapped and handed to `deliver`, and only when `deliver` resolved (the changes are queued durably) is its last
 * replay id the checkpoint — and only then is the next event pulled, which is when the client asks the server for
 * more (`num_requested`, refilled in halves of the window; `batchSize` is that half). A failed `deliver` is retried
 * with the same batch (backoff); a crash or a dropped stream resumes from the last acknowledged replay id: nothing
 * lost, and a redelivery dedupes on the changes' identity.
 *
 * Keepalives (no events, the stream's latest replay id) are delivered as an empty batch when nothing is in hand: a
 * quiet org's checkpoint stays fresh instead of ageing past the 72 h retention.
 */

/** `grpcs://host:port` (TLS) or `grpc://host:port` (plaintext); Salesforce's own endpoint by default. */
export const DEFAULT_PUBSUB_URL = "grpcs://api.pubsub.salesforce.com:7443";
/**
 * The org's CDC delivery allocation (rolling 24 h, shared by every subscriber) is spent: events wait on the bus
 * (72 h), so we come back in a while instead of every few seconds.
 */
export const DELIVERY_LIMIT_PAUSE_MS = 15 * 60_000;
/** Salesforce serves at most 100 events per FetchRequest; the client refills in halves of its window. */
const WINDOW = 100;

export interface PulledFeedOptions {
  /**
   * Default: the integration's `state.pubSubUrl` (from the connect body), else the environment's `pubSubEndpoint`
   * (+ `pubSubTls`), else Salesforce's endpoint.
   */
  pubSubUrl?: string;
  /** A PEM root CA to trust for `grpcs://` (the emulator's generated CA). */
  rootCertPem?: string;
  /** Events per `deliver`, ≤ 50 (half the window, so the refill follows the acknowledgement). */
  batchSize?: number;
  /** Reconnect backoff after a failure (default 1 s doubling to 30 s). */
  reconnectDelayMs?: { min: number; max: number };
}

export function endpointOf(url: string, rootCertPem?: string): PubSubEndpoint {
  const match = /^(grpcs?):\/\/([^/]+)\/?$/.exec(url);
  if (!match) throw new Error(`not a Pub/Sub URL (grpc://host:port or grpcs://host:port): ${url}`);
  return { address: match[2] as string, tls: match[1] === "grpc" ? false : rootCertPem === undefined ? {} : { rootCertPem } };
}

/** The environment's Pub/Sub endpoint (`SALESFORCE_PUBSUB_URL` → `feedEndpoint`: `grpcs://host:port`, `grpc://` for a plaintext emulator). */
function environmentUrl(env: ProviderEnvironment): string | undefined {
  return env.feedEndpoint === undefined || env.feedEndpoint === "" ? undefined : env.feedEndpoint;
}

/** One gRPC channel per endpoint, shared by every integration's subscription (the client is multi-tenant). */
class SharedClients {
  private readonly clients = new Map<string, { client: PubSubClient; users: number }>();

  take(key: string, endpoint: PubSubEndpoint): PubSubClient {
    let entry = this.clients.get(key);
    if (!entry) {
      entry = { client: new PubSubClient(endpoint), users: 0 };
      this.clients.set(key, entry);
    }
    entry.users++;
    return entry.client;
  }

  give(key: string): void {
    const entry = this.clients.get(key);
    if (!entry || --entry.users > 0) return;
    this.clients.delete(key);
    entry.client.close();
  }
}

export function createSalesforcePulledFeed(options: PulledFeedOptions = {}): PulledFeed {
  const clients = new SharedClients();
  return {
    async start(context, handlers) {
      const state = context.integration.state;
      const fromState = typeof state["pubSubUrl"] === "string" && state["pubSubUrl"] !== "" ? state["pubSubUrl"] : undefined;
      const url = options.pubSubUrl ?? fromState ?? environmentUrl(context.env) ?? DEFAULT_PUBSUB_URL;
      const key = `${url}\u001f${options.rootCertPem ?? ""}`;
      const client = clients.take(key, endpointOf(url, options.rootCertPem));
      const subscription = new LeadChangeSubscription(client, context, handlers, {
        batchSize: Math.max(1, Math.min(WINDOW / 2, options.batchSize ?? WINDOW / 2)),
        delay: options.reconnectDelayMs ?? { min: 1_000, max: 30_000 },
      });
      subscription.run(handlers.resumeFrom === null ? undefined : decodeReplayId(handlers.resumeFrom));
      return {
        async close() {
          await subscription.close();
          clients.give(key);
        },
      };
    },
  };
}

/** The feed `salesforceProvider.pulledFeed` uses: the endpoint from each integration's state. */
export const salesforcePulledFeed: PulledFeed = createSalesforcePulledFeed();

type Handlers = Parameters<PulledFeed["start"]>[1];
type Next = IteratorResult<ChangeEventMessage, void>;
const IDLE = Symbol("idle");

class LeadChangeSubscription {
  private readonly log: ClientContext["logger"];
  private readonly abort = new AbortController();
  /** The last replay id `deliver` acknowledged (undefined: none, subscribe from LATEST). */
  private acknowledged: Buffer | undefined;
  /** The newest keepalive position not yet acknowledged. */
  private keepalive: Buffer | undefined;
  private wakeOnKeepalive: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly client: PubSubClient,
    private readonly context: ClientContext,
    private readonly handlers: Handlers,
    private readonly tuning: { batchSize: number; delay: { min: number; max: number } },
  ) {
    this.log = context.logger.child({ provider: "salesforce", integrationId: context.integration.id, feed: LEAD_CHANGE_CHANNEL });
  }

  run(from: Buffer | undefined): void {
    this.acknowledged = from;
    this.done = this.loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wakeOnKeepalive?.();
    await this.done;
  }

  /** Subscribes, consumes until the stream fails, and resubscribes from the checkpoint, until closed. */
  private async loop(): Promise<void> {
    let failures = 0;
    let forceRefresh = false;
    let refreshedAt = 0;
    while (!this.closed) {
      try {
        const progressed = await this.consume(forceRefresh);
        forceRefresh = false;
        if (progressed) failures = 0;
        if (this.closed) return;
        // The server ended the stream without an error: resubscribe.
        failures++;
      } catch (err) {
        if (this.closed) return;
        forceRefresh = false;
        if (err instanceof PubSubError && err.isReplayIdInvalid) {
          // The checkpoint is past retention (or not this org's): what happened meanwhile is for reconciliation.
          this.log.warn({ errorCode: err.errorCode }, "Salesforce no longer has the stored replay id; resuming from LATEST");
          this.handlers.onGap(`stored replay id rejected (${err.errorCode ?? err.message}): events since the checkpoint are gone`);
          this.acknowledged = undefined;
          continue;
        }
        if (err instanceof PubSubError && err.code === status.RESOURCE_EXHAUSTED) {
          // A wait, not a failure: reported in the log (not to onError, whose caller would resubscribe at once).
          const limited = new SalesforceRateLimitedError(`Salesforce change feed paused: the org's daily event delivery allocation is spent (${err.errorCode ?? err.message})`, {
            retryAfterMs: DELIVERY_LIMIT_PAUSE_MS,
            policy: "DailyDeliveredPlatformEvents",
            daily: true,
          });
          this.log.error({ err: limited, retryAfterMs: DELIVERY_LIMIT_PAUSE_MS }, limited.message);
          await this.sleep(DELIVERY_LIMIT_PAUSE_MS);
          continue;
        }
        if (isCrmReauthRequired(err)) {
          // No point retrying with a refused refresh token: the integration needs the customer.
          this.handlers.onError(err);
          return;
        }
        // A refused session gets a refreshed token at once, but not again within a minute (then it is a failure).
        if (err instanceof PubSubError && err.isAuthError && Date.now() - refreshedAt > 60_000) {
          this.log.info({}, "Salesforce Pub/Sub refused the session; refreshing the access token");
          forceRefresh = true;
          refreshedAt = Date.now();
          continue;
        }
        this.handlers.onError(err);
        failures++;
      }
      const delay = Math.min(this.tuning.delay.max, this.tuning.delay.min * 2 ** Math.min(Math.max(failures - 1, 0), 10));
      this.log.warn({ delayMs: delay }, "Salesforce change feed interrupted; resubscribing from the checkpoint");
      await this.sleep(delay);
    }
  }

  /** One subscription: batches out, acknowledgements in. True when at least one batch was acknowledged. */
  private async consume(forceRefresh: boolean): Promise<boolean> {
    const accessToken = await this.context.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    // Closed while the token was awaited: an abort listener added now would never fire, so do not subscribe at all.
    if (this.abort.signal.aborted) return false;
    const replay: ReplayStart = this.acknowledged === undefined ? { preset: "LATEST" } : { preset: "CUSTOM", replayId: this.acknowledged };
    this.log.info({ from: replay.preset === "CUSTOM" ? encodeReplayId(replay.replayId) : "LATEST" }, "Salesforce change feed subscribing");
    // Ends this stream on close, and on the way out of here (a failed deliver) even while an event is awaited.
    const stream = new AbortController();
    const stop = () => stream.abort();
    this.abort.signal.addEventListener("abort", stop, { once: true });
    const events = this.client.subscribe({
      accessToken,
      instanceUrl: stateOf(this.context).instanceUrl,
      tenantId: this.context.integration.externalAccountId,
      topic: LEAD_CHANGE_CHANNEL,
      replay,
      window: WINDOW,
      signal: stream.signal,
      onKeepalive: (latest) => {
        this.keepalive = latest;
        this.wakeOnKeepalive?.();
      },
    });
    let progressed = false;
    let pending: Promise<Next> | undefined;
    try {
      for (;;) {
        pending ??= events.next();
        const first = await this.nextOrKeepalive(pending);
        if (first === IDLE) {
          await this.acknowledgeKeepalive();
          continue;
        }
        pending = undefined;
        if (first.done || this.closed) return progressed;
        const batch = [first.value];
        // Take what the stream already holds (it resolves within microtasks), up to a batch.
        while (batch.length < this.tuning.batchSize) {
          pending = events.next();
          const more = await Promise.race([pending, new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)))]);
          if (more === IDLE) break;
          pending = undefined;
          if (more.done) break;
          batch.push(more.value);
        }
        if (this.closed) return progressed;
        await this.deliver(batch);
        progressed = true;
        if (this.closed) return progressed;
      }
    } finally {
      this.abort.signal.removeEventListener("abort", stop);
      stream.abort();
      // The awaited event (if any) resolves once the call is cancelled; then the generator can finish.
      await pending?.catch(() => undefined);
      await events.return(undefined).catch(() => undefined);
    }
  }

  /** The next event, or IDLE when a keepalive arrives while nothing is in hand. */
  private nextOrKeepalive(pending: Promise<Next>): Promise<Next | typeof IDLE> {
    if (this.keepalive !== undefined) return Promise.resolve(IDLE);
    return Promise.race([pending, new Promise<typeof IDLE>((resolve) => (this.wakeOnKeepalive = () => resolve(IDLE)))]).finally(() => {
      this.wakeOnKeepalive = undefined;
    });
  }

  private async acknowledgeKeepalive(): Promise<void> {
    const latest = this.keepalive;
    this.keepalive = undefined;
    if (this.closed || latest === undefined || latest.length === 0) return;
    if (this.acknowledged !== undefined && latest.equals(this.acknowledged)) return;
    await this.handlers.deliver([], encodeReplayId(latest));
    this.acknowledged = latest;
  }

  private async deliver(batch: readonly ChangeEventMessage[]): Promise<void> {
    const context = { accountId: this.context.integration.externalAccountId, userId: stateOf(this.context).userId };
    const changes: RecordChange[] = [];
    for (const message of batch) {
      const mapped = mapChangeEvent(toDecoded(message), context);
      if (mapped.reconcile !== undefined) this.handlers.onGap(`${mapped.reconcile}; reconcile`);
      changes.push(...mapped.changes);
    }
    const last = (batch[batch.length - 1] as ChangeEventMessage).replayId;
    // A rejected batch is kept and offered again (nothing more is pulled meanwhile, so the stream waits): resubscribing
    // instead could not replay it when there is no checkpoint yet (a LATEST start).
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handlers.deliver(changes, encodeReplayId(last));
        break;
      } catch (err) {
        this.handlers.onError(err);
        if (this.closed) return;
        await this.sleep(Math.min(this.tuning.delay.max, this.tuning.delay.min * 2 ** Math.min(attempt - 1, 10)));
        if (this.closed) return;
      }
    }
    this.acknowledged = last;
    // Events delivered after the keepalive was sent are newer than its position.
    this.keepalive = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.abort.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

/** The wire client's decoded event → the mapping's input. */
function toDecoded(message: ChangeEventMessage): DecodedChangeEvent {
  return {
    replayId: message.replayId,
    header: {
      entityName: message.entityName,
      recordIds: message.recordIds,
      changeType: message.changeType,
      changeOrigin: message.changeOrigin,
      transactionKey: message.transactionKey,
      sequenceNumber: message.sequenceNumber,
      commitTimestamp: message.commitTimestamp,
      commitUser: message.commitUser,
      changedFields: message.changedFields,
      nulledFields: message.nulledFields,
      diffFields: message.diffFields,
    },
    fields: message.fields,
  };
}
