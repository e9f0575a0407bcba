import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { callerOf } from "../http/api-guard.js";
import { CUSTOM_FIELD_TYPES, type PersonField } from "../state/person-fields.js";
import type { SandboxState } from "../state/sandbox-state.js";
import { rfc3339, v1Time } from "../state/serialize.js";
import { decodeCursor, encodeCursor } from "./schemas.js";

const v1Field = (f: PersonField) => ({
  id: f.id,
  key: f.key,
  name: f.name,
  order_nr: f.order_nr,
  field_type: f.field_type,
  add_time: v1Time(f.add_time),
  update_time: v1Time(f.update_time),
  last_updated_by_user_id: f.created_by_user_id,
  created_by_user_id: f.created_by_user_id,
  active_flag: true,
  edit_flag: f.edit_flag,
  index_visible_flag: true,
  details_visible_flag: true,
  add_visible_flag: f.add_visible_flag,
  important_flag: false,
  bulk_edit_allowed: true,
  searchable_flag: f.edit_flag,
  filtering_allowed: true,
  sortable_flag: true,
  mandatory_flag: false,
  options: f.options,
});

const v2Field = (f: PersonField) => ({
  field_name: f.name,
  field_code: f.key,
  field_type: f.field_type,
  is_custom_field: f.edit_flag,
  is_optional_response_field: false,
  options: f.options,
  subfields: null,
  ui_visibility: { add_visible_flag: f.add_visible_flag, details_visible_flag: true },
  add_time: rfc3339(f.add_time),
});

/**
 * Person fields, v1 (`key`, start/limit paging) and v2 (`field_code`, cursors). Creating a custom field needs the
 * `admin` scope and gives it a random 40-character key.
 */
export const personFieldRoutes: FastifyPluginAsyncZod<{ state: SandboxState }> = async (app, { state }) => {
  app.get(
    "/v1/personFields",
    { schema: { querystring: z.object({ start: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(100) }) } },
    async (request) => {
      const { start, limit } = request.query;
      const fields = callerOf(request).company.personFields.all();
      const slice = fields.slice(start, start + limit);
      const more = start + limit < fields.length;
      return {
        success: true,
        data: slice.map(v1Field),
        additional_data: { pagination: { start, limit, more_items_in_collection: more, ...(more && { next_start: start + limit }) } },
      };
    },
  );

  app.post(
    "/v1/personFields",
    {
      schema: {
        body: z.object({
          name: z.string().min(1),
          field_type: z.enum(CUSTOM_FIELD_TYPES),
          options: z.array(z.union([z.string(), z.object({ label: z.string() })])).optional(),
          add_visible_flag: z.boolean().optional(),
        }),
      },
    },
    async (request, reply) => {
      const { company, user } = callerOf(request);
      const options = request.body.options?.map((o) => (typeof o === "string" ? o : o.label));
      const field = company.personFields.addCustom({ ...request.body, options }, user.id, state.now());
      return reply.code(201).send({ success: true, data: v1Field(field) });
    },
  );

  app.get(
    "/api/v2/personFields",
    { schema: { querystring: z.object({ cursor: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }).passthrough() } },
    async (request) => {
      const fields = callerOf(request).company.personFields.all();
      const from = request.query.cursor === undefined ? 0 : decodeCursor(request.query.cursor)[0];
      const slice = fields.slice(from, from + request.query.limit);
      const next = from + request.query.limit < fields.length ? encodeCursor(from + request.query.limit, 0) : null;
      return { success: true, data: slice.map(v2Field), additional_data: { next_cursor: next } };
    },
  );

  app.post(
    "/api/v2/personFields",
    {
      schema: {
        body: z
          .object({ field_name: z.string().min(1), field_type: z.enum(CUSTOM_FIELD_TYPES), options: z.array(z.object({ label: z.string() })).optional() })
          .passthrough(),
      },
    },
    async (request) => {
      const { company, user } = callerOf(request);
      const field = company.personFields.addCustom(
        { name: request.body.field_name, field_type: request.body.field_type, options: request.body.options?.map((o) => o.label) },
        user.id,
        state.now(),
      );
      return { success: true, data: v2Field(field) };
    },
  );
};
