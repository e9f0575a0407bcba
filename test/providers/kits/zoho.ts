import { startSandbox } from "../../../packages/zoho-sandbox/src/index.js";
import type { LeadFieldsInput, RecordView } from "../harness.js";
import type { ProviderKit } from "../kit.js";

const FIELD_OF: Record<keyof LeadFieldsInput, string> = {
  email: "Email",
  firstName: "First_Name",
  lastName: "Last_Name",
  phone: "Phone",
  company: "Company",
  jobTitle: "Designation",
};

function leadBody(fields: LeadFieldsInput): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) if (value !== undefined) body[FIELD_OF[field as keyof LeadFieldsInput]] = value;
  return body;
}

export const zohoKit: ProviderKit = {
  name: "zoho",
  // Zoho's callback names no actor: the write ledger decides after the read.
  echoesNamedByFeed: false,
  async start() {
    const sandbox = await startSandbox({ port: 0 });
    return {
      url: sandbox.url,
      env: { ZOHO_ACCOUNTS_URL: sandbox.accountsUrl, ZOHO_CLIENT_ID: sandbox.app.clientId, ZOHO_CLIENT_SECRET: sandbox.app.clientSecret },
      close: () => sandbox.close(),
    };
  },
  // A person in Zoho's UI fills the mandatory Last_Name and Company.
  createBody: (fields) => ({ Last_Name: "(none)", Company: "(none)", ...leadBody(fields) }),
  updateBody: leadBody,
  readRecords(json) {
    const rows = Array.isArray(json) ? json : ((json as { data?: Record<string, unknown>[] }).data ?? []);
    return (rows as Record<string, unknown>[]).map((r): RecordView => {
      const markerKey = Object.keys(r).find((key) => key.startsWith("Lead_Source_System"));
      const marker = markerKey === undefined ? null : r[markerKey];
      const view: RecordView = { id: String(r["id"]), marker: typeof marker === "string" ? marker : null };
      for (const [field, name] of Object.entries(FIELD_OF)) {
        const value = r[name];
        if (typeof value === "string") view[field as keyof LeadFieldsInput] = value;
      }
      return view;
    });
  },
};
