CREATE TABLE "mi_downtime" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"version" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"last_failure_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "mi_hourly" (
	"hour" timestamp with time zone NOT NULL,
	"endpoint" text NOT NULL,
	"version" text NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"successes" bigint DEFAULT 0 NOT NULL,
	"business_failures" bigint DEFAULT 0 NOT NULL,
	"technical_failures" bigint DEFAULT 0 NOT NULL,
	"first_byte_micros" bigint DEFAULT 0 NOT NULL,
	"last_byte_micros" bigint DEFAULT 0 NOT NULL,
	"request_bytes" bigint DEFAULT 0 NOT NULL,
	"response_bytes" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "mi_hourly_hour_endpoint_version_pk" PRIMARY KEY("hour","endpoint","version")
);
--> statement-breakpoint
CREATE INDEX "mi_downtime_started_ix" ON "mi_downtime" USING btree ("started_at");