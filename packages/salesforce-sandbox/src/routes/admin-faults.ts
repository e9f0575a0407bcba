import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { FAULT_KINDS } from "../state/faults.js";
import type { SandboxState } from "../state/sandbox-state.js";

const faultInput = z.object({
  accountId: z.string().optional(),
  kind: z.enum(FAULT_KINDS),
  count: z.number().int().min(1).optional(),
  ms: z.number().int().min(0).max(600_000).optional(),
  status: z.number().int().min(500).max(599).optional(),
});

/** Fault injection: latency, 5xx and REQUEST_LIMIT_EXCEEDED on API calls; dropped, gap and overflow change events. */
export const adminFaultRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.post("/__sandbox/faults", { schema: { body: faultInput } }, async (request, reply) => {
    const fault = state.faults.add(request.body);
    return reply.code(201).send({ id: fault.id });
  });
  app.get("/__sandbox/faults", async () => ({ results: state.faults.list() }));
  app.delete("/__sandbox/faults", async (_request, reply) => {
    state.faults.clear();
    return reply.code(204).send();
  });
};
