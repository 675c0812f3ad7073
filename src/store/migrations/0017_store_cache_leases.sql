CREATE TABLE "store_cache_leases" (
	"instance" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"acked_version" bigint NOT NULL
);
