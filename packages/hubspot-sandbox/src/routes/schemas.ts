import { z } from "zod";

/** HubSpot accepts numbers and booleans as property values and stores strings; null clears like "". */
export const propertyValues = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .transform((values) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null ? "" : String(v)])));

/** `properties=a,b` or repeated `properties=a&properties=b`. */
export const propertyListQuery = z.union([z.string(), z.array(z.string())]).optional();

export const booleanQuery = z
  .enum(["true", "false"])
  .optional()
  .transform((v) => v === "true");

export const objectTypeParam = z.object({ objectType: z.string() });

/** The batch envelope HubSpot answers with (`BatchResponse…`); errors turn it into the 207 variant. */
export function batchResponse(results: unknown[], startedAt: Date, errors: unknown[] = []): Record<string, unknown> {
  return {
    status: "COMPLETE",
    results,
    ...(errors.length > 0 && { numErrors: errors.length, errors }),
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
  };
}
