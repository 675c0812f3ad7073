import type { FastifyInstance } from 'fastify';
import { getAccount, type AccountRecord, type PaymentKind, type PaymentRecord } from '../../bank/index.ts';
import { getIntent } from '../../consent/index.ts';
import { assertConsentVersion } from '../http/consent-version.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { ownedPayment } from '../http/owned-resources.ts';
import { obDateTime } from '../http/wire.ts';
import type { PaymentsContext } from './common.ts';
import { PIS_WIRE } from './wire-mappings.ts';

/**
 * `GET <payments>/{id}` and `GET <payments>/{id}/payment-details` of a payment executed at once (one
 * ledger posting, one status): the resource as `body` renders it, and its single status entry.
 */
export function immediatePaymentReads(
  scope: FastifyInstance,
  context: PaymentsContext,
  route: {
    payments: string;
    kind: PaymentKind;
    body(payment: PaymentRecord, debtor: AccountRecord | undefined, self: string): unknown;
  },
): void {
  const { db } = context;
  const wire = PIS_WIRE[context.version ?? 'v3.1.11'];
  const base = `${context.publicBaseUrl}${route.payments}`;
  // A payment made on a newer version is not found on an older one (its consent's version says which).
  const assertPaymentVersion = async (payment: PaymentRecord) => {
    const intent = await getIntent(db, payment.consentId);
    if (intent) assertConsentVersion(intent, context.version ?? 'v3.1.11', 'consent');
  };
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);

  scope.get<{ Params: { PaymentId: string } }>(
    `${route.payments}/:PaymentId`,
    { preHandler: consentGuard },
    async (request) => {
      const payment = await ownedPayment(
        db,
        guarded(request).token.clientId,
        request.params.PaymentId,
        route.kind,
      );
      await assertPaymentVersion(payment);
      return route.body(payment, await getAccount(db, payment.debtorAccountId), `${base}/${payment.id}`);
    },
  );

  scope.get<{ Params: { PaymentId: string } }>(
    `${route.payments}/:PaymentId/payment-details`,
    { preHandler: consentGuard },
    async (request) => {
      const payment = await ownedPayment(
        db,
        guarded(request).token.clientId,
        request.params.PaymentId,
        route.kind,
      );
      await assertPaymentVersion(payment);
      return {
        Data: { PaymentStatus: [wire.paymentStatusDetail(payment, obDateTime(payment.statusUpdatedAt))] },
        Links: { Self: `${base}/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );
}
