import * as grpc from "@grpc/grpc-js";
import { isCrmReauthRequired, type ClientContext, type PulledFeed, type RecordChange } from "@leadsync/core";
import { decodeReplayId, encodeReplayId, mapChangeEvent, type DecodedChangeEvent } from "./change-events.js";
import { LEAD_CHANGE_CHANNEL } from "./constants.js";
import { decodeChangeEvent, parseSchema, type ChangeEventMessage, type ParsedSchema } from "./pubsub/decode.js";
import { loadPubSubPackage, type FetchRequestMessage, type FetchResponseMessage } from "./pubsub/proto.js";
import { stateOf } from "./integration-state.js";

/**
 * The Change Data Capture feed of one integration: a Pub/Sub API `Subscribe` stream on `/data/LeadChangeEvent`.
 *
 * Flow control is the acknowledgement: the stream asks for `batchSize` events; each response is decoded, mapped
 * and handed to `deliver`, and only when `deliver` resolved (the changes are queued durably) is its last replay id
 * the new checkpoint and are that many events asked for again. So at most one batch is ever unacknowledged, and a
 * crash, a failed `deliver` or a dropped stream resumes from the last acknowledged replay id: nothing lost, and a
 * redelivery dedupes on the changes' identity.
 *
 * Keepalives (no events, the bus's latest replay id) are delivered as an empty batch: a quiet org's checkpoint
 * stays fresh instead of ageing past the 72 h retention.
 */

/** Salesforce's public Pub/Sub endpoint (TLS). */
export const DEFAULT_PUBSUB_URL = "grpcs://api.pubsub.salesforce.com:7443";
/** Salesforce serves at most 100 events per FetchRequest. */
const MAX_BATCH = 100;

/** The Pub/Sub error-code trailer of a replay id that is malformed or older than the retention window. */
const REPLAY_ID_INVALID = /replayid\.(corrupted|invalid)|replay ?id validation failed/i;

export interface PulledFeedOptions {
  /**
   * `grpcs://host:port` (TLS, public roots) or `grpc://host:port` (plaintext: the emulator without TLS). Default: the
   * integration's `state.pubSubUrl` (from the connect body), else Salesforce's endpoint.
   */
  pubSubUrl?: string;
  /** A PEM root CA to trust for `grpcs://` (the emulator's generated CA). */
  rootCertPem?: string;
  /** Events asked for at a time, ≤ 100 (default 100). */
  batchSize?: number;
  /** Reconnect backoff after a failure (default 1 s doubling to 30 s). */
  reconnectDelayMs?: { min: number; max: number };
}

interface Endpoint {
  address: string;
  credentials: grpc.ChannelCredentials;
}

export function resolveEndpoint(url: string, rootCertPem?: string): Endpoint {
  const match = /^(grpcs?):\/\/([^/]+)\/?$/.exec(url);
  if (!match) throw new Error(`not a Pub/Sub URL (grpc://host:port or grpcs://host:port): ${url}`);
  const secure = match[1] === "grpcs";
  return {
    address: match[2] as string,
    credentials: secure ? grpc.credentials.createSsl(rootCertPem === undefined ? null : Buffer.from(rootCertPem)) : grpc.credentials.createInsecure(),
  };
}

export function createSalesforcePulledFeed(options: PulledFeedOptions = {}): PulledFeed {
  return {
    async start(context, handlers) {
      const state = context.integration.state;
      const url = options.pubSubUrl ?? (typeof state["pubSubUrl"] === "string" ? state["pubSubUrl"] : DEFAULT_PUBSUB_URL);
      const subscription = new LeadChangeSubscription(context, handlers, resolveEndpoint(url, options.rootCertPem), {
        batchSize: Math.max(1, Math.min(MAX_BATCH, options.batchSize ?? MAX_BATCH)),
        delay: options.reconnectDelayMs ?? { min: 1_000, max: 30_000 },
      });
      subscription.open(handlers.resumeFrom === null ? undefined : decodeReplayId(handlers.resumeFrom));
      return { close: () => subscription.close() };
    },
  };
}

