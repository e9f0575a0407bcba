import type { Scenario } from "../lib/scenario.js";
import { inboundBurst } from "./inbound-burst.js";
import { receiverScenario } from "./receiver.js";
import { outboundBurst } from "./outbound-burst.js";
import { dbCeiling } from "./db-ceiling.js";
import { latencyScenario } from "./latency.js";

/** In the order they run. */
export const SCENARIOS: Scenario[] = [receiverScenario, inboundBurst(1), inboundBurst(2), outboundBurst, dbCeiling, latencyScenario];
