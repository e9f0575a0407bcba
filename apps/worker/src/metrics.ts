import { createServer, type Server } from "node:http";
import { collectDefaultMetrics, Counter, Histogram, register } from "prom-client";

/**
 * The worker's Prometheus metrics, in prom-client's default registry. Get-or-create, because tests start
 * several worker sets in one process and a metric name may be registered only once.
 */
function counter(name: string, help: string, labelNames: string[] = []): Counter {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames });
}

function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram {
  const existing = register.getSingleMetric(name);
  if (existing) return existing as Histogram;
  return new Histogram({ name, help, labelNames, buckets });
}

export const metrics = {
  unknownPortalEvents: counter(
    "leadsync_webhook_events_unknown_portal_total",
    "Webhook events for a portal that has no integration (dropped).",
  ),
  /** `reason` says why an event was skipped or ignored (own_record, no_email, stale…); "none" when processed. */
  inboundEvents: counter("leadsync_webhook_events_total", "Webhook events handled by the inbound worker, by outcome and reason.", [
    "outcome",
    "reason",
  ]),
  outboundLeads: counter("leadsync_outbound_leads_total", "Leads pushed to the CRM by the outbound worker, by result.", [
    "result",
  ]),
  /** From BullMQ's processedOn to finishedOn: includes the time a job waits for its batch window and its rate-limit slot. */
  jobDuration: histogram(
    "leadsync_job_duration_seconds",
    "Job processing time per queue, by final state of the attempt (completed, failed).",
    ["queue", "state"],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  ),
};

/** Records a finished job attempt (BullMQ's `completed`/`failed` events carry its timestamps). */
export function observeJobDuration(queue: string, state: "completed" | "failed", job: { processedOn?: number | undefined; finishedOn?: number | undefined } | undefined): void {
  if (!job?.processedOn || !job.finishedOn) return;
  metrics.jobDuration.observe({ queue, state }, (job.finishedOn - job.processedOn) / 1000);
}

/**
 * GET /metrics (Prometheus text format) and GET /health for a standalone worker process. Also turns on
 * prom-client's process metrics (memory, CPU, event-loop lag) unless something in the process already did.
 */
export async function startMetricsServer({ port, host }: { port: number; host: string }): Promise<Server> {
  if (!register.getSingleMetric("process_cpu_user_seconds_total")) collectDefaultMetrics();
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/metrics") {
      register.metrics().then(
        (body) => response.writeHead(200, { "content-type": register.contentType }).end(body),
        (err: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
    } else if (request.method === "GET" && path === "/health") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ success: true, data: { status: "ok" } }));
    } else {
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ success: false, error: { code: "not_found", message: "Not found" } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
