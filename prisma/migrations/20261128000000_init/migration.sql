-- CreateEnum
CREATE TYPE "CrmProvider" AS ENUM ('hubspot', 'salesforce', 'zoho', 'pipedrive');

-- CreateEnum
CREATE TYPE "CrmAuthType" AS ENUM ('private_app', 'oauth');

-- CreateEnum
CREATE TYPE "IntegrationStatus" AS ENUM ('active', 'needs_reauth', 'disabled');

-- CreateEnum
CREATE TYPE "SyncDirection" AS ENUM ('to_crm', 'from_crm', 'bidirectional');

-- CreateTable
CREATE TABLE "forms" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "is_crm_import" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "forms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm_integrations" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "provider" "CrmProvider" NOT NULL,
    "external_account_id" TEXT NOT NULL,
    "auth_type" "CrmAuthType" NOT NULL DEFAULT 'private_app',
    "tier" TEXT NOT NULL DEFAULT 'starter',
    "status" "IntegrationStatus" NOT NULL DEFAULT 'active',
    "access_token_enc" TEXT,
    "refresh_token_enc" TEXT,
    "access_token_expires_at" TIMESTAMPTZ(3),
    "auto_sync_enabled" BOOLEAN NOT NULL DEFAULT true,
    "sync_direction" "SyncDirection" NOT NULL DEFAULT 'bidirectional',
    "settings" JSONB NOT NULL DEFAULT '{}',
    "webhooks_enabled" BOOLEAN NOT NULL DEFAULT false,
    "webhook_url" TEXT,
    "webhook_subscriptions" JSONB NOT NULL DEFAULT '[]',
    "webhook_total_received" BIGINT NOT NULL DEFAULT 0,
    "webhook_last_received_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "crm_integrations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leads" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "form_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "first_name" TEXT,
    "last_name" TEXT,
    "phone" TEXT,
    "company" TEXT,
    "job_title" TEXT,
    "source" TEXT NOT NULL,
    "field_versions" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lead_crm_links" (
    "id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "integration_id" UUID NOT NULL,
    "provider" "CrmProvider" NOT NULL,
    "external_id" TEXT NOT NULL,
    "last_pushed" JSONB NOT NULL DEFAULT '{}',
    "last_synced_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lead_crm_links_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" BIGSERIAL NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "integration_id" UUID,
    "provider" "CrmProvider" NOT NULL,
    "external_account_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "subscription_type" TEXT NOT NULL,
    "object_id" TEXT NOT NULL,
    "property_name" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "integration_errors" (
    "id" BIGSERIAL NOT NULL,
    "integration_id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "lead_id" UUID,
    "external_id" TEXT,
    "context" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "integration_errors_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "forms_org_id_name_key" ON "forms"("org_id", "name");

-- CreateIndex
CREATE INDEX "crm_integrations_org_id_idx" ON "crm_integrations"("org_id");

-- CreateIndex
CREATE UNIQUE INDEX "crm_integrations_provider_external_account_id_key" ON "crm_integrations"("provider", "external_account_id");

-- CreateIndex
CREATE INDEX "leads_org_id_source_idx" ON "leads"("org_id", "source");

-- CreateIndex
CREATE UNIQUE INDEX "leads_org_id_email_key" ON "leads"("org_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "lead_crm_links_integration_id_external_id_key" ON "lead_crm_links"("integration_id", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "lead_crm_links_lead_id_integration_id_key" ON "lead_crm_links"("lead_id", "integration_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_dedupe_key_key" ON "webhook_events"("dedupe_key");

-- CreateIndex
CREATE INDEX "webhook_events_integration_id_received_at_idx" ON "webhook_events"("integration_id", "received_at");

-- CreateIndex
CREATE INDEX "integration_errors_integration_id_created_at_idx" ON "integration_errors"("integration_id", "created_at");

-- AddForeignKey
ALTER TABLE "leads" ADD CONSTRAINT "leads_form_id_fkey" FOREIGN KEY ("form_id") REFERENCES "forms"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lead_crm_links" ADD CONSTRAINT "lead_crm_links_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lead_crm_links" ADD CONSTRAINT "lead_crm_links_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "integration_errors" ADD CONSTRAINT "integration_errors_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