/** The feed `salesforceProvider.pulledFeed` uses: endpoint from the integration's state. */
export const salesforcePulledFeed: PulledFeed = createSalesforcePulledFeed();

type Handlers = Parameters<PulledFeed["start"]>[1];
type SubscribeStream = grpc.ClientDuplexStream<FetchRequestMessage, FetchResponseMessage>;

interface PubSubClient extends grpc.Client {
  Subscribe(metadata: grpc.Metadata): SubscribeStream;
  GetSchema(request: { schema_id: string }, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: { schema_json: string; schema_id: string }) => void): void;
}

class LeadChangeSubscription {
  private readonly client: PubSubClient;
  private readonly schemas = new Map<string, Promise<ParsedSchema>>();
  private readonly log: ClientContext["logger"];
  private stream: SubscribeStream | undefined;
  /** The last replay id `deliver` acknowledged (undefined: none yet, subscribe from LATEST). */
  private acknowledged: Buffer | undefined;
  /** Responses are handled one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Bumped per stream, so late callbacks of a replaced stream do nothing. */
  private generation = 0;

  constructor(
    private readonly context: ClientContext,
    private readonly handlers: Handlers,
    endpoint: Endpoint,
    private readonly tuning: { batchSize: number; delay: { min: number; max: number } },
  ) {
    const { PubSub } = loadPubSubPackage();
    this.client = new PubSub(endpoint.address, endpoint.credentials) as unknown as PubSubClient;
    this.log = context.logger.child({ provider: "salesforce", integrationId: context.integration.id, feed: LEAD_CHANGE_CHANNEL });
  }

  open(from: Buffer | undefined): void {
    this.acknowledged = from;
    void this.connect(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.generation++;
    this.stream?.cancel();
    await this.work.catch(() => undefined);
    this.client.close();
  }

  private async connect(forceRefresh: boolean): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    let metadata: grpc.Metadata;
    try {
      metadata = await this.metadata(forceRefresh);
    } catch (err) {
      if (isCrmReauthRequired(err)) return this.stop(err);
      return this.retry(err);
    }
    if (this.closed || generation !== this.generation) return;
    const stream = this.client.Subscribe(metadata);
    this.stream = stream;
    const replay = this.acknowledged;
    stream.write({
      topic_name: LEAD_CHANGE_CHANNEL,
      replay_preset: replay === undefined ? "LATEST" : "CUSTOM",
      ...(replay === undefined ? {} : { replay_id: replay }),
      num_requested: this.tuning.batchSize,
    });
    this.log.info({ from: replay === undefined ? "LATEST" : encodeReplayId(replay) }, "Salesforce change feed subscribed");
    stream.on("data", (response: FetchResponseMessage) => {
      if (generation !== this.generation) return;
      this.work = this.work.then(() => this.handle(stream, generation, response, metadata));
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (generation !== this.generation || this.closed) return;
      this.generation++;
      // Let the batch in hand finish (and be acknowledged) before resubscribing from the checkpoint.
      this.work = this.work.then(() => this.onStreamError(error));
    });
    stream.on("end", () => {
      if (generation !== this.generation || this.closed) return;
      this.generation++;
      this.work = this.work.then(() => this.retry(new Error("the Pub/Sub stream ended")));
    });
  }

