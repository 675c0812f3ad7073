ALTER TABLE "consent_intents" ADD COLUMN "authorise_by" timestamp with time zone;--> statement-breakpoint
-- Consents staged before the column: their Data.Authorisation.CompletionDateTime, which the payment APIs
-- validated as an ISO 8601 date-time with a zone when the TPP staged them.
UPDATE "consent_intents" SET "authorise_by" = ("data" #>> '{Authorisation,CompletionDateTime}')::timestamptz
  WHERE "data" #>> '{Authorisation,CompletionDateTime}' IS NOT NULL;
