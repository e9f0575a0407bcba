-- CreateTable
CREATE TABLE "feed_checkpoints" (
    "integration_id" UUID NOT NULL,
    "checkpoint" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "feed_checkpoints_pkey" PRIMARY KEY ("integration_id")
);

-- AddForeignKey
ALTER TABLE "feed_checkpoints" ADD CONSTRAINT "feed_checkpoints_integration_id_fkey" FOREIGN KEY ("integration_id") REFERENCES "crm_integrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
