ALTER TABLE "consent_intents" ADD COLUMN "authorise_by" timestamp with time zone;--> statement-breakpoint
-- Consents staged before the column: their Data.Authorisation.CompletionDateTime. A value that is no date-time
-- (none should be: the payment APIs validate it) stays without a deadline, as the authorisation check read it.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT "id", "data" #>> '{Authorisation,CompletionDateTime}' AS "completion" FROM "consent_intents"
    WHERE "data" #>> '{Authorisation,CompletionDateTime}' IS NOT NULL
  LOOP
    BEGIN
      UPDATE "consent_intents" SET "authorise_by" = r."completion"::timestamptz WHERE "id" = r."id";
    EXCEPTION WHEN others THEN
      NULL;
    END;
  END LOOP;
END $$;
