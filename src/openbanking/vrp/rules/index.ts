import type { AccountRecord } from '../../../bank/index.ts';
import type { Db, Tx } from '../../http/idempotency.ts';
import { ObError } from '../../errors.ts';
import { COMMERCIAL_CONSENT_RULES, COMMERCIAL_PAYMENT_RULES } from './commercial.ts';
import { regimeOfConsent, type VrpRegime } from './regimes.ts';
import { enforce, type VrpRule } from './rule.ts';
import { SWEEPING_PAYMENT_RULES, sweepingFacts } from './sweeping.ts';
import type { VrpConsentView, VrpPaymentView } from './views.ts';

export * from './regimes.ts';
export {
  CVRP_BENEFICIARY_ACCOUNT_TYPES,
  CVRP_MANDATORY_RISK_FIELDS,
  CVRP_PAYMENT_CONTEXTS,
} from './commercial.ts';
export type { RuleFailure, VrpRule } from './rule.ts';
export type { SweepingPaymentFacts } from './sweeping.ts';
export type { VrpConsentView, VrpPaymentView, VrpRiskView } from './views.ts';

/**
 * The rules of each VRP regime, by where they apply. Sweeping and commercial rules are kept apart: a
 * sweeping consent is never asked for the cVRP risk indicators, and a commercial payment is never held to
 * the sweeping rule that the payee is the PSU.
 */
export const VRP_CONSENT_RULES: Record<VrpRegime, readonly VrpRule<VrpConsentView>[]> = {
  sweeping: [],
  commercial: COMMERCIAL_CONSENT_RULES,
  other: [],
};

export const VRP_PAYMENT_RULES: Record<VrpRegime, readonly VrpRule<VrpPaymentView>[]> = {
  sweeping: [],
  commercial: COMMERCIAL_PAYMENT_RULES,
  other: [],
};

/**
 * A consent request (POST), or the consent a PUT or PATCH would leave, against its regime's rules. Returns the
 * regime; throws a 400 listing every failed rule (U004 for a missing field, U002 for a wrong value).
 */
export function checkVrpConsentRules(consent: VrpConsentView): VrpRegime {
  const regime = regimeOfConsent(consent.Data.ControlParameters.VRPType);
  enforce(VRP_CONSENT_RULES[regime], consent);
  return regime;
}

/**
 * A payment request against its consent: the payment's VRPType must be one the consent allows (U014, the
 * profile's code for a breached control parameter), then the rules of the consent's regime.
 */
export function checkVrpPaymentRules(payment: VrpPaymentView, consentVrpTypes: readonly string[]): VrpRegime {
  if (!consentVrpTypes.includes(payment.Data.VRPType))
    throw ObError.single(
      400,
      'UK.OBIE.Rules.FailsControlParameters',
      `the consent allows VRP types ${consentVrpTypes.join(', ')}`,
      'Data.VRPType',
    );
  const regime = regimeOfConsent(consentVrpTypes, 'Data.VRPType');
  enforce(VRP_PAYMENT_RULES[regime], payment);
  return regime;
}

/**
 * The sweeping rules of a payment that the ledger decides (who holds the creditor account). Nothing to do
 * for other regimes. Run it in the payment's transaction, with the debtor account the PSU authorised and,
 * when already read, the creditor's account here (`sweepingFacts`).
 */
export async function checkSweepingPayment(
  db: Db | Tx,
  regime: VrpRegime,
  customerId: string,
  debtor: AccountRecord,
  creditor: { SchemeName: string; Identification: string; Name?: string | undefined },
  creditorAccount?: AccountRecord | null,
): Promise<void> {
  if (regime !== 'sweeping') return;
  enforce(SWEEPING_PAYMENT_RULES, await sweepingFacts(db, customerId, debtor, creditor, creditorAccount));
}
