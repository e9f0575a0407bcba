import type { RedisClient } from "../src/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupPrefix, uniqueQueuePrefix } from "../../../test/helpers/redis.js";
import { addSerialized, closeAll, createQueue, createRedisConnection, QUEUES, type CrmChangesJob, type TypedQueue } from "../src/index.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = uniqueQueuePrefix();

const payload: CrmChangesJob = {
  v: 1,
  provider: "hubspot",
  receivedAt: 1_700_000_000_000,
  events: [{ eventId: 1, portalId: 62515, objectId: 123, occurredAt: 1_700_000_000_000, subscriptionType: "contact.creation" }],
};
/** The same payload as another JSON text than JSON.stringify would write (spacing, key order). */
const json = `{ "provider": "hubspot", "v": 1, "receivedAt": 1700000000000,
  "events": [ {"objectId": 123, "eventId": 1, "portalId": 62515, "occurredAt": 1700000000000, "subscriptionType": "contact.creation"} ] }`;

describe("addSerialized", () => {
  let connection: RedisClient;
  let queue: TypedQueue<typeof QUEUES.crmChanges>;

  beforeAll(() => {
    connection = createRedisConnection(REDIS_URL, { role: "producer" });
    queue = createQueue(QUEUES.crmChanges, { connection, prefix });
  });

  afterAll(async () => {
    await cleanupPrefix(connection, prefix);
    await closeAll({ queues: [queue], connections: [connection] }, { timeoutMs: 2_000 });
  });

  it("stores the given JSON text as the job's data, which reads back as the payload", async () => {
    const job = await addSerialized(queue, payload, json, { jobId: "serialized-1" });
    expect(job.id).toBe("serialized-1");
    expect(await connection.hget(`${prefix}:${QUEUES.crmChanges}:serialized-1`, "data")).toBe(json);
    expect((await queue.getJob("serialized-1"))?.data).toEqual(payload);
  });

  it("takes the JSON as UTF-8 bytes too", async () => {
    const withText = { ...payload, events: [{ ...payload.events?.[0], propertyValue: "Zoë 😀" }] };
    await addSerialized(queue, withText, Buffer.from(JSON.stringify(withText)), { jobId: "serialized-bytes" });
    expect((await queue.getJob("serialized-bytes"))?.data).toEqual(withText);
  });

  it("leaves queue.add as it was: the payload stringified, even right after an addSerialized of it", async () => {
    await addSerialized(queue, payload, json, { jobId: "serialized-2" });
    await queue.add(QUEUES.crmChanges, payload, { jobId: "plain-1" });
    expect(await connection.hget(`${prefix}:${QUEUES.crmChanges}:plain-1`, "data")).toBe(JSON.stringify(payload));
  });
});
