CREATE TABLE "store_change_version" (
	"id" smallint PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_notifications" (
	"id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"type" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"resource_version" text,
	"detail" jsonb NOT NULL,
	"txn" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"error" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "event_subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"api_version" text NOT NULL,
	"version" text NOT NULL,
	"callback_url" text,
	"event_types" jsonb,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "event_notifications_pending_ix" ON "event_notifications" USING btree ("client_id","created_at") WHERE "event_notifications"."acknowledged_at" is null and "event_notifications"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "event_notifications_due_ix" ON "event_notifications" USING btree ("next_attempt_at") WHERE "event_notifications"."next_attempt_at" is not null and "event_notifications"."delivered_at" is null and "event_notifications"."acknowledged_at" is null;--> statement-breakpoint
CREATE INDEX "event_notifications_expiry_ix" ON "event_notifications" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "event_subscriptions_client_ux" ON "event_subscriptions" USING btree ("client_id");