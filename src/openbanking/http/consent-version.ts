import type { PaymentRecord } from '../../bank/index.ts';
import { getIntent, type Intent } from '../../consent/index.ts';
import type { Db } from './idempotency.ts';
import { ObError } from '../errors.ts';
import { consentUsableOn, type ApiVersion } from '../versions.ts';
import { resourceNotFound } from './owned-resources.ts';

/**
 * Applies the version-compatibility rule (versions.ts, `consentUsableOn`) to a consent reached on
 * `version`. On the consent's own endpoints (GET, DELETE) a consent of a newer version does not exist in
 * this older one: the not-found answer every unknown id gets. On the endpoints a consent grants (data,
 * funds confirmations) the token's consent is not one this version may use: 403, as for any consent the
 * guard finds unusable.
 */
export function assertConsentVersion(intent: Intent, version: ApiVersion, on: 'consent' | 'data'): Intent {
  if (consentUsableOn(intent.apiVersion, version)) return intent;
  const message = `consent ${intent.id} was staged on ${intent.apiVersion ?? 'v3.1.11'}; a ${version} endpoint cannot use it`;
  if (on === 'consent') throw resourceNotFound(message);
  throw ObError.single(403, 'UK.OBIE.Resource.InvalidConsentStatus', message);
}

/**
 * A payment-order is created only in the version its consent was staged in (Payment Initiation API
 * Profile, release management: "An ASPSP must not allow a PISP to use a ConsentId from a previous version
 * to create a payment-order in a newer version, and vice versa"): 403, the consent being unusable here.
 */
export function assertSameVersion(intent: Intent, version: ApiVersion): void {
  const staged = intent.apiVersion ?? 'v3.1.11';
  if (staged === version) return;
  throw ObError.single(
    403,
    'UK.OBIE.Resource.InvalidConsentStatus',
    `consent ${intent.id} was staged on ${staged}; a payment-order on ${version} cannot use it`,
  );
}

/**
 * A payment resource reached on `version`: one made on a newer version (its consent's version says
 * which) is not found on an older one, as `assertConsentVersion` answers for the consent.
 */
export async function assertPaymentVersion(
  db: Db,
  payment: PaymentRecord,
  version: ApiVersion,
): Promise<PaymentRecord> {
  const intent = await getIntent(db, payment.consentId);
  if (intent) assertConsentVersion(intent, version, 'consent');
  return payment;
}
