import { expiryEnded, listAudit, type Actor, type Intent } from '../../consent/index.ts';
import { accessWithdrawnReadsCancelled, type ApiVersion } from '../versions.ts';
import type { Db } from './idempotency.ts';

/** v4.0's OBStatusReason: every field optional; the code is an OBExternalStatusReason1Code. */
export interface ObStatusReason {
  StatusReasonCode?: string;
  StatusReasonDescription: string;
}

/**
 * Why a consent was rejected or cancelled, in the words of the actor the consent store recorded on the
 * transition into its current status. The descriptions carry no code: OB's OBExternalStatusReason1Code
 * list (OpenBankingUK/External_Internal_CodeSets, OB_Internal_CodeSet.csv) holds the error codes
 * U001–U029, payment-progress codes and U042 "UK.OBIE.OtherReason", which OB reserves for "scenarios
 * where the actual reason cannot be determined or disclosed" — none says "the PSU declined" or "withdrawn
 * by the PSU/TPP", and here the reason is known. OBStatusReason makes every field optional, so the reason
 * is given as its description alone rather than under a code that means something else.
 */
const REASONS: Record<'Rejected' | 'Revoked', Partial<Record<Actor, string>>> = {
  Rejected: {
    psu: 'The PSU declined to authorise the consent at the ASPSP.',
  },
  Revoked: {
    psu: 'The PSU withdrew the consent at the ASPSP.',
    tpp: 'The TPP deleted the consent.',
    system: 'The ASPSP withdrew the consent: its authorisation could not be completed.',
  },
};

/** A consent whose access the PSU withdrew at the bank, which the TPP may ask the PSU to re-authenticate. */
const ACCESS_WITHDRAWN =
  "The PSU withdrew the TPP's access at the ASPSP; the TPP may ask the PSU to re-authenticate this consent.";

/**
 * A consent v4.0 reads EXPD (`consentStatusOn`): "the status change should be captured in StatusReason"
 * (Account Access Consents v4.0). No OBExternalStatusReason1Code says "expired", so a description alone.
 */
const EXPIRED = 'The consent passed its expiry date: it can no longer be authorised or used.';

/**
 * `Data.StatusReason` of a consent as `version` writes it at `now` (the instant its status was worked out
 * for): v4.0 only (v3.1.11's consent responses have no such field), for a consent that reads CANC or EXPD,
 * or a rejected or cancelled one whose transition the store recorded with a known actor. Undefined
 * otherwise — an authorised or awaiting consent has no reason to give, and a reason the store did not
 * record is not invented.
 */
export async function consentStatusReason(
  db: Db,
  intent: Intent,
  version: ApiVersion,
  now: Date,
): Promise<ObStatusReason[] | undefined> {
  if (version === 'v3.1.11') return undefined;
  // An account-access consent the PSU withdrew at the bank reads CANC on v4.0 (`consentStatusOn`) while the
  // store keeps it Authorised: its reason is that fact, not an audited change of status.
  if (accessWithdrawnReadsCancelled(version, intent)) return [{ StatusReasonDescription: ACCESS_WITHDRAWN }];
  // The same order as `consentStatusOn`: past the CANC case, a consent time has ended reads EXPD.
  if (expiryEnded(intent, now)) return [{ StatusReasonDescription: EXPIRED }];
  if (intent.status !== 'Rejected' && intent.status !== 'Revoked') return undefined;
  const reasons = REASONS[intent.status];
  const change = (await listAudit(db, intent.id)).findLast((entry) => entry.to === intent.status);
  const description = change ? reasons[change.actor] : undefined;
  return description ? [{ StatusReasonDescription: description }] : undefined;
}
