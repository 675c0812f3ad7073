import { getPayment, type PaymentKind, type PaymentRecord } from '../../bank/index.ts';
import { getIntentForClient, type Intent, type IntentKind } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import type { Db } from './idempotency.ts';

/** What an OB resource id in a path may be; anything else is not ours, without asking the store. */
export const RESOURCE_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * The consent `consentId` of kind `kind`, if `clientId` staged it. Another client's consent, or one of
 * another kind, is answered exactly like one that does not exist: 404, nothing disclosed.
 */
export async function ownedConsent(
  db: Db,
  clientId: string,
  consentId: string,
  kind: IntentKind,
): Promise<Intent> {
  const intent = RESOURCE_ID.test(consentId) ? await getIntentForClient(db, consentId, clientId) : undefined;
  if (!intent || intent.kind !== kind)
    throw ObError.single(404, 'UK.OBIE.Resource.NotFound', `no ${kind} consent ${consentId} of yours`);
  return intent;
}

/** The payment resource `id` of kind `kind`, if `clientId` made it; otherwise 404 as for `ownedConsent`. */
export async function ownedPayment(
  db: Db,
  clientId: string,
  id: string,
  kind: PaymentKind,
): Promise<PaymentRecord> {
  const payment = RESOURCE_ID.test(id) ? await getPayment(db, id) : undefined;
  if (!payment || payment.clientId !== clientId || payment.kind !== kind)
    throw ObError.single(404, 'UK.OBIE.Resource.NotFound', `no ${kind} payment ${id} of yours`);
  return payment;
}
