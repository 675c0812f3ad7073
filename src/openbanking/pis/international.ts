import type { FastifyInstance } from 'fastify';
import { executePayment, type AccountRecord, type PaymentRecord } from '../../bank/index.ts';
import type { Intent } from '../../consent/index.ts';
import { guard, guarded, guardedWithConsent, guardProfiles } from '../guard/index.ts';
import { assertConsentVersion, assertSameVersion } from '../http/consent-version.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import {
  assertSubmissionMatchesConsent,
  chosenDebtorAccount,
  clientIdOf,
  debtorOf,
  paymentConsentBody,
  type PaymentsContext,
  stageConsent,
  submissionChecks,
  submitOnce,
} from './common.ts';
import { consentFundsConfirmation } from './funds-confirmation.ts';
import { immediatePaymentReads } from './payment-reads.ts';
import {
  currentTerms,
  internationalCreditor,
  payoutOf,
  quoteFields,
  stagingCurrency,
  storedTerms,
  termsFor,
  termsOfStoredRequest,
  type TermsInitiation,
} from './international-terms.ts';
import { parseBody } from './validation.ts';
import { ownedConsent } from '../http/owned-resources.ts';
import { PIS_WIRE, type PisWireMapping } from './wire-mappings.ts';

/** OBWriteInternationalResponse of a payment, its status and Initiation as `wire` (the version) writes them. */
function paymentBody(
  wire: PisWireMapping,
  payment: PaymentRecord,
  debtor: AccountRecord | undefined,
  self: string,
) {
  const request = payment.request as { Initiation: unknown };
  const terms = termsOfStoredRequest(payment.request, payment.currency);
  return {
    Data: {
      InternationalPaymentId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: obDateTime(payment.createdAt),
      ...wire.paymentStatus(payment),
      StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      ...(terms ? quoteFields(terms, 'Actual') : {}),
      Initiation: wire.initiation(request.Initiation),
      ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
    },
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * International single payments: the sandbox's fixed FX table and charge. The consent shows an indicative
 * rate and the charge; the payment debits the account (transfer + charge) in one posting set through the
 * FX and clearing accounts, and reports the rate it used. The version served supplies the request
 * schemas and how statuses and Initiations are written (wire-mappings.ts).
 */
export function internationalPayments(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const version = context.version ?? 'v3.1.11';
  const wire = PIS_WIRE[version];
  const consentBody = (intent: Intent, debtor: AccountRecord | undefined, quote: Record<string, unknown>) =>
    paymentConsentBody(
      wire.consentOn(intent),
      `${base}/international-payment-consents/${intent.id}`,
      debtor,
      quote,
      wire.consentStatus(intent),
    );

  scope.post(
    '/international-payment-consents',
    { preHandler: [consentGuard, signed] },
    async (request, reply) => {
      const clientId = guarded(request).token.clientId;
      const body = parseBody(wire.international.consentRequest, request.body);
      const terms = termsFor(body.Data.Initiation, await stagingCurrency(context, body.Data.Initiation));
      const quote = quoteFields(terms, 'Indicative');
      return stageConsent(
        context,
        request,
        reply,
        // The quote is kept with the intent, so the PSU is shown exactly what the TPP was quoted.
        {
          kind: 'international-payment',
          clientId,
          data: { ...body.Data, Quote: quote },
          risk: body.Risk,
          apiVersion: version,
        },
        (intent) => consentBody(intent, undefined, quote),
      );
    },
  );

  scope.get<{ Params: { ConsentId: string } }>(
    '/international-payment-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const clientId = guarded(request).token.clientId;
      const consentId = request.params.ConsentId;
      const intent = assertConsentVersion(
        await ownedConsent(db, clientId, consentId, 'international-payment'),
        version,
        'consent',
      );
      const debtor = await chosenDebtorAccount(db, intent);
      const terms = await currentTerms(context, intent.data.Initiation as TermsInitiation, debtor);
      return consentBody(intent, debtor, terms ? quoteFields(terms, 'Indicative') : {});
    },
  );

  consentFundsConfirmation(scope, context, {
    consents: '/international-payment-consents',
    kind: 'international-payment',
    needed(intent, account) {
      const terms = termsFor(intent.data.Initiation as TermsInitiation, account.currency);
      return { amountMinor: terms.debitMinor + terms.chargeMinor, currency: account.currency };
    },
  });

  scope.post(
    '/international-payments',
    { preHandler: [guard(submissionChecks(['international-payment'], true), context.guard), signed] },
    async (request, reply) => {
      const state = guardedWithConsent(request);
      const intent = state.intent;
      // PIS release management: a payment-order is created in the version its consent was staged in.
      assertSameVersion(intent, version);
      const body = parseBody(wire.international.paymentRequest, request.body);
      assertSubmissionMatchesConsent(intent, body);
      const initiation = body.Data.Initiation;
      return submitOnce(context, request, reply, intent, {
        namedDebtor: initiation.DebtorAccount,
        detail: 'international payment submitted',
        async execute(tx, account) {
          const terms = termsFor(initiation, account.currency);
          const payment = await executePayment(
            tx,
            { clock },
            {
              kind: 'international',
              consentId: intent.id,
              clientId: intent.clientId,
              ...(intent.customerId ? { customerId: intent.customerId } : {}),
              debtorAccountId: account.id,
              amountMinor: terms.debitMinor,
              currency: account.currency,
              creditor: internationalCreditor(initiation),
              reference: wire.international.reference(initiation) ?? initiation.EndToEndIdentification,
              request: { ...body.Data, Terms: storedTerms(terms) },
              external: payoutOf(terms),
            },
          );
          return paymentBody(wire, payment, account, `${base}/international-payments/${payment.id}`);
        },
      });
    },
  );

  immediatePaymentReads(scope, context, {
    payments: '/international-payments',
    kind: 'international',
    body: (payment, debtor, self) => paymentBody(wire, payment, debtor, self),
  });
}
