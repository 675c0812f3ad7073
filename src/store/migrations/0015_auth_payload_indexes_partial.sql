DROP INDEX "auth_models_client_id_idx";--> statement-breakpoint
DROP INDEX "auth_models_account_id_idx";--> statement-breakpoint
CREATE INDEX "auth_models_client_id_idx" ON "auth_models" USING btree (("payload" ->> 'clientId')) WHERE ("auth_models"."payload" ->> 'clientId') is not null;--> statement-breakpoint
CREATE INDEX "auth_models_account_id_idx" ON "auth_models" USING btree ("model",("payload" ->> 'accountId')) WHERE ("auth_models"."payload" ->> 'accountId') is not null;