/**
 * The receiver benchmark's baseline: a bare Fastify route that parses the same JSON body and answers 200 — no
 * signature, no validation, no queue, no logging. `PORT` from the environment.
 */
import Fastify from "fastify";

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.get("/health", async () => ({ ok: true }));
app.post("/api/v1/webhooks/hubspot", async (request) => ({ success: true, count: Array.isArray(request.body) ? request.body.length : 0 }));
await app.listen({ port: Number(process.env["PORT"]), host: "127.0.0.1" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
