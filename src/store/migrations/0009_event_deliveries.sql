CREATE TABLE "event_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"callback_url" text NOT NULL,
	"status" integer,
	"error" text
);
--> statement-breakpoint
CREATE INDEX "event_deliveries_event_ix" ON "event_deliveries" USING btree ("event_id","at");