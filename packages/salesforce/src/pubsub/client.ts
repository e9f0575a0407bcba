import * as grpc from "@grpc/grpc-js";
import { decodeChangeEvent, parseSchema, type ChangeEventMessage, type ParsedSchema } from "./decode.js";
import { loadPubSubPackage, type ConsumerEventMessage, type FetchRequestMessage, type FetchResponseMessage, type SchemaInfoMessage, type TopicInfoMessage } from "./proto.js";

/** Salesforce's Pub/Sub API endpoint (one for every org; the org is named by the metadata headers). */
export const SALESFORCE_PUBSUB_ADDRESS = "api.pubsub.salesforce.com:7443";
/** Salesforce accepts at most 100 per FetchRequest. */
export const MAX_NUM_REQUESTED = 100;

export interface PubSubEndpoint {
  /** host:port, default api.pubsub.salesforce.com:7443 */
  address?: string;
  /**
   * TLS (the default, with Node's root certificates, as Salesforce's endpoint needs), optionally with another root CA
   * (the sandbox's generated one); `false` = plaintext h2c, for the sandbox without `grpcTls`.
   */
  tls?: { rootCertPem?: string } | false;
}

/** One org's session: the three metadata headers of every Pub/Sub call. */
export interface OrgSession {
  accessToken: string;
  instanceUrl: string;
  /** the org id (18 chars) */
  tenantId: string;
}

export type ReplayStart = { preset: "LATEST" } | { preset: "EARLIEST" } | { preset: "CUSTOM"; replayId: Buffer };

export interface SubscribeOptions extends OrgSession {
  /** e.g. /data/LeadChangeEvent */
  topic: string;
  /** default LATEST */
  replay?: ReplayStart;
  /** events in flight at most (num_requested), default 100; refilled as events are handed on */
  window?: number;
  /** an empty batch (keepalive, ~every 270 s) carries the position to store when no events come */
  onKeepalive?: (latestReplayId: Buffer) => void;
  signal?: AbortSignal;
}

/** A failed RPC: the gRPC status, Salesforce's `error-code` trailer and the rpc id support asks for. */
export class PubSubError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly errorCode: string | undefined,
    readonly rpcId: string | undefined,
    details: string,
  ) {
    super(details);
    this.name = "PubSubError";
  }

  /** the stored replay id is unusable (aged out of retention, or never valid): resubscribe EARLIEST/LATEST and reconcile */
  get isReplayIdInvalid(): boolean {
    return this.code === grpc.status.INVALID_ARGUMENT && (this.errorCode ?? "").includes("replayid");
  }

  get isAuthError(): boolean {
    return this.code === grpc.status.UNAUTHENTICATED;
  }
}

function toPubSubError(error: grpc.ServiceError): PubSubError {
  const trailer = (key: string) => {
    const value = error.metadata?.get(key)[0];
    return value === undefined ? undefined : String(value);
  };
  return new PubSubError(error.code, trailer("error-code"), trailer("rpc-id"), error.details || error.message);
}

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: Res) => void) => void;

interface PubSubStub extends grpc.Client {
  GetTopic: UnaryMethod<{ topic_name: string }, TopicInfoMessage>;
  GetSchema: UnaryMethod<{ schema_id: string }, SchemaInfoMessage>;
  Subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<FetchRequestMessage, FetchResponseMessage>;
}

/**
 * A Pub/Sub API client for many orgs at once: one HTTP/2 channel, each call authenticated by its own org's
 * session headers, schemas cached by id (a schema id names one immutable schema).
 */
export class PubSubClient {
  private readonly stub: PubSubStub;
  private readonly schemas = new Map<string, Promise<ParsedSchema>>();

