import type { FastifyInstance } from 'fastify';
import { executePayment, type AccountRecord, type PaymentRecord } from '../../bank/index.ts';
import type { Intent } from '../../consent/index.ts';
import { guard, guarded, guardedWithConsent, guardProfiles } from '../guard/index.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import { consentFundsConfirmation } from './funds-confirmation.ts';
import { immediatePaymentReads } from './payment-reads.ts';
import {
  assertSubmissionMatchesConsent,
  chosenDebtorAccount,
  clientIdOf,
  creditorOf,
  debtorOf,
  namedDebtorAccount,
  paymentConsentBody,
  type PaymentsContext,
  stageConsent,
  submissionChecks,
  submitOnce,
} from './common.ts';
import { checkDomesticInitiation, parseBody, type DomesticInitiation } from './validation.ts';
import { assertConsentVersion, assertSameVersion } from '../http/consent-version.ts';
import { PIS_WIRE, type PisWireMapping } from './wire-mappings.ts';
import { ownedConsent as ownedConsentOf } from '../http/owned-resources.ts';

/** OBWriteDomesticResponse5 of a payment, its status as `wire` (the version's mapping) writes it. */
function paymentBody(
  wire: PisWireMapping,
  payment: PaymentRecord,
  debtor: AccountRecord | undefined,
  self: string,
) {
  return {
    Data: {
      DomesticPaymentId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: obDateTime(payment.createdAt),
      ...wire.paymentStatus(payment),
      StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      Initiation: wire.initiation(payment.request.Initiation),
      ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
    },
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * Domestic single payments: consents (POST, GET, funds-confirmation) and submissions (POST, GET,
 * payment-details). Mounted in the signed-JSON scope of the PIS base path.
 */
export function domesticPayments(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const base = context.publicBaseUrl;
  const version = context.version ?? 'v3.1.11';
  const wire = PIS_WIRE[version];
  const consentBody = (intent: Intent, debtor: AccountRecord | undefined) =>
    paymentConsentBody(
      wire.consentOn(intent),
      `${base}/domestic-payment-consents/${intent.id}`,
      debtor,
      undefined,
      wire.consentStatus(intent),
    );

  scope.post('/domestic-payment-consents', { preHandler: [consentGuard, signed] }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(wire.domesticConsentRequest, request.body);
    checkDomesticInitiation(body.Data.Initiation, 'Data.Initiation');
    await namedDebtorAccount(db, body.Data.Initiation.DebtorAccount);
    return stageConsent(
      context,
      request,
      reply,
      { kind: 'domestic-payment', clientId, data: body.Data, risk: body.Risk, apiVersion: version },
      (intent) => consentBody(intent, undefined),
    );
  });

  const ownedConsent = async (clientId: string, consentId: string) =>
    assertConsentVersion(
      await ownedConsentOf(db, clientId, consentId, 'domestic-payment'),
      version,
      'consent',
    );
  const debtorOfIntent = (intent: Intent) => chosenDebtorAccount(db, intent);

  scope.get<{ Params: { ConsentId: string } }>(
    '/domestic-payment-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const intent = await ownedConsent(guarded(request).token.clientId, request.params.ConsentId);
      return consentBody(intent, await debtorOfIntent(intent));
    },
  );

  consentFundsConfirmation(scope, context, {
    consents: '/domestic-payment-consents',
    kind: 'domestic-payment',
    needed(intent) {
      const initiation = intent.data.Initiation as DomesticInitiation;
      const amountMinor = checkDomesticInitiation(initiation, 'Data.Initiation');
      return { amountMinor, currency: initiation.InstructedAmount.Currency };
    },
  });

  scope.post(
    '/domestic-payments',
    { preHandler: [guard(submissionChecks(['domestic-payment'], true), context.guard), signed] },
    async (request, reply) => {
      const state = guardedWithConsent(request);
      const intent = state.intent;
      // PIS release management: a payment-order is created in the version its consent was staged in.
      assertSameVersion(intent, version);
      const body = parseBody(wire.domesticPaymentRequest, request.body);
      assertSubmissionMatchesConsent(intent, body);
      const initiation = body.Data.Initiation;
      const amountMinor = checkDomesticInitiation(initiation, 'Data.Initiation');
      const creditor = creditorOf(initiation.CreditorAccount);
      return submitOnce(context, request, reply, intent, {
        namedDebtor: initiation.DebtorAccount,
        creditor,
        detail: 'domestic payment submitted',
        async execute(tx, account, creditorAccount) {
          const payment = await executePayment(
            tx,
            { clock },
            {
              kind: 'domestic',
              consentId: intent.id,
              clientId: intent.clientId,
              ...(intent.customerId ? { customerId: intent.customerId } : {}),
              debtorAccountId: account.id,
              debtorAccount: account,
              amountMinor,
              currency: initiation.InstructedAmount.Currency,
              creditor,
              creditorAccount,
              reference: wire.paymentReference(initiation),
              request: body.Data,
            },
          );
          return paymentBody(wire, payment, account, `${base}/domestic-payments/${payment.id}`);
        },
      });
    },
  );

  immediatePaymentReads(scope, context, {
    payments: '/domestic-payments',
    kind: 'domestic',
    body: (payment, debtor, self) => paymentBody(wire, payment, debtor, self),
  });
}
