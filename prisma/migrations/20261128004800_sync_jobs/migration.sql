-- CreateEnum
CREATE TYPE "SyncJobKind" AS ENUM ('backfill', 'reconcile');

-- CreateEnum
CREATE TYPE "SyncJobStatus" AS ENUM ('queued', 'running', 'completed', 'failed');

-- CreateTable
CREATE TABLE "sync_jobs" (
    "id" UUID NOT NULL,
    "integration_id" UUID NOT NULL,
    "kind" "SyncJobKind" NOT NULL,
    "status" "SyncJobStatus" NOT NULL DEFAULT 'queued',
    "cursor" TEXT,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "fixed" INTEGER NOT NULL DEFAULT 0,
    "owner" TEXT,
    "last_error" TEXT,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sync_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sync_jobs_integration_id_kind_created_at_idx" ON "sync_jobs"("integration_id", "kind", "created_at");

-- AddForeignKey
ALTER TABLE "sync_jobs" ADD CONSTRAINT "sync_jobs_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
