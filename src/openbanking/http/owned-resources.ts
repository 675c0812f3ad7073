import { getPayment, type PaymentKind, type PaymentRecord } from '../../bank/index.ts';
import { getIntentForClient, type Intent, type IntentKind } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import type { Db } from './idempotency.ts';

/** What an OB resource id in a path may be; anything else is not ours, without asking the store. */
export const RESOURCE_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * The one answer for a resource id in a specified path that is not there for this caller: 400
 * `UK.OBIE.Resource.NotFound`. Read/Write Data API Profile, "HTTP Status Codes" › "400 (Bad Request) v/s
 * 404 (Not Found)": an id that does not exist "must" be a 400, never a 404 (404 is for URLs the
 * specifications do not define); the standard error codes give `UK.OBIE.Resource.NotFound` with 400.
 *
 * The same answer, deliberately, for an id that exists but is not the caller's: another TPP's consent or
 * payment, a consent of another kind, an account or statement outside the PSU's consent. The profile's
 * "403 (Forbidden)" paragraph would allow 403 for those; we do not take it, so that a TPP cannot tell an
 * id of someone else's from one that does not exist (no probing of which ids are live), and so that one
 * rule holds on every path of every API (issue 10, item 6).
 */
export function resourceNotFound(message: string): ObError {
  return ObError.single(400, 'UK.OBIE.Resource.NotFound', message);
}

/**
 * The consent `consentId` of kind `kind`, if `clientId` staged it. Another client's consent, or one of
 * another kind, is answered exactly like one that does not exist (`resourceNotFound`).
 */
export async function ownedConsent(
  db: Db,
  clientId: string,
  consentId: string,
  kind: IntentKind,
): Promise<Intent> {
  const intent = RESOURCE_ID.test(consentId) ? await getIntentForClient(db, consentId, clientId) : undefined;
  if (!intent || intent.kind !== kind) throw resourceNotFound(`no ${kind} consent ${consentId} of yours`);
  return intent;
}

/** The payment resource `id` of kind `kind`, if `clientId` made it; otherwise as for `ownedConsent`. */
export async function ownedPayment(
  db: Db,
  clientId: string,
  id: string,
  kind: PaymentKind,
): Promise<PaymentRecord> {
  const payment = RESOURCE_ID.test(id) ? await getPayment(db, id) : undefined;
  if (!payment || payment.clientId !== clientId || payment.kind !== kind)
    throw resourceNotFound(`no ${kind} payment ${id} of yours`);
  return payment;
}

/**
 * A PSU-token route with a `{ConsentId}` in its path (`…-consents/{ConsentId}/funds-confirmation`): the
 * path must name the consent the token was issued for. A path id that is not one of the caller's
 * consents of this kind is `resourceNotFound`, as on every other path; one that is, but is not the
 * token's, is the mismatch `UK.OBIE.Resource.ConsentMismatch` (400, the standard code's status).
 */
export async function assertTokenConsentInPath(
  db: Db,
  tokenIntent: Intent,
  consentId: string,
  kind: IntentKind,
): Promise<void> {
  if (tokenIntent.id === consentId) return;
  await ownedConsent(db, tokenIntent.clientId, consentId, kind);
  throw ObError.single(
    400,
    'UK.OBIE.Resource.ConsentMismatch',
    'the access token was issued for another consent than the one in the path',
  );
}
