export { PrismaClient, Prisma } from "./generated/prisma/client.js";
export type { Form, CrmIntegration, Lead, LeadCrmLink, WebhookEvent, IntegrationError, SyncJob } from "./generated/prisma/client.js";
export * from "./generated/prisma/enums.js";
export { createPrismaClient, checkDatabase, isDatabaseReachable, type DatabaseCheck } from "./client.js";
export { ensureCrmImportForm, CRM_IMPORT_FORM_NAME } from "./forms.js";
export { postgresFailure, isUniqueViolation, isForeignKeyViolation, type PostgresFailure } from "./errors.js";
export {
  migrate,
  MigrationError,
  PRISMA_MIGRATE_LOCK_KEY,
  type MigrateOptions,
  type MigrateResult,
  type MigrationErrorCode,
  type MigrationLogger,
} from "./migrate.js";
export { migrationChecksum } from "./checksum.js";
export { readMigrations, DEFAULT_MIGRATIONS_DIR, type MigrationFile } from "./migration-files.js";
export { redactDatabaseUrl, withDatabase } from "./database-url.js";

import type { Prisma as PrismaNamespace } from "./generated/prisma/client.js";
/** The client handed to `prisma.$transaction(async (tx) => …)`: repositories accept either. */
export type TransactionClient = PrismaNamespace.TransactionClient;
