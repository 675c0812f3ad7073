ALTER TABLE "bank_accounts" ADD COLUMN "last_booked_at" timestamp with time zone;--> statement-breakpoint
-- The latest booking time of each customer account's Booked postings, kept from now on with its balances.
UPDATE "bank_accounts" SET "last_booked_at" = (
  SELECT max("booked_at") FROM "bank_postings"
  WHERE "bank_postings"."account_id" = "bank_accounts"."id" AND "bank_postings"."status" = 'Booked'
) WHERE "internal_purpose" IS NULL;
