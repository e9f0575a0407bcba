import { z } from "zod";

/** Shared response pieces: every success is `{ success: true, data, message? }`, every failure the error contract. */
export const errorResponse = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export function successResponse<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data, message: z.string().optional() });
}

/** Error statuses every authenticated route may answer. */
export const authErrors = { 400: errorResponse, 401: errorResponse, 404: errorResponse } as const;

export const bearerSecurity = [{ bearerAuth: [] }];
