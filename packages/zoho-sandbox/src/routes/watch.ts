import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountOf } from "../http/api-guard.js";
import { requiredParamMissing } from "../http/zoho-error.js";
import type { Account } from "../state/account.js";
import { DEFAULT_CHANNEL_LIFE_MS, MAX_CHANNEL_LIFE_MS, MAX_TOKEN_LENGTH, type Channel } from "../state/channels.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { parseZohoTime, zohoTime } from "../state/zoho-time.js";

const watchItem = z
  .object({
    channel_id: z.union([z.string(), z.number()]).optional(),
    events: z.array(z.string()).optional(),
    notify_url: z.string().optional(),
    token: z.string().optional(),
    channel_expiry: z.string().optional(),
    notify_on_related_action: z.boolean().optional(),
    return_affected_field_values: z.boolean().optional(),
    _delete_events: z.boolean().optional(),
  })
  .passthrough();
type WatchItem = z.infer<typeof watchItem>;
const watchBody = z.object({ watch: z.array(watchItem).min(1) });

const EVENT = /^Leads\.(create|edit|delete|all)$/;

type ItemResult = { code: string; details: Record<string, unknown>; message: string; status: "success" | "error" };

function error(code: string, message: string, details: Record<string, unknown> = {}): ItemResult {
  return { code, details, message, status: "error" };
}

const notSubscribed = (channelId: string | undefined) =>
  error("NOT_SUBSCRIBED", "Not subscribed for actions-watch of the given module", channelId === undefined ? {} : { channel_id: channelId });

/**
 * `/crm/v8/actions/watch`: notification channels. Expiry defaults to 1 h and is capped at 1 week (v4+); an expired
 * channel stops notifying at once and is garbage-collected, so PATCH/PUT/DELETE then answer `NOT_SUBSCRIBED`.
 */
