import type { RecordResult } from "../state/leads.js";

/** A batch write's status: 201/200 when every record succeeded, 207 for a partial, 400 when none did (UNCERTAIN). */
export function writeStatus(results: readonly RecordResult[], allOk: 200 | 201): number {
  const ok = results.filter((r) => r.status === "success").length;
  if (ok === results.length) return allOk;
  return ok === 0 ? 400 : 207;
}
