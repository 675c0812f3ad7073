CREATE TABLE "ob_payment_files" (
	"consent_id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"content_type" text NOT NULL,
	"content" text NOT NULL,
	"sha256" text NOT NULL,
	"uploaded_at" timestamp with time zone NOT NULL
);
