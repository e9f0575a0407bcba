-- AlterTable
ALTER TABLE "leads" ADD COLUMN "archived_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "unlinked_contacts" (
    "id" UUID NOT NULL,
    "integration_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "lead_id" UUID NOT NULL,
    "unlinked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "unlinked_contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "privacy_erasures" (
    "id" UUID NOT NULL,
    "integration_id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "erased_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "privacy_erasures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "unlinked_contacts_integration_id_external_id_key" ON "unlinked_contacts"("integration_id", "external_id");

-- CreateIndex
CREATE INDEX "privacy_erasures_integration_id_erased_at_idx" ON "privacy_erasures"("integration_id", "erased_at");

-- AddForeignKey
ALTER TABLE "unlinked_contacts" ADD CONSTRAINT "unlinked_contacts_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "privacy_erasures" ADD CONSTRAINT "privacy_erasures_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
