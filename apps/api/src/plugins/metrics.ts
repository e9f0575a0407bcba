import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { collectDefaultMetrics, Counter, Gauge, register } from "prom-client";

/** Job states whose counts are exported per queue. */
const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed", "paused", "prioritized", "waiting-children"] as const;

/**
 * prom-client's default registry is process-wide, while an app (and its queues) can be built more than once in a
 * process (tests, `pnpm start`). So metrics are created once, and the queue gauge reads the queues of every live app.
 */
const liveQueueSets = new Set<Queue[]>();
let metrics: { httpRequests: Counter<"method" | "route" | "status_code"> } | undefined;

function processMetrics() {
  if (metrics) return metrics;
  // A standalone worker's metrics server may have turned them on already in this process.
  if (!register.getSingleMetric("process_cpu_user_seconds_total")) collectDefaultMetrics();
  new Gauge({
    name: "leadsync_queue_jobs",
    help: "Jobs per BullMQ queue and state, read from Redis on each scrape",
    labelNames: ["queue", "state"] as const,
    async collect() {
      this.reset();
      for (const queues of liveQueueSets) {
        for (const queue of queues) {
          // Redis down: leave this queue's series out rather than fail the whole scrape (process metrics still matter).
          const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
          if (!counts) continue;
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      }
    },
  });
  metrics = {
    httpRequests: new Counter({
      name: "leadsync_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"] as const,
    }),
  };
  return metrics;
}

/** GET /metrics in Prometheus' text format, and the request counter for every route of the server. */
async function metricsPlugin(app: FastifyInstance, opts: { queues: Queue[] }) {
  const { httpRequests } = processMetrics();
  liveQueueSets.add(opts.queues);
  app.addHook("onClose", async () => {
    liveQueueSets.delete(opts.queues);
  });

  app.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the URL: ids in paths would make one series per lead.
    const route = request.routeOptions.url ?? "unmatched";
    httpRequests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
  });

  app.get("/metrics", { schema: { tags: ["operations"], summary: "Prometheus metrics (text exposition format)" } }, async (_request, reply) => {
    const body = await register.metrics();
    return reply.type(register.contentType).send(body);
  });
}

export default fp(metricsPlugin, { name: "leadsync-metrics", fastify: "5.x" });
