CREATE SEQUENCE "public"."bank_book_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_models" (
	"model" text NOT NULL,
	"id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"grant_id" text,
	"user_code" text,
	"uid" text,
	"intent_id" text,
	"expires_at" timestamp with time zone,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "auth_models_model_id_pk" PRIMARY KEY("model","id")
);
--> statement-breakpoint
CREATE TABLE "bank_account_holders" (
	"account_id" text NOT NULL,
	"customer_id" text NOT NULL,
	CONSTRAINT "bank_account_holders_account_id_customer_id_pk" PRIMARY KEY("account_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "bank_account_parties" (
	"account_id" text NOT NULL,
	"party_id" text NOT NULL,
	"account_role" text NOT NULL,
	"ordinal" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "bank_account_parties_account_id_party_id_pk" PRIMARY KEY("account_id","party_id")
);
--> statement-breakpoint
CREATE TABLE "bank_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"internal_purpose" text,
	"account_type" text,
	"account_sub_type" text NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"status_updated_at" timestamp with time zone NOT NULL,
	"description" text,
	"nickname" text,
	"name" text NOT NULL,
	"opening_date" date NOT NULL,
	"maturity_date" date,
	"sort_code" text,
	"account_number" text,
	"iban" text,
	"pan" text,
	"secondary_identification" text,
	"product_id" text,
	"credit_limit_minor" bigint DEFAULT 0 NOT NULL,
	"credit_line_type" text,
	"booked_minor" bigint DEFAULT 0 NOT NULL,
	"pending_debit_minor" bigint DEFAULT 0 NOT NULL,
	"pending_credit_minor" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_accounts_limit_ck" CHECK ("bank_accounts"."credit_limit_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "bank_beneficiaries" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"beneficiary_type" text,
	"reference" text,
	"creditor" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_cards" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"scheme" text NOT NULL,
	"name_on_card" text NOT NULL,
	"pan" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_customers" (
	"id" text PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"display_name" text NOT NULL,
	"kind" text NOT NULL,
	"party_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_customers_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "bank_direct_debits" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"mandate_identification" text NOT NULL,
	"status" text NOT NULL,
	"name" text NOT NULL,
	"frequency" text,
	"previous_payment_at" timestamp with time zone,
	"previous_payment_minor" bigint,
	"currency" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"booked_at" timestamp with time zone NOT NULL,
	"value_at" timestamp with time zone,
	"origin" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_entries_seq_unique" UNIQUE("seq"),
	CONSTRAINT "bank_entries_origin_unique" UNIQUE("origin")
);
--> statement-breakpoint
CREATE TABLE "bank_offers" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"offer_type" text NOT NULL,
	"description" text,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"rate" text,
	"value" integer,
	"term" text,
	"url" text,
	"amount_minor" bigint,
	"fee_minor" bigint,
	"currency" text
);
--> statement-breakpoint
CREATE TABLE "bank_parties" (
	"id" text PRIMARY KEY NOT NULL,
	"party_number" text,
	"party_type" text,
	"name" text NOT NULL,
	"full_legal_name" text,
	"legal_structure" text,
	"beneficial_ownership" boolean,
	"email_address" text,
	"phone" text,
	"mobile" text,
	"addresses" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_postings" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"entry_id" text NOT NULL,
	"account_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"booked_at" timestamp with time zone NOT NULL,
	"value_at" timestamp with time zone,
	"book_seq" bigint,
	"balance_after_minor" bigint,
	"transaction_reference" text,
	"transaction_information" text,
	"address_line" text,
	"bank_transaction_code" text,
	"bank_transaction_sub_code" text,
	"proprietary_code" text,
	"proprietary_issuer" text,
	"merchant_name" text,
	"merchant_category_code" text,
	"card_id" text,
	"card_authorisation_type" text,
	"counterparty" jsonb,
	"currency_exchange" jsonb,
	"charge_minor" bigint,
	CONSTRAINT "bank_postings_seq_unique" UNIQUE("seq"),
	CONSTRAINT "bank_postings_nonzero_ck" CHECK ("bank_postings"."amount_minor" <> 0)
);
--> statement-breakpoint
CREATE TABLE "bank_products" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"product_type" text NOT NULL,
	"secondary_product_id" text,
	"marketing_state_id" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "bank_scheduled_payments" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"scheduled_at" timestamp with time zone NOT NULL,
	"scheduled_type" text NOT NULL,
	"reference" text,
	"debtor_reference" text,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"creditor" jsonb NOT NULL,
	"status" text NOT NULL,
	"entry_id" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_standing_orders" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"frequency" text NOT NULL,
	"reference" text,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"first_payment_at" timestamp with time zone,
	"first_payment_minor" bigint,
	"next_payment_at" timestamp with time zone,
	"next_payment_minor" bigint,
	"last_payment_at" timestamp with time zone,
	"last_payment_minor" bigint,
	"final_payment_at" timestamp with time zone,
	"final_payment_minor" bigint,
	"number_of_payments" integer,
	"payments_made" integer DEFAULT 0 NOT NULL,
	"creditor" jsonb NOT NULL,
	"supplementary_data" jsonb,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_statements" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"reference" text,
	"type" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"descriptions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"opening_booked_minor" bigint NOT NULL,
	"closing_booked_minor" bigint NOT NULL,
	"total_credits_minor" bigint NOT NULL,
	"total_debits_minor" bigint NOT NULL,
	"currency" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consent_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "consent_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"intent_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"event" text NOT NULL,
	"from_status" text,
	"to_status" text,
	"detail" text
);
--> statement-breakpoint
CREATE TABLE "consent_intents" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"client_id" text NOT NULL,
	"status" text NOT NULL,
	"status_updated_at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"risk" jsonb NOT NULL,
	"permissions" text[] NOT NULL,
	"expires_at" timestamp with time zone,
	"customer_id" text,
	"account_ids" text[],
	"created_at" timestamp with time zone NOT NULL,
	"authorised_at" timestamp with time zone,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "consent_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"interaction_uid" text NOT NULL,
	"csrf_token" text NOT NULL,
	"stage" text NOT NULL,
	"customer_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "psu_credentials" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"password_hash" text NOT NULL,
	"totp_secret" text NOT NULL,
	"totp_last_step" bigint,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "psu_unknown_logins" (
	"username_hash" text PRIMARY KEY NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_aspsps" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"discovery_url" text NOT NULL,
	"org_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "directory_aspsps_discovery_url_unique" UNIQUE("discovery_url")
);
--> statement-breakpoint
CREATE TABLE "directory_certificates" (
	"kid" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"software_id" text NOT NULL,
	"type" text NOT NULL,
	"serial_number" text NOT NULL,
	"issuer_name" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"thumbprint_s256" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"listed_until" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"sealed_private_key" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_organisations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"country_code" text NOT NULL,
	"nca_name" text NOT NULL,
	"nca_id" text NOT NULL,
	"organization_identifier" text NOT NULL,
	"status" text DEFAULT 'Active' NOT NULL,
	"contacts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"management_secret_hash" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"sealed_private_key" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"sign_until" timestamp with time zone NOT NULL,
	"listed_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "directory_software" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"client_name" text NOT NULL,
	"description" text NOT NULL,
	"version" text NOT NULL,
	"roles" jsonb NOT NULL,
	"redirect_uris" jsonb NOT NULL,
	"client_uri" text,
	"logo_uri" text,
	"policy_uri" text,
	"tos_uri" text,
	"mode" text NOT NULL,
	"certificate_profile" text NOT NULL,
	"status" text DEFAULT 'Active' NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bank_payments" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"consent_id" text NOT NULL,
	"client_id" text NOT NULL,
	"customer_id" text,
	"debtor_account_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"status_updated_at" timestamp with time zone NOT NULL,
	"reason" text,
	"entry_id" text,
	"request" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_payments_amount_ck" CHECK ("bank_payments"."amount_minor" > 0)
);
--> statement-breakpoint
CREATE TABLE "ob_idempotency" (
	"client_id" text NOT NULL,
	"key" text NOT NULL,
	"endpoint" text NOT NULL,
	"body_hash" text NOT NULL,
	"status" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ob_idempotency_client_id_key_endpoint_pk" PRIMARY KEY("client_id","key","endpoint")
);
--> statement-breakpoint
ALTER TABLE "bank_account_holders" ADD CONSTRAINT "bank_account_holders_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_account_holders" ADD CONSTRAINT "bank_account_holders_customer_id_bank_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."bank_customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_account_parties" ADD CONSTRAINT "bank_account_parties_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_account_parties" ADD CONSTRAINT "bank_account_parties_party_id_bank_parties_id_fk" FOREIGN KEY ("party_id") REFERENCES "public"."bank_parties"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_accounts" ADD CONSTRAINT "bank_accounts_product_id_bank_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."bank_products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_beneficiaries" ADD CONSTRAINT "bank_beneficiaries_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_cards" ADD CONSTRAINT "bank_cards_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_customers" ADD CONSTRAINT "bank_customers_party_id_bank_parties_id_fk" FOREIGN KEY ("party_id") REFERENCES "public"."bank_parties"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_direct_debits" ADD CONSTRAINT "bank_direct_debits_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_offers" ADD CONSTRAINT "bank_offers_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_postings" ADD CONSTRAINT "bank_postings_entry_id_bank_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."bank_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_postings" ADD CONSTRAINT "bank_postings_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_postings" ADD CONSTRAINT "bank_postings_card_id_bank_cards_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."bank_cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_scheduled_payments" ADD CONSTRAINT "bank_scheduled_payments_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_scheduled_payments" ADD CONSTRAINT "bank_scheduled_payments_entry_id_bank_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."bank_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_standing_orders" ADD CONSTRAINT "bank_standing_orders_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_statements" ADD CONSTRAINT "bank_statements_account_id_bank_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."bank_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consent_audit" ADD CONSTRAINT "consent_audit_intent_id_consent_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."consent_intents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directory_aspsps" ADD CONSTRAINT "directory_aspsps_org_id_directory_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."directory_organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directory_certificates" ADD CONSTRAINT "directory_certificates_org_id_directory_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."directory_organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directory_certificates" ADD CONSTRAINT "directory_certificates_software_id_directory_software_id_fk" FOREIGN KEY ("software_id") REFERENCES "public"."directory_software"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "directory_software" ADD CONSTRAINT "directory_software_org_id_directory_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."directory_organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "auth_models_grant_id_idx" ON "auth_models" USING btree ("grant_id") WHERE "auth_models"."grant_id" is not null;--> statement-breakpoint
CREATE INDEX "auth_models_user_code_idx" ON "auth_models" USING btree ("model","user_code") WHERE "auth_models"."user_code" is not null;--> statement-breakpoint
CREATE INDEX "auth_models_uid_idx" ON "auth_models" USING btree ("model","uid") WHERE "auth_models"."uid" is not null;--> statement-breakpoint
CREATE INDEX "auth_models_intent_id_idx" ON "auth_models" USING btree ("intent_id") WHERE "auth_models"."intent_id" is not null;--> statement-breakpoint
CREATE INDEX "auth_models_expires_at_idx" ON "auth_models" USING btree ("expires_at") WHERE "auth_models"."expires_at" is not null;--> statement-breakpoint
CREATE INDEX "bank_account_holders_customer_ix" ON "bank_account_holders" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bank_accounts_internal_uq" ON "bank_accounts" USING btree ("internal_purpose","currency") WHERE "bank_accounts"."internal_purpose" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "bank_accounts_scan_uq" ON "bank_accounts" USING btree ("sort_code","account_number") WHERE "bank_accounts"."sort_code" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "bank_accounts_iban_uq" ON "bank_accounts" USING btree ("iban") WHERE "bank_accounts"."iban" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "bank_accounts_pan_uq" ON "bank_accounts" USING btree ("pan") WHERE "bank_accounts"."pan" is not null;--> statement-breakpoint
CREATE INDEX "bank_beneficiaries_account_ix" ON "bank_beneficiaries" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "bank_direct_debits_account_ix" ON "bank_direct_debits" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "bank_entries_booked_ix" ON "bank_entries" USING btree ("booked_at");--> statement-breakpoint
CREATE INDEX "bank_offers_account_ix" ON "bank_offers" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "bank_postings_account_ix" ON "bank_postings" USING btree ("account_id","booked_at","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "bank_postings_book_seq_uq" ON "bank_postings" USING btree ("book_seq");--> statement-breakpoint
CREATE INDEX "bank_postings_entry_ix" ON "bank_postings" USING btree ("entry_id");--> statement-breakpoint
CREATE INDEX "bank_scheduled_payments_account_ix" ON "bank_scheduled_payments" USING btree ("account_id","status");--> statement-breakpoint
CREATE INDEX "bank_standing_orders_account_ix" ON "bank_standing_orders" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "bank_statements_account_ix" ON "bank_statements" USING btree ("account_id","start_at");--> statement-breakpoint
CREATE INDEX "consent_audit_intent_idx" ON "consent_audit" USING btree ("intent_id","id");--> statement-breakpoint
CREATE INDEX "consent_intents_client_idx" ON "consent_intents" USING btree ("client_id");--> statement-breakpoint
CREATE INDEX "consent_intents_customer_idx" ON "consent_intents" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "consent_sessions_expiry_idx" ON "consent_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "directory_certificates_serial_idx" ON "directory_certificates" USING btree ("issuer_name","serial_number");--> statement-breakpoint
CREATE UNIQUE INDEX "directory_certificates_thumbprint_idx" ON "directory_certificates" USING btree ("thumbprint_s256");--> statement-breakpoint
CREATE INDEX "directory_certificates_software_idx" ON "directory_certificates" USING btree ("software_id");--> statement-breakpoint
CREATE INDEX "directory_certificates_org_idx" ON "directory_certificates" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "directory_certificates_revoked_idx" ON "directory_certificates" USING btree ("revoked_at") WHERE "directory_certificates"."revoked_at" is not null;--> statement-breakpoint
CREATE INDEX "directory_software_org_idx" ON "directory_software" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "bank_payments_consent_ix" ON "bank_payments" USING btree ("consent_id","created_at");--> statement-breakpoint
CREATE INDEX "ob_idempotency_expires_ix" ON "ob_idempotency" USING btree ("expires_at");