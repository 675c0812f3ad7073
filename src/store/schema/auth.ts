import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every stateful object of the authorization server (oidc-provider models: Session, Interaction,
 * AuthorizationCode, AccessToken, RefreshToken, ClientCredentials, Grant, PushedAuthorizationRequest,
 * Client, RegistrationAccessToken, ReplayDetection, …) in one table keyed by model name and id.
 * `consumed_at` is set by one atomic UPDATE, which is what makes a code redeemable once.
 * `intent_id` is the Open Banking intent a token rests on, so revoking the intent finds its tokens.
 */
export const authModels = pgTable(
  'auth_models',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').notNull(),
    grantId: text('grant_id'),
    userCode: text('user_code'),
    uid: text('uid'),
    intentId: text('intent_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
  },
  (table) => [
    primaryKey({ columns: [table.model, table.id] }),
    index('auth_models_grant_id_idx')
      .on(table.grantId)
      .where(sql`${table.grantId} is not null`),
    index('auth_models_user_code_idx')
      .on(table.model, table.userCode)
      .where(sql`${table.userCode} is not null`),
    index('auth_models_uid_idx')
      .on(table.model, table.uid)
      .where(sql`${table.uid} is not null`),
    index('auth_models_intent_id_idx')
      .on(table.intentId)
      .where(sql`${table.intentId} is not null`),
    index('auth_models_expires_at_idx')
      .on(table.expiresAt)
      .where(sql`${table.expiresAt} is not null`),
    // A client's rows (dropped with it by DELETE /register) and a customer's pending CIBA requests (the
    // bank app's list): looked up by payload fields, so indexed by them rather than scanned. Only rows that
    // have the field (both look-ups compare it with `=`, which implies it is there): an assertion's `jti`
    // record has neither, a client_credentials token no `accountId`, and every index entry less is work less
    // on each write of such a row (bench/README.md, Tokens, session 16).
    index('auth_models_client_id_idx')
      .on(sql`(${table.payload} ->> 'clientId')`)
      .where(sql`(${table.payload} ->> 'clientId') is not null`),
    index('auth_models_account_id_idx')
      .on(table.model, sql`(${table.payload} ->> 'accountId')`)
      .where(sql`(${table.payload} ->> 'accountId') is not null`),
  ],
);
