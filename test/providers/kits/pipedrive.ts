import { startSandbox } from "../../../packages/pipedrive-sandbox/src/index.js";
import type { LeadFieldsInput, RecordView } from "../harness.js";
import type { ProviderKit } from "../kit.js";

/** Pipedrive persons: one name (split by Pipedrive), lists of emails and phones, custom fields by 40-char key. */
function personBody(fields: LeadFieldsInput): Record<string, unknown> {
  const name = [fields.firstName, fields.lastName].filter(Boolean).join(" ");
  return {
    ...(name ? { name } : {}),
    ...(fields.email ? { emails: [{ value: fields.email, primary: true, label: "work" }] } : {}),
    ...(fields.phone ? { phones: [{ value: fields.phone, primary: true, label: "work" }] } : {}),
    ...(fields.jobTitle ? { job_title: fields.jobTitle } : {}),
  };
}

interface Person {
  id: number;
  first_name: string | null;
  last_name: string | null;
  emails: { value: string; primary: boolean }[];
  phones: { value: string; primary: boolean }[];
  job_title: string | null;
  custom_fields: Record<string, unknown>;
}

const primary = (items: { value: string; primary: boolean }[]) => (items.find((i) => i.primary) ?? items[0])?.value;

export const pipedriveKit: ProviderKit = {
  name: "pipedrive",
  echoesNamedByFeed: true,
  async start() {
    // Pipedrive retries failed webhooks after 3, 30 and 150 s; the suite does not wait that long.
    const sandbox = await startSandbox({ port: 0, webhookRetryDelaysMs: [200, 500, 1000] });
    return {
      url: sandbox.url,
      env: { PIPEDRIVE_API_BASE: sandbox.url, PIPEDRIVE_OAUTH_URL: sandbox.url, PIPEDRIVE_CLIENT_ID: sandbox.app.clientId, PIPEDRIVE_CLIENT_SECRET: sandbox.app.clientSecret },
      close: () => sandbox.close(),
    };
  },
  createBody: (fields) => ({ name: "(no name)", ...personBody(fields) }),
  updateBody: personBody,
  readRecords(json) {
    return (json as Person[]).map((p): RecordView => {
      const custom = Object.values(p.custom_fields ?? {}).find((v) => typeof v === "string");
      const view: RecordView = { id: String(p.id), marker: typeof custom === "string" ? custom : null };
      const email = primary(p.emails);
      const phone = primary(p.phones);
      if (email) view.email = email;
      if (phone) view.phone = phone;
      if (p.first_name) view.firstName = p.first_name;
      if (p.last_name) view.lastName = p.last_name;
      if (p.job_title) view.jobTitle = p.job_title;
      return view;
    });
  },
};
