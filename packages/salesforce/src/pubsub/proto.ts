import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** Our wire-compatible definition of Salesforce's Pub/Sub API (see proto/pubsub.proto). */
export const PUBSUB_PROTO_PATH = fileURLToPath(new URL("../../proto/pubsub.proto", import.meta.url));

/**
 * proto-loader options: field names stay snake_case as on the wire, enums as names, int64 as strings,
 * bytes as Buffers, and absent fields get their defaults (so `events` is always an array).
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, enums: String, longs: String, defaults: true, oneofs: true };

/** The loaded `eventbus.v1` package: `PubSub` is the client constructor and `PubSub.service` its service definition. */
export function loadPubSubPackage(): { PubSub: grpc.ServiceClientConstructor } {
  const definition = protoLoader.loadSync(PUBSUB_PROTO_PATH, PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { eventbus: { v1: { PubSub: grpc.ServiceClientConstructor } } };
  return loaded.eventbus.v1;
}

/** The wire messages as proto-loader hands them over with PROTO_LOADER_OPTIONS. */
export interface FetchRequestMessage {
  topic_name?: string;
  replay_preset?: "LATEST" | "EARLIEST" | "CUSTOM";
  replay_id?: Buffer;
  num_requested?: number;
  auth_refresh?: string;
}

export interface ConsumerEventMessage {
  event: { id: string; schema_id: string; payload: Buffer; headers: Array<{ key: string; value: Buffer }> };
  replay_id: Buffer;
}

export interface FetchResponseMessage {
  events: ConsumerEventMessage[];
  latest_replay_id: Buffer;
  rpc_id: string;
  pending_num_requested: number;
}

export interface SchemaInfoMessage {
  schema_json: string;
  schema_id: string;
  rpc_id: string;
}

export interface TopicInfoMessage {
  topic_name: string;
  tenant_guid: string;
  can_publish: boolean;
  can_subscribe: boolean;
  schema_id: string;
  rpc_id: string;
}
