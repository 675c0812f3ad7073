import type { FastifyInstance } from 'fastify';
import { fundsAvailable, type AccountRecord } from '../../bank/index.ts';
import type { Intent, IntentKind } from '../../consent/index.ts';
import { guard, guardedWithConsent } from '../guard/index.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import { assertTokenConsentInPath } from '../http/owned-resources.ts';
import { obDateTime } from '../http/wire.ts';
import { debtorAccount, submissionChecks, type PaymentsContext } from './common.ts';

/**
 * `GET <consents>/{ConsentId}/funds-confirmation`: with the PSU's token for the consent, whether the
 * debtor account the PSU chose holds what the payment will take now (amount, and any charge).
 */
export function consentFundsConfirmation(
  scope: FastifyInstance,
  context: PaymentsContext,
  route: {
    consents: string;
    kind: IntentKind;
    /** What the payment takes from `account`, in the account's currency. */
    needed(intent: Intent, account: AccountRecord): { amountMinor: bigint; currency: string };
  },
): void {
  const { db, clock } = context;
  scope.get<{ Params: { ConsentId: string } }>(
    `${route.consents}/:ConsentId/funds-confirmation`,
    { preHandler: guard(submissionChecks([route.kind], false), context.guard) },
    async (request) => {
      const intent = guardedWithConsent(request).intent;
      await assertTokenConsentInPath(db, intent, request.params.ConsentId, route.kind);
      assertConsentVersion(intent, context.version ?? 'v3.1.11', 'data');
      const account = await debtorAccount(db, intent, undefined, 'Data.Initiation.DebtorAccount');
      const { amountMinor, currency } = route.needed(intent, account);
      const available = await fundsAvailable(db, account.id, amountMinor, currency);
      return {
        Data: {
          FundsAvailableResult: {
            FundsAvailableDateTime: obDateTime(clock.now()),
            FundsAvailable: available,
          },
        },
        Links: { Self: `${context.publicBaseUrl}${route.consents}/${intent.id}/funds-confirmation` },
        Meta: {},
      };
    },
  );
}