export const watchRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  const resourceUri = () => `${state.urls.apiDomain}/crm/v8/Leads`;

  const summary = (channel: Channel) => ({
    // one entry per watched module
    events: [...new Set([...channel.events].map((event) => event.split(".")[0] as string))].map((module) => ({
      channel_expiry: zohoTime(channel.expiresAt),
      resource_uri: resourceUri(),
      resource_id: "leads-module",
      resource_name: module,
      channel_id: channel.channelId,
    })),
  });

  const respond = (results: ItemResult[], okStatus: number) => {
    const ok = results.filter((r) => r.status === "success").length;
    return { status: ok === results.length ? okStatus : ok === 0 ? 400 : 207, body: { watch: results } };
  };

  app.post("/crm/v8/actions/watch", { schema: { body: watchBody } }, async (request, reply) => {
    const account = accountOf(request);
    const results = request.body.watch.map((item) => subscribe(account, item, "create"));
    const { status, body } = respond(results, 201);
    return reply.code(status).send(body);
  });

  app.patch("/crm/v8/actions/watch", { schema: { body: watchBody } }, async (request, reply) => {
    const account = accountOf(request);
    const results = request.body.watch.map((item) => subscribe(account, item, "update"));
    const { status, body } = respond(results, 200);
    return reply.code(status).send(body);
  });

  app.put("/crm/v8/actions/watch", { schema: { body: watchBody } }, async (request, reply) => {
    const account = accountOf(request);
    const results = request.body.watch.map((item) => subscribe(account, item, "replace"));
    const { status, body } = respond(results, 200);
    return reply.code(status).send(body);
  });

  app.get("/crm/v8/actions/watch", { schema: { querystring: z.object({ channel_id: z.string().optional() }) } }, async (request, reply) => {
    const account = accountOf(request);
    const channels = account.channels.live(Date.now()).filter((c) => request.query.channel_id === undefined || c.channelId === request.query.channel_id);
    if (channels.length === 0) return reply.code(204).send();
    return {
      watch: channels.map((c) => ({
        channel_id: c.channelId,
        events: [...c.events],
        channel_expiry: zohoTime(c.expiresAt),
        notify_url: c.notifyUrl,
        notify_on_related_action: c.notifyOnRelatedAction,
        return_affected_field_values: c.returnAffectedFieldValues,
        ...(c.token === undefined ? {} : { token: c.token }),
      })),
    };
  });

  app.delete("/crm/v8/actions/watch", { schema: { querystring: z.object({ channel_ids: z.string().optional() }) } }, async (request, reply) => {
    const account = accountOf(request);
    const ids = request.query.channel_ids?.split(",").map((s) => s.trim()).filter(Boolean);
    if (!ids || ids.length === 0) throw requiredParamMissing("channel_ids");
    const now = Date.now();
    const results = ids.map((id): ItemResult => {
      const channel = account.channels.get(id, now);
      if (!channel) return notSubscribed(id);
      account.channels.remove(id);
      return { code: "SUCCESS", details: summary(channel), message: "Successfully unsubscribed from actions-watch of the given module", status: "success" };
    });
    const { status, body } = respond(results, 200);
    return reply.code(status).send(body);
  });

  function subscribe(account: Account, item: WatchItem, mode: "create" | "update" | "replace"): ItemResult {
    const now = Date.now();
    if (item.channel_id === undefined) return error("MANDATORY_NOT_FOUND", "required field not found", { api_name: "channel_id" });
    const channelId = String(item.channel_id);
    if (!/^\d{1,19}$/.test(channelId)) return error("INVALID_DATA", "invalid data", { api_name: "channel_id", expected_data_type: "long" });
    const existing = account.channels.get(channelId, now);
    if (mode !== "create" && !existing) return notSubscribed(channelId);
    const base = mode === "update" ? existing : undefined;

    const events = item.events;
    if (mode !== "update" && (events === undefined || events.length === 0)) return error("MANDATORY_NOT_FOUND", "required field not found", { api_name: "events" });
    const badEvent = events?.find((e) => !EVENT.test(e));
    if (badEvent !== undefined) return error("INVALID_DATA", "invalid data", { api_name: "events", value: badEvent });
    const notifyUrl = item.notify_url ?? base?.notifyUrl;
    if (notifyUrl === undefined) return error("MANDATORY_NOT_FOUND", "required field not found", { api_name: "notify_url" });
    if (!URL.canParse(notifyUrl)) return error("INVALID_DATA", "invalid data", { api_name: "notify_url" });
    if (item.token !== undefined && item.token.length > MAX_TOKEN_LENGTH) {
      return error("INVALID_DATA", "invalid data", { api_name: "token", maximum_length: MAX_TOKEN_LENGTH });
    }
    let expiresAt = base?.expiresAt ?? now + DEFAULT_CHANNEL_LIFE_MS;
    if (item.channel_expiry !== undefined) {
      const requested = parseZohoTime(item.channel_expiry);
      if (Number.isNaN(requested) || requested <= now) return error("INVALID_DATA", "invalid data", { api_name: "channel_expiry" });
      // beyond the maximum, the channel lives the maximum (UNCERTAIN: see README)
      expiresAt = Math.min(requested, now + MAX_CHANNEL_LIFE_MS);
    } else if (mode !== "update") {
      expiresAt = now + DEFAULT_CHANNEL_LIFE_MS;
    }

    let nextEvents: Set<string>;
    if (mode === "update" && base) {
      nextEvents = new Set(base.events);
      for (const event of events ?? []) item._delete_events ? nextEvents.delete(event) : nextEvents.add(event);
    } else {
      nextEvents = new Set(events);
    }
    const channel: Channel = {
      channelId,
      events: nextEvents,
      notifyUrl,
      token: item.token ?? base?.token,
      expiresAt,
      notifyOnRelatedAction: item.notify_on_related_action ?? base?.notifyOnRelatedAction ?? true,
      returnAffectedFieldValues: item.return_affected_field_values ?? base?.returnAffectedFieldValues ?? false,
    };
    account.channels.set(channel);
    const message = mode === "create" ? "Successfully subscribed for actions-watch of the given module" : "Successfully updated the subscribe details";
    return { code: "SUCCESS", details: summary(channel), message, status: "success" };
  }
};
