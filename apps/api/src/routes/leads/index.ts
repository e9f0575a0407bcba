import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { pickDeps, type ApiDeps } from "../../deps.js";
import createLead from "./create-lead.js";
import getLead from "./get-lead.js";
import listLeads from "./list-leads.js";
import updateLead from "./update-lead.js";

/** /api/v1/leads — one file per endpoint. */
const leadRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  for (const route of [listLeads, getLead, createLead, updateLead]) await app.register(route, pickDeps(deps));
};

export default leadRoutes;
