-- CreateTable
CREATE TABLE "callback_outbox" (
    "workflow_id" TEXT NOT NULL,
    "object_ids" INTEGER[],
    "received_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "callback_outbox_pkey" PRIMARY KEY ("workflow_id")
);

-- CreateIndex
CREATE INDEX "callback_outbox_received_at_idx" ON "callback_outbox"("received_at");

