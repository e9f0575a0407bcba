import type { ProviderKit } from "../kit.js";
import { pipedriveKit } from "./pipedrive.js";
import { zohoKit } from "./zoho.js";

/** Every CRM beside HubSpot that the shared suite runs against (test/e2e covers HubSpot). */
export const PROVIDER_KITS: readonly ProviderKit[] = [zohoKit, pipedriveKit];
