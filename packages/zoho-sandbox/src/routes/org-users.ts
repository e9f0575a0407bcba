import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { accountOf } from "../http/api-guard.js";

/** `/crm/v8/org` (org id, edition, licensed users) and `/crm/v8/users?type=CurrentUser` (the token's user). */
export const orgUsersRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get("/crm/v8/org", async (request) => {
    const account = accountOf(request);
    return {
      org: [
        {
          id: account.accountId,
          company_name: `Org ${account.accountId}`,
          primary_email: account.person.email,
          domain_name: `org${account.accountId}`,
          time_zone: "GMT",
          country_code: "US",
          currency: "US Dollar - USD",
          license_details: { paid: account.settings.edition !== "free", paid_type: account.settings.edition, users_license_purchased: account.settings.users },
        },
      ],
    };
  });

  app.get("/crm/v8/users", { schema: { querystring: z.object({ type: z.string().optional() }) } }, async (request) => {
    const account = accountOf(request);
    const users = request.query.type === "CurrentUser" ? [account.apiUser] : [account.apiUser, account.person];
    return {
      users: users.map((u) => ({ id: u.id, full_name: u.name, email: u.email, status: "active", role: { name: "CEO" }, profile: { name: "Administrator" } })),
      info: { per_page: 200, count: users.length, page: 1, more_records: false },
    };
  });
};
