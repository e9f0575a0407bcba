import { isRecord } from "./errors.js";
import type { ZohoHttp } from "./http.js";

/** `/crm/v8/org`, `/crm/v8/users?type=CurrentUser`, `/crm/v8/settings/fields?module=Leads`. */
export interface ZohoOrg {
  id: string;
  paidType: unknown;
  users: number;
}

export async function getOrg(http: ZohoHttp): Promise<ZohoOrg> {
  const response = await http.request({ operation: "org", method: "GET", path: "/crm/v8/org" });
  const org = Array.isArray(response.body?.["org"]) ? (response.body["org"][0] as unknown) : undefined;
  if (!isRecord(org) || (typeof org["id"] !== "string" && typeof org["id"] !== "number")) throw new Error("Zoho /org answered without an org id");
  const license = isRecord(org["license_details"]) ? org["license_details"] : {};
  const users = typeof license["users_license_purchased"] === "number" ? license["users_license_purchased"] : 1;
  return { id: String(org["id"]), paidType: license["paid_type"], users };
}

export async function getCurrentUserId(http: ZohoHttp): Promise<string> {
  const response = await http.request({ operation: "current user", method: "GET", path: "/crm/v8/users", query: { type: "CurrentUser" } });
  const user = Array.isArray(response.body?.["users"]) ? (response.body["users"][0] as unknown) : undefined;
  if (!isRecord(user) || (typeof user["id"] !== "string" && typeof user["id"] !== "number")) throw new Error("Zoho /users?type=CurrentUser answered without a user");
  return String(user["id"]);
}

export interface ZohoField {
  id: string;
  api_name: string;
  field_label: string;
}

export async function listLeadFields(http: ZohoHttp): Promise<ZohoField[]> {
  const response = await http.request({ operation: "fields list", method: "GET", path: "/crm/v8/settings/fields", query: { module: "Leads" } });
  const fields = response.body?.["fields"];
  return Array.isArray(fields) ? fields.filter((f): f is ZohoField => isRecord(f) && typeof f["api_name"] === "string" && typeof f["field_label"] === "string").map((f) => ({ id: String(f.id), api_name: f.api_name, field_label: f.field_label })) : [];
}

/** Creates a text field; answers the item's code and the new field's id (Zoho does not say its api_name). */
export async function createLeadTextField(http: ZohoHttp, label: string): Promise<{ code: string; id: string | undefined }> {
  const response = await http.request({
    operation: "fields create",
    method: "POST",
    path: "/crm/v8/settings/fields",
    query: { module: "Leads" },
    body: { fields: [{ field_label: label, data_type: "text", length: 255 }] },
    itemsKey: "fields",
  });
  const item = Array.isArray(response.body?.["fields"]) ? (response.body["fields"][0] as unknown) : undefined;
  const code = isRecord(item) && typeof item["code"] === "string" ? item["code"] : "UNKNOWN";
  const details = isRecord(item) && isRecord(item["details"]) ? item["details"] : {};
  return { code, id: typeof details["id"] === "string" ? details["id"] : undefined };
}