  private async handle(stream: SubscribeStream, generation: number, response: FetchResponseMessage, metadata: grpc.Metadata): Promise<void> {
    if (this.closed || generation !== this.generation) return;
    const replayIds = response.events.map((e) => e.replay_id);
    const last = replayIds.at(-1) ?? response.latest_replay_id;
    const changes: RecordChange[] = [];
    try {
      for (const consumed of response.events) {
        const schema = await this.schema(consumed.event.schema_id, metadata);
        const message = decodeChangeEvent(schema, consumed.event.id, consumed.event.payload, consumed.replay_id);
        const mapped = mapChangeEvent(toDecoded(message), { accountId: this.context.integration.externalAccountId, userId: stateOf(this.context).userId });
        if (mapped.reconcile !== undefined) this.handlers.onGap(`${mapped.reconcile}: reconcile`);
        changes.push(...mapped.changes);
      }
      // A keepalive that moves nothing forward needs no acknowledgement.
      const moved = last !== undefined && last.length > 0 && (this.acknowledged === undefined || !last.equals(this.acknowledged));
      if (response.events.length > 0 || moved) await this.handlers.deliver(changes, encodeReplayId(last as Buffer));
    } catch (err) {
      // Not acknowledged: resubscribe from the checkpoint, these events come again.
      this.handlers.onError(err);
      this.generation++;
      stream.cancel();
      return this.retry(err);
    }
    if (last !== undefined && last.length > 0) this.acknowledged = last;
    this.failures = 0;
    if (response.events.length > 0 && !this.closed && generation === this.generation) stream.write({ num_requested: response.events.length });
  }

  private async onStreamError(error: grpc.ServiceError): Promise<void> {
    if (this.closed) return;
    const errorCode = String(error.metadata?.get("error-code")[0] ?? "");
    if (error.code === grpc.status.INVALID_ARGUMENT && (REPLAY_ID_INVALID.test(errorCode) || REPLAY_ID_INVALID.test(error.details ?? ""))) {
      // The checkpoint is past retention (or not this org's): what happened meanwhile is for reconciliation.
      this.log.warn({ errorCode }, "Salesforce no longer has the stored replay id; resuming from LATEST");
      this.handlers.onGap(`stored replay id rejected (${errorCode || error.details}): events since the checkpoint are gone`);
      this.acknowledged = undefined;
      return this.connect(false);
    }
    if (error.code === grpc.status.UNAUTHENTICATED) {
      this.log.info({ errorCode }, "Salesforce Pub/Sub refused the session; refreshing the access token");
      return this.connect(true);
    }
    this.handlers.onError(error);
    return this.retry(error);
  }

  private retry(err: unknown): void {
    if (this.closed) return;
    if (isCrmReauthRequired(err)) return this.stop(err);
    this.failures++;
    const delay = Math.min(this.tuning.delay.max, this.tuning.delay.min * 2 ** Math.min(this.failures - 1, 10));
    this.log.warn({ err, delayMs: delay }, "Salesforce change feed interrupted; resubscribing from the checkpoint");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(false), delay);
    this.retryTimer.unref();
  }

  /** The customer must connect again: no point retrying with the same refresh token. */
  private stop(err: unknown): void {
    this.handlers.onError(err);
    this.closed = true;
    this.stream?.cancel();
  }

  private async metadata(forceRefresh: boolean): Promise<grpc.Metadata> {
    const token = await this.context.getAccessToken(forceRefresh ? { forceRefresh: true } : undefined);
    const metadata = new grpc.Metadata();
    metadata.set("accesstoken", token);
    metadata.set("instanceurl", stateOf(this.context).instanceUrl);
    metadata.set("tenantid", this.context.integration.externalAccountId);
    return metadata;
  }

  /** Schemas by id, fetched once (a custom field added to Lead gives events a new schema id). */
  private schema(schemaId: string, metadata: grpc.Metadata): Promise<ParsedSchema> {
    let schema = this.schemas.get(schemaId);
    if (!schema) {
      schema = new Promise<ParsedSchema>((resolve, reject) => {
        this.client.GetSchema({ schema_id: schemaId }, metadata, (error, response) => {
          if (error || !response) return reject(error ?? new Error(`no schema ${schemaId}`));
          resolve(parseSchema(response.schema_id || schemaId, response.schema_json));
        });
      });
      schema.catch(() => this.schemas.delete(schemaId));
      this.schemas.set(schemaId, schema);
    }
    return schema;
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
