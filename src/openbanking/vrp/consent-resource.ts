import { getAccount, type AccountRecord } from '../../bank/index.ts';
import type { Intent } from '../../consent/index.ts';
import { consentStatusReason } from '../http/consent-status-reason.ts';
import type { Db } from '../http/idempotency.ts';
import { resourceNotFound } from '../http/owned-resources.ts';
import { obDateTime } from '../http/wire.ts';
import { debtorOf } from '../pis/common.ts';
import type { ApiVersion } from '../versions.ts';
import type { VrpWireMapping } from './wire-mappings.ts';

/** OBDomesticVRPConsentResponse of an intent, as `wire` (the version's mapping) writes it. */
export function vrpConsentBody(
  wire: VrpWireMapping,
  intent: Intent,
  status: string,
  statusReason: unknown[] | undefined,
  debtor: AccountRecord | undefined,
  self: string,
) {
  return {
    Data: {
      ...(intent.data.ReadRefundAccount !== undefined
        ? { ReadRefundAccount: intent.data.ReadRefundAccount }
        : {}),
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: status,
      ...(statusReason ? { StatusReason: statusReason } : {}),
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      ControlParameters: intent.data.ControlParameters,
      Initiation: wire.part(intent.data.Initiation),
      ...(debtor ? { DebtorAccount: debtorOf(debtor) } : {}),
    },
    Risk: wire.risk(intent.risk),
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * A stored VRP consent as `version` shows it (GET, and the answer to a migration): its status as of `now`
 * with the reason for a refusal, and the debtor account the PSU chose once authorised. A consent the
 * version has no status for (v3.1.11: a deleted one) is not found.
 */
export async function vrpConsentResource(
  db: Db,
  wire: VrpWireMapping,
  version: ApiVersion,
  intent: Intent,
  now: Date,
  self: string,
) {
  const status = wire.consentStatus(intent, now);
  if (status === undefined) throw resourceNotFound(`domestic VRP consent ${intent.id} was revoked`);
  const debtor =
    intent.status === 'Authorised' && intent.accountIds[0]
      ? await getAccount(db, intent.accountIds[0])
      : undefined;
  return vrpConsentBody(
    wire,
    intent,
    status,
    await consentStatusReason(db, intent, version, now),
    debtor,
    self,
  );
}
