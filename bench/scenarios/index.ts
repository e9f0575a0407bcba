import type { Scenario } from "../lib/scenario.js";
import { inboundBurst } from "./inbound-burst.js";
import { receiverScenario } from "./receiver.js";
import { outboundBurst } from "./outbound-burst.js";
import { dbCeiling } from "./db-ceiling.js";
import { latencyScenario } from "./latency.js";
import { salesforceBurst } from "./salesforce-burst.js";
import { zohoBurst } from "./zoho-burst.js";
import { pipedriveOutbound } from "./pipedrive-outbound.js";
import { tenantsScenario } from "./tenants.js";
import { growthScenario } from "./growth.js";

/** In the order they run. */
export const SCENARIOS: Scenario[] = [receiverScenario, inboundBurst(1), inboundBurst(2), outboundBurst, dbCeiling, latencyScenario, salesforceBurst, zohoBurst, pipedriveOutbound, tenantsScenario, growthScenario];
