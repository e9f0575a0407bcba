import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";

/** Salesforce's custom error codes, sent in the `error-code` trailer (Pub/Sub API "Handle Errors"). */
export const PUBSUB_ERROR_CODES = {
  auth: "sfdc.platform.eventbus.grpc.service.auth.error",
  deliveryLimit: "sfdc.platform.eventbus.grpc.subscription.limit.exceeded",
  replayIdCorrupted: "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
  topicNotFound: "sfdc.platform.eventbus.grpc.topic.not.found",
  schemaNotFound: "sfdc.platform.eventbus.grpc.schema.not.found",
  unimplemented: "sfdc.platform.eventbus.grpc.service.unimplemented",
  invalidRequest: "sfdc.platform.eventbus.grpc.fetch.request.invalid",
} as const;

export interface PubSubServiceError extends grpc.ServiceError {
  metadata: grpc.Metadata;
}

/** A gRPC status as the Pub/Sub API sends it: the description ends in `rpcId: …`, the trailers carry error-code and rpc-id. */
export function pubsubError(code: grpc.status, errorCode: string, description: string): Partial<grpc.StatusObject> & { code: grpc.status; details: string; metadata: grpc.Metadata } {
  const rpcId = randomUUID();
  const metadata = new grpc.Metadata();
  metadata.set("error-code", errorCode);
  metadata.set("rpc-id", rpcId);
  return { code, details: `${description} rpcId: ${rpcId}`, metadata };
}