  constructor(endpoint: PubSubEndpoint = {}) {
    const { PubSub } = loadPubSubPackage();
    const tls = endpoint.tls ?? {};
    const credentials =
      tls === false ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.rootCertPem !== undefined ? Buffer.from(tls.rootCertPem) : null);
    this.stub = new PubSub(endpoint.address ?? SALESFORCE_PUBSUB_ADDRESS, credentials) as unknown as PubSubStub;
  }

  close(): void {
    this.stub.close();
  }

  getTopic(session: OrgSession, topic: string): Promise<TopicInfoMessage> {
    return this.unary(this.stub.GetTopic, session, { topic_name: topic });
  }

  /** The Avro schema with that id, fetched once per client. */
  getSchema(session: OrgSession, schemaId: string): Promise<ParsedSchema> {
    let cached = this.schemas.get(schemaId);
    if (!cached) {
      cached = this.unary(this.stub.GetSchema, session, { schema_id: schemaId }).then((info) => parseSchema(info.schema_id || schemaId, info.schema_json));
      // a failed fetch (expired session, network) must not poison the cache
      cached.catch(() => this.schemas.delete(schemaId));
      this.schemas.set(schemaId, cached);
    }
    return cached;
  }

  /**
   * Subscribes one org to a topic and yields its change events decoded, in order. Never more than `window` events
   * are requested ahead; each event handed on earns the server a new credit (sent in halves of the window).
   * Ends when `signal` aborts or the stream closes; throws PubSubError when Salesforce ends it with an error.
   */
  async *subscribe(options: SubscribeOptions): AsyncGenerator<ChangeEventMessage, void, undefined> {
    const window = Math.min(Math.max(options.window ?? MAX_NUM_REQUESTED, 1), MAX_NUM_REQUESTED);
    const refillAt = Math.max(1, Math.floor(window / 2));
    const call = this.stub.Subscribe(sessionMetadata(options));
    const queue: ConsumerEventMessage[] = [];
    let failure: PubSubError | undefined;
    let ended = false;
    let cancelledByUs = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    call.on("data", (response: FetchResponseMessage) => {
      if (response.events.length === 0) options.onKeepalive?.(response.latest_replay_id);
      else queue.push(...response.events);
      notify();
    });
    call.on("error", (error: grpc.ServiceError) => {
      if (!(cancelledByUs && error.code === grpc.status.CANCELLED)) failure = toPubSubError(error);
      notify();
    });
    call.on("end", () => {
      ended = true;
      notify();
    });
    const abort = () => {
      cancelledByUs = true;
      call.cancel();
    };
    options.signal?.addEventListener("abort", abort, { once: true });

    const replay = options.replay ?? { preset: "LATEST" };
    call.write({
      topic_name: options.topic,
      replay_preset: replay.preset,
      ...(replay.preset === "CUSTOM" && { replay_id: replay.replayId }),
      num_requested: window,
    });
    let handed = 0;
    try {
      for (;;) {
        while (queue.length === 0 && !failure && !ended && !cancelledByUs) await new Promise<void>((resolve) => (wake = resolve));
        const next = queue.shift();
        if (!next) {
          if (failure) throw failure;
          return;
        }
        const schema = await this.getSchema(options, next.event.schema_id);
        yield decodeChangeEvent(schema, next.event.id, next.event.payload, next.replay_id);
        handed++;
        if (handed >= refillAt && !cancelledByUs && !ended && !failure) {
          call.write({ num_requested: handed });
          handed = 0;
        }
      }
    } finally {
      options.signal?.removeEventListener("abort", abort);
      if (!ended) {
        cancelledByUs = true;
        call.cancel();
      }
    }
  }

  private unary<Req, Res>(method: UnaryMethod<Req, Res>, session: OrgSession, request: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
      method.call(this.stub, request, sessionMetadata(session), (error, response) => (error ? reject(toPubSubError(error)) : resolve(response as Res))),
    );
  }
}

function sessionMetadata(session: OrgSession): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("accesstoken", session.accessToken);
  metadata.set("instanceurl", session.instanceUrl);
  metadata.set("tenantid", session.tenantId);
  return metadata;
}
