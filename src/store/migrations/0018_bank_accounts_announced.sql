-- Every change to what the Account Information API's account answers are made of (`/accounts` and
-- `/accounts/{AccountId}`, v3.1.11 and v4.0, every permission: src/openbanking/ais/v3.1.11/mapping.ts
-- `mapAccount`) is announced, in the writing statement's own transaction, whoever writes it (obkit, a
-- migration, a DBA's SQL): the store's change version advances and `bank_accounts_changed` is notified
-- (`store_announce`), so an instance may answer those reads from what it keeps under the change version it
-- has heard, without a statement. The columns are the ones the answers show, and `internal_purpose` (an
-- internal account is never shown) and `id`; not the cached balances (`booked_minor`, `pending_*_minor`,
-- `last_booked_at`) that every posting updates, nor `credit_limit_minor`, `credit_line_type`,
-- `product_id` and `created_at`, which the balances, product and no answer show: a posting announces
-- nothing. Statement level: one announcement per statement (a statement that changed no row announces too).
--
-- Unlike `store.notify`'s callers, a writer here does not wait for other instances to acknowledge: they see
-- the change when its notification arrives, at most one cache lease (~3 s) later (a lease not renewed ends
-- every answer kept under the version it covered).
create or replace function bank_accounts_announce() returns trigger
language plpgsql as $$
begin
  perform store_announce('bank_accounts_changed', '');
  return null;
end
$$;
--> statement-breakpoint
create trigger bank_accounts_announced
after insert or delete or truncate or update of
  id, internal_purpose, account_type, account_sub_type, currency, status, status_updated_at, description,
  nickname, name, opening_date, maturity_date, sort_code, account_number, iban, pan, secondary_identification
on bank_accounts
for each statement execute function bank_accounts_announce();
