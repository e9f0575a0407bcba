import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { loadPubSubPackage, type FetchRequestMessage, type FetchResponseMessage } from "@leadsync/salesforce/pubsub";
import { encodeEvent } from "../cdc/avro-schema.js";
import type { ChangeEvent } from "../cdc/change-log.js";
import type { Org } from "../state/org.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { PUBSUB_ERROR_CODES, pubsubError } from "./errors.js";
import type { SandboxTls } from "./tls.js";

/** The topics whose events the sandbox has: Lead changes, alone or in the all-objects channel. */
export const CDC_TOPICS = new Set(["/data/LeadChangeEvent", "/data/ChangeEvents"]);
/** Salesforce serves at most 100 events per FetchRequest. */
const MAX_NUM_REQUESTED = 100;

export function encodeReplayId(replayId: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(replayId);
  return buffer;
}

function decodeReplayId(buffer: Buffer | undefined): bigint | undefined {
  return buffer && buffer.length === 8 ? buffer.readBigUInt64BE() : undefined;
}

type AuthResult = { org: Org } | { error: ReturnType<typeof pubsubError> };

/**
 * The three metadata headers, checked like Salesforce: a live session for `accesstoken`, whose org is `tenantid`
 * (15 or 18 chars) and lives at `instanceurl`.
 */
function authenticate(state: SandboxState, metadata: grpc.Metadata, token = String(metadata.get("accesstoken")[0] ?? "")): AuthResult {
  // the sandbox's REST side is plain http; clients that insist on an https instance URL may send that form
  const instanceUrl = String(metadata.get("instanceurl")[0] ?? "").replace(/\/$/, "").replace(/^https:/, "http:");
  const tenantId = String(metadata.get("tenantid")[0] ?? "");
  const lookup = token ? state.lookupAccessToken(token) : undefined;
  const ok =
    lookup !== undefined && !("error" in lookup) && instanceUrl === state.baseUrl && tenantId.length >= 15 && lookup.org.orgId.startsWith(tenantId.slice(0, 15));
  if (!ok) {
    return {
      error: pubsubError(grpc.status.UNAUTHENTICATED, PUBSUB_ERROR_CODES.auth, "An authentication exception occurred. Provide valid authentication via metadata headers (accesstoken, instanceurl, tenantid)."),
    };
  }
  return { org: lookup.org };
}

export interface PubSubServer {
  port: number;
  close(): Promise<void>;
}

/** The Pub/Sub API (eventbus.v1.PubSub) over the sandbox's orgs' change logs. */
export async function startPubSubServer(state: SandboxState, options: { host: string; port: number; tls: SandboxTls | undefined }): Promise<PubSubServer> {
  const { PubSub } = loadPubSubPackage();
  const server = new grpc.Server();
  const unimplemented = pubsubError(grpc.status.UNIMPLEMENTED, PUBSUB_ERROR_CODES.unimplemented, "The sandbox does not implement this RPC.");

  server.addService(PubSub.service, {
    GetTopic: (call: grpc.ServerUnaryCall<{ topic_name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const auth = authenticate(state, call.metadata);
      if ("error" in auth) return callback(auth.error);
      const topic = call.request.topic_name;
      if (!CDC_TOPICS.has(topic)) return callback(pubsubError(grpc.status.NOT_FOUND, PUBSUB_ERROR_CODES.topicNotFound, `Topic not found: ${topic}.`));
      return callback(null, { topic_name: topic, tenant_guid: auth.org.orgId, can_publish: false, can_subscribe: true, schema_id: state.schemaFor(auth.org).schemaId, rpc_id: randomUUID() });
    },

    GetSchema: (call: grpc.ServerUnaryCall<{ schema_id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const auth = authenticate(state, call.metadata);
      if ("error" in auth) return callback(auth.error);
      const schema = state.schemaById(call.request.schema_id);
      if (!schema) return callback(pubsubError(grpc.status.NOT_FOUND, PUBSUB_ERROR_CODES.schemaNotFound, `Schema not found: ${call.request.schema_id}.`));
      return callback(null, { schema_json: schema.json, schema_id: schema.schemaId, rpc_id: randomUUID() });
    },

    Subscribe: (call: grpc.ServerDuplexStream<FetchRequestMessage, FetchResponseMessage>) => subscribe(state, call),

    Publish: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(unimplemented),
    PublishStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit("error", unimplemented),
    ManagedSubscribe: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit("error", unimplemented),
  });

  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(options.tls.keyPem), cert_chain: Buffer.from(options.tls.certPem) }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // streams never end by themselves: give them a moment, then cut them
        const timer = setTimeout(() => server.forceShutdown(), 500);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * One Subscribe stream: the first FetchRequest fixes topic and start (LATEST / EARLIEST / CUSTOM after replay_id);
 * every FetchRequest adds `num_requested` credit. The server never sends more events than credited, sends a
 * keepalive (no events, `latest_replay_id` = the position the client can resume from) after `keepaliveMs` of silence.
 */
function subscribe(state: SandboxState, call: grpc.ServerDuplexStream<FetchRequestMessage, FetchResponseMessage>): void {
  let org: Org | undefined;
  let token = String(call.metadata.get("accesstoken")[0] ?? "");
  let cursor = 0n;
  let credit = 0;
  let ended = false;
  let keepalive: NodeJS.Timeout | undefined;
  const registration = { orgId: "", pending: () => (org ? org.changeLog.countAfter(cursor) : 0) };

  const finish = (error?: ReturnType<typeof pubsubError>) => {
    if (ended) return;
    ended = true;
    clearTimeout(keepalive);
    state.subscriptions.delete(registration);
    org?.changeLog.off("event", onEvent);
    if (error) call.emit("error", error);
  };

  const armKeepalive = () => {
    clearTimeout(keepalive);
    keepalive = setTimeout(() => {
      if (ended) return;
      call.write({ events: [], latest_replay_id: encodeReplayId(cursor), rpc_id: randomUUID(), pending_num_requested: credit });
      armKeepalive();
    }, state.options.keepaliveMs);
    keepalive.unref();
  };

  const pump = () => {
    if (ended || !org || credit <= 0) return;
    const allowance = org.settings.dailyDeliveredEvents - org.deliveries.used();
    if (allowance <= 0) {
      if (org.changeLog.countAfter(cursor) > 0) {
        finish(pubsubError(grpc.status.RESOURCE_EXHAUSTED, PUBSUB_ERROR_CODES.deliveryLimit, "The event delivery allocation of the org (rolling 24 hours) has been exceeded."));
      }
      return;
    }
    const batch = org.changeLog.after(cursor, Math.min(credit, allowance));
    if (batch.length === 0) return;
    credit -= batch.length;
    cursor = (batch[batch.length - 1] as ChangeEvent).replayId;
    const events = batch.map((event) => {
      const schema = state.schemaById(event.schemaId);
      if (!schema) throw new Error(`schema ${event.schemaId} vanished`);
      return { event: { id: randomUUID(), schema_id: event.schemaId, payload: encodeEvent(schema, event), headers: [] }, replay_id: encodeReplayId(event.replayId) };
    });
    org.notifications.delivered += events.length;
    org.deliveries.record(Date.now(), events.length);
    call.write({ events, latest_replay_id: encodeReplayId(cursor), rpc_id: randomUUID(), pending_num_requested: credit });
    armKeepalive();
  };

  const onEvent = () => pump();

  call.on("data", (request: FetchRequestMessage) => {
    if (ended) return;
    if (!org) {
      const auth = authenticate(state, call.metadata, token);
      if ("error" in auth) return finish(auth.error);
      const topic = request.topic_name ?? "";
      if (!CDC_TOPICS.has(topic)) return finish(pubsubError(grpc.status.NOT_FOUND, PUBSUB_ERROR_CODES.topicNotFound, `Topic not found: ${topic}.`));
      const preset = request.replay_preset ?? "LATEST";
      if (preset === "CUSTOM") {
        const replayId = decodeReplayId(request.replay_id);
        if (replayId === undefined || !auth.org.changeLog.isReplayable(replayId)) {
          return finish(
            pubsubError(grpc.status.INVALID_ARGUMENT, PUBSUB_ERROR_CODES.replayIdCorrupted, `The Replay ID validation failed. Ensure that the Replay ID is valid, and not older than the retention window (${state.options.retentionMs / 3_600_000} hours).`),
          );
        }
        cursor = replayId;
      } else cursor = preset === "EARLIEST" ? 0n : auth.org.changeLog.latestReplayId();
      org = auth.org;
      registration.orgId = org.orgId;
      state.subscriptions.add(registration);
      org.changeLog.on("event", onEvent);
      armKeepalive();
    } else {
      // a client may hand over a fresh session on a long-lived stream; the current one is re-checked on every request
      if (request.auth_refresh) token = request.auth_refresh;
      const auth = authenticate(state, call.metadata, token);
      if ("error" in auth) return finish(auth.error);
    }
    credit += Math.min(Math.max(request.num_requested ?? 0, 0), MAX_NUM_REQUESTED);
    pump();
  });
  call.on("end", () => {
    finish();
    call.end();
  });
  call.on("cancelled", () => finish());
  call.on("error", () => finish());
}
