import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { badRequest, notFound, unprocessable } from "../http/errors.js";
import type { Webhook } from "../state/company.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { v1Time } from "../state/serialize.js";
import { idParams } from "./schemas.js";

/** "The maximum limit of webhooks is 40 different webhooks per user" (providers-facts §4.4). */
export const MAX_WEBHOOKS_PER_USER = 40;

const V2_ACTIONS = ["create", "change", "delete", "*"] as const;
const V1_ACTIONS = ["added", "updated", "merged", "deleted", "*"] as const;
const OBJECTS = ["activity", "deal", "lead", "note", "organization", "person", "pipeline", "product", "stage", "user", "*"] as const;

const addWebhookBody = z.object({
  subscription_url: z.string(),
  event_action: z.string(),
  event_object: z.string(),
  name: z.string().optional(),
  user_id: z.number().int().optional(),
  http_auth_user: z.string().nullable().optional(),
  http_auth_password: z.string().nullable().optional(),
  version: z.enum(["1.0", "2.0"]).optional(),
});

export function webhookJson(w: Webhook, companyId: number): Record<string, unknown> {
  return {
    id: w.id,
    company_id: companyId,
    owner_id: w.owner_id,
    user_id: w.user_id,
    event_action: w.event_action,
    event_object: w.event_object,
    subscription_url: w.subscription_url,
    version: w.version,
    is_active: w.is_active,
    add_time: v1Time(w.add_time),
    remove_time: w.remove_time === null ? null : v1Time(w.remove_time),
    type: "general",
    http_auth_user: w.http_auth_user,
    http_auth_password: w.http_auth_password,
    remove_reason: w.remove_reason,
    last_delivery_time: w.last_delivery_time === null ? null : v1Time(w.last_delivery_time),
    last_http_status: w.last_http_status,
    admin_id: w.owner_id,
    name: w.name,
  };
}

/** `/v1/webhooks`: list, create (version 2.0 by default, ≤40 per user → 422), delete. Needs the `admin` scope over OAuth. */
export const webhooksApiRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get("/v1/webhooks", async (request) => {
    const { company } = callerOf(request);
    return { status: "ok", success: true, data: company.webhooks.map((w) => webhookJson(w, company.id)) };
  });

  app.post("/v1/webhooks", { schema: { body: addWebhookBody } }, async (request, reply) => {
    const { company, user } = callerOf(request);
    const body = request.body;
    const version = body.version ?? "2.0";
    const actions: readonly string[] = version === "2.0" ? V2_ACTIONS : V1_ACTIONS;
    const errors: Record<string, string[]> = {};
    let url: URL | undefined;
    try {
      url = new URL(body.subscription_url);
    } catch {
      errors["subscription_url"] = ["The subscription url is not a valid URL"];
    }
    if (url && !["http:", "https:"].includes(url.protocol)) errors["subscription_url"] = ["The subscription url must use http or https"];
    if (url && /(^|\.)pipedrive\.com$/.test(url.hostname)) errors["subscription_url"] = ["Pipedrive API endpoints cannot be used as the subscription url"];
    if (!actions.includes(body.event_action)) errors["event_action"] = [`Must be one of: ${actions.join(", ")}`];
    if (!(OBJECTS as readonly string[]).includes(body.event_object)) errors["event_object"] = [`Must be one of: ${OBJECTS.join(", ")}`];
    const userId = body.user_id ?? user.id;
    if (!company.user(userId)) errors["user_id"] = ["User not found"];
    if (Object.keys(errors).length > 0) {
      return reply.code(400).send({ status: "error", success: false, errors, error: "Validation failed", error_info: "Check the request body", data: null, additional_data: null });
    }
    if (company.webhooks.filter((w) => w.user_id === userId).length >= MAX_WEBHOOKS_PER_USER) {
      throw unprocessable(`Webhooks limit reached: at most ${MAX_WEBHOOKS_PER_USER} webhooks per user`);
    }
    const webhook: Webhook = {
      id: state.nextWebhookId(),
      owner_id: user.id,
      user_id: userId,
      event_action: body.event_action,
      event_object: body.event_object,
      subscription_url: body.subscription_url,
      version,
      name: body.name ?? `${body.event_action}.${body.event_object}`,
      http_auth_user: body.http_auth_user ?? null,
      http_auth_password: body.http_auth_password ?? null,
      add_time: state.now(),
      is_active: 1,
      remove_time: null,
      remove_reason: null,
      last_delivery_time: null,
      last_http_status: null,
      failedFirstAttempts: 0,
      bannedUntil: null,
      failingSince: null,
    };
    if ((webhook.http_auth_user === null) !== (webhook.http_auth_password === null)) throw badRequest("http_auth_user and http_auth_password go together");
    company.webhooks.push(webhook);
    return reply.code(201).send({ status: "ok", success: true, data: webhookJson(webhook, company.id) });
  });

  app.delete("/v1/webhooks/:id", { schema: { params: idParams } }, async (request) => {
    const { company } = callerOf(request);
    const index = company.webhooks.findIndex((w) => w.id === request.params.id);
    if (index < 0) throw notFound("Webhook not found");
    company.webhooks.splice(index, 1);
    return { status: "ok", success: true };
  });
};
