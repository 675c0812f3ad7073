ALTER TABLE "bank_scheduled_payments" ADD COLUMN "external" jsonb;--> statement-breakpoint
ALTER TABLE "bank_standing_orders" ADD COLUMN "external" jsonb;