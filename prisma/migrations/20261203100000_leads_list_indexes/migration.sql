-- DropIndex
DROP INDEX "leads_org_id_source_idx";

-- CreateIndex
CREATE INDEX "leads_org_id_created_at_id_idx" ON "leads"("org_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "leads_org_id_source_created_at_id_idx" ON "leads"("org_id", "source", "created_at", "id");
