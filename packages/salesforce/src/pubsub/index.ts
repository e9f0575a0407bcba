export { PubSubClient, PubSubError, MAX_NUM_REQUESTED, SALESFORCE_PUBSUB_ADDRESS } from "./client.js";
export type { OrgSession, PubSubEndpoint, ReplayStart, SubscribeOptions } from "./client.js";
export { decodeChangeEvent, parseSchema } from "./decode.js";
export type { ChangeEventMessage, ParsedSchema } from "./decode.js";
export { decodeFieldBitmaps } from "./bitmap.js";
export { loadPubSubPackage, PROTO_LOADER_OPTIONS, PUBSUB_PROTO_PATH } from "./proto.js";
export type { ConsumerEventMessage, FetchRequestMessage, FetchResponseMessage, SchemaInfoMessage, TopicInfoMessage } from "./proto.js";
