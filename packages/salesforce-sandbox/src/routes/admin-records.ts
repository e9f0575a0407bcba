import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { notFound, saveFailed } from "../http/errors.js";
import { isWellFormedId, to18 } from "../state/ids.js";
import type { PendingWrite, WriteContext } from "../state/records.js";
import type { Org } from "../state/org.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { accountParams, requireOrg } from "./admin-accounts.js";
import { leadJson } from "./serialize.js";

/** Admin routes answer records as the latest API version would. */
const ADMIN_VERSION = "59.0";

const recordParams = accountParams.extend({ id: z.string() });
const leadBody = z.record(z.string(), z.unknown());

/** A person in the UI: their own user id, no changeOrigin (Salesforce leaves it empty outside the API). */
function uiContext(org: Org): WriteContext {
  return { userId: org.uiUserId, changeOrigin: "", allowSave: true, now: Date.now() };
}

function leadId(org: Org, raw: string): string {
  const id = isWellFormedId(raw) ? to18(raw) : raw;
  if (!org.leads.get(id)) throw notFound(`Lead ${raw} not found`);
  return id;
}

/**
 * `/__sandbox/accounts/:accountId/records`: leads created, edited, deleted, undeleted, converted and merged as a
 * person would in Salesforce's UI. Bodies are the REST API's Lead bodies; the change feed fires with an empty origin.
 */
export const adminRecordRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const commit = (org: Org, outcome: { ok: true; value: PendingWrite } | { ok: false; errors: Parameters<typeof saveFailed>[0] }) => {
    if (!outcome.ok) throw saveFailed(outcome.errors);
    state.commit(org, [outcome.value]);
    return outcome.value.id;
  };

  app.post(
    "/__sandbox/accounts/:accountId/records",
    { schema: { params: accountParams, body: z.object({ records: z.array(leadBody).min(1) }) } },
    async (request, reply) => {
      const org = requireOrg(state, request.params.accountId);
      const ctx = uiContext(org);
      // all or nothing, so a failed seed leaves no half-created batch behind
      const writes: PendingWrite[] = [];
      for (const body of request.body.records) {
        const outcome = org.leads.prepareCreate(body, ctx);
        if (!outcome.ok) {
          for (const w of writes) org.leads.records.delete(w.id);
          throw saveFailed(outcome.errors);
        }
        org.leads.apply(outcome.value);
        writes.push(outcome.value);
      }
      state.announce(org, writes);
      return reply.code(201).send({ ids: writes.map((w) => w.id) });
    },
  );

  app.get(
    "/__sandbox/accounts/:accountId/records",
    { schema: { params: accountParams, querystring: z.object({ email: z.string().optional(), includeDeleted: z.enum(["true", "false"]).optional() }) } },
    async (request) => {
      const org = requireOrg(state, request.params.accountId);
      const { email, includeDeleted } = request.query;
      const all = [...org.leads.records.values()].filter((r) => includeDeleted === "true" || r["IsDeleted"] !== true);
      const matching = email === undefined ? all : all.filter((r) => typeof r["Email"] === "string" && r["Email"].toLowerCase() === email.toLowerCase());
      return matching.map((r) => leadJson(r, ADMIN_VERSION));
    },
  );

  app.get("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request) => {
    const org = requireOrg(state, request.params.accountId);
    return leadJson(org.leads.get(leadId(org, request.params.id)) ?? {}, ADMIN_VERSION);
  });

  app.patch("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams, body: leadBody } }, async (request, reply) => {
    const org = requireOrg(state, request.params.accountId);
    commit(org, org.leads.prepareUpdate(leadId(org, request.params.id), request.body, uiContext(org)));
    return reply.code(204).send();
  });

  app.delete("/__sandbox/accounts/:accountId/records/:id", { schema: { params: recordParams } }, async (request, reply) => {
    const org = requireOrg(state, request.params.accountId);
    commit(org, org.leads.prepareDelete(leadId(org, request.params.id), uiContext(org)));
    return reply.code(204).send();
  });

  app.post("/__sandbox/accounts/:accountId/records/:id/undelete", { schema: { params: recordParams } }, async (request, reply) => {
    const org = requireOrg(state, request.params.accountId);
    commit(org, org.leads.prepareUndelete(leadId(org, request.params.id), uiContext(org)));
    return reply.code(204).send();
  });

  /** Lead conversion: IsConverted, ConvertedContactId (a new Contact), Status "Closed - Converted". */
  app.post("/__sandbox/accounts/:accountId/records/:id/convert", { schema: { params: recordParams } }, async (request) => {
    const org = requireOrg(state, request.params.accountId);
    const id = leadId(org, request.params.id);
    const lead = org.leads.get(id) ?? {};
    const ctx = uiContext(org);
    // a lead that cannot convert (deleted, converted already) fails before any Contact exists
    const check = org.leads.prepareConvert(id, "", ctx);
    if (!check.ok) throw saveFailed(check.errors);
    const contactId = org.createContact(lead, ctx);
    const outcome = org.leads.prepareConvert(id, contactId, ctx);
    if (!outcome.ok) throw saveFailed(outcome.errors);
    state.commit(org, [outcome.value]);
    return { leadId: id, contactId };
  });

  /**
   * Merge: the master keeps its values plus any `fields` given; the merged leads are deleted in the same
   * transaction (one UPDATE event for the master, one DELETE per merged lead).
   */
  app.post(
    "/__sandbox/accounts/:accountId/records/:id/merge",
    { schema: { params: recordParams, body: z.object({ mergeIds: z.array(z.string()).min(1).max(2), fields: leadBody.optional() }) } },
    async (request) => {
      const org = requireOrg(state, request.params.accountId);
      const masterId = leadId(org, request.params.id);
      const ctx = uiContext(org);
      const writes: PendingWrite[] = [];
      const master = org.leads.prepareUpdate(masterId, request.body.fields ?? {}, ctx);
      if (!master.ok) throw saveFailed(master.errors);
      writes.push(master.value);
      for (const raw of request.body.mergeIds) {
        const deleted = org.leads.prepareDelete(leadId(org, raw), ctx);
        if (!deleted.ok) throw saveFailed(deleted.errors);
        writes.push(deleted.value);
      }
      state.commit(org, writes);
      return { id: masterId, mergedRecordIds: writes.slice(1).map((w) => w.id) };
    },
  );
};
