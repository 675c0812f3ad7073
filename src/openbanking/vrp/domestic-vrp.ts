import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  executePayment,
  fromMinor,
  fundsAvailable,
  getAccount,
  getPayment,
  lockConsentPayments,
  paidUnderConsent,
  periodContaining,
  toMinor,
  type AccountRecord,
  type PaymentRecord,
} from '../../bank/index.ts';
import { getIntentForClient, recordUse, revoke, type Intent } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { idempotencyScopeOf, idempotent } from '../http/idempotency.ts';
import { asObError } from '../http/intent-errors.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import {
  assertSubmissionMatchesConsent,
  clientIdOf,
  creditorOf,
  debtorAccount,
  debtorOf,
  namedDebtorAccount,
  type PaymentsContext,
  paymentStatusDetail,
  rejectionText,
  RESOURCE_ID,
  stageConsent,
  submissionChecks,
} from '../pis/common.ts';
import { amountToMinor, canonicalJson, parseBody } from '../pis/validation.ts';
import {
  checkControlParameters,
  checkVrpInitiation,
  vrpConsentRequestSchema,
  vrpFundsConfirmationSchema,
  vrpRequestSchema,
  type ControlParameters,
} from './validation.ts';
import { assertTokenConsentInPath, ownedConsent, resourceNotFound } from '../http/owned-resources.ts';

function fails(message: string, path?: string): ObError {
  return ObError.single(400, 'UK.OBIE.Rules.FailsControlParameters', message, path);
}

/** OBDomesticVRPConsentResponse of an intent. */
function consentBody(intent: Intent, self: string, debtor: AccountRecord | undefined) {
  return {
    Data: {
      ...(intent.data.ReadRefundAccount !== undefined
        ? { ReadRefundAccount: intent.data.ReadRefundAccount }
        : {}),
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: intent.status,
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      ControlParameters: intent.data.ControlParameters,
      Initiation: intent.data.Initiation,
      ...(debtor ? { DebtorAccount: debtorOf(debtor) } : {}),
    },
    Risk: intent.risk,
    Links: { Self: self },
    Meta: {},
  };
}

/** OBDomesticVRPResponse of a payment. */
function paymentBody(payment: PaymentRecord, risk: unknown, debtor: AccountRecord | undefined, self: string) {
  const request = payment.request;
  return {
    Data: {
      DomesticVRPId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: obDateTime(payment.createdAt),
      Status: payment.status,
      ...(payment.status === 'Rejected'
        ? { StatusReason: 'UK.OBIE.OtherReason', StatusReasonDescription: rejectionText(payment.reason) }
        : {}),
      StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      Initiation: request.Initiation,
      Instruction: request.Instruction,
      ...(debtor ? { DebtorAccount: debtorOf(debtor) } : {}),
    },
    Risk: risk,
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * Domestic variable recurring payments: consents with control parameters (maximum individual amount,
 * periodic limits per period type and alignment), enforced on every payment under a per-consent lock so
 * concurrent payments cannot together pass a limit; the PSU or the TPP may revoke the consent.
 */
export function domesticVrps(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const psuGuard = guard(submissionChecks(['domestic-vrp'], false, 'vrp'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);

  scope.post('/domestic-vrp-consents', { preHandler: [consentGuard, signed] }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(vrpConsentRequestSchema, request.body);
    checkControlParameters(body.Data.ControlParameters);
    checkVrpInitiation(body.Data.Initiation);
    await namedDebtorAccount(db, body.Data.Initiation.DebtorAccount);
    return stageConsent(
      context,
      request,
      reply,
      { kind: 'domestic-vrp', clientId, data: body.Data, risk: body.Risk },
      (intent) => consentBody(intent, `${base}/domestic-vrp-consents/${intent.id}`, undefined),
    );
  });

  const owned = (clientId: string, consentId: string) =>
    ownedConsent(db, clientId, consentId, 'domestic-vrp');

  scope.get<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
      // A deleted (revoked) VRP consent is gone: v3.1.11 has no Revoked status for it.
      // The profile: after a DELETE the ASPSP "must … respond to subsequent GET requests with … 400".
      if (intent.status === 'Revoked')
        throw resourceNotFound(`domestic VRP consent ${intent.id} was revoked`);
      const debtor =
        intent.status === 'Authorised' && intent.accountIds[0]
          ? await getAccount(db, intent.accountIds[0])
          : undefined;
      return consentBody(intent, `${base}/domestic-vrp-consents/${intent.id}`, debtor);
    },
  );

  scope.delete<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request, reply) => {
      const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
      await revoke({ db, clock, notifyRevoked: context.notifyRevoked }, intent.id, {
        actor: 'tpp',
        detail: `deleted by client ${intent.clientId}`,
      }).catch(asObError);
      return reply.status(204).send();
    },
  );

  scope.post<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId/funds-confirmation',
    { preHandler: [psuGuard, signed] },
    async (request, reply) => {
      const intent = guarded(request).intent;
      if (!intent) throw new Error('VRP funds confirmation reached without a consent');
      await assertTokenConsentInPath(db, intent, request.params.ConsentId, 'domestic-vrp');
      const body = parseBody(vrpFundsConfirmationSchema, request.body);
      if (body.Data.ConsentId !== intent.id)
        throw ObError.single(
          400,
          'UK.OBIE.Resource.ConsentMismatch',
          'the consent in the path and body must be the one the access token was issued for',
          'Data.ConsentId',
        );
      const amountMinor = amountToMinor(body.Data.InstructedAmount, 'Data.InstructedAmount');
      const account = await debtorAccount(
        db,
        intent,
        (intent.data.Initiation as { DebtorAccount?: { SchemeName: string; Identification: string } })
          .DebtorAccount,
        'Data.Initiation.DebtorAccount',
      );
      const available = await fundsAvailable(
        db,
        account.id,
        amountMinor,
        body.Data.InstructedAmount.Currency,
      );
      await recordUse({ db, clock }, intent.id, 'VRP funds confirmation').catch(asObError);
      return reply.status(201).send({
        Data: {
          FundsConfirmationId: `vfc-${randomUUID()}`,
          ConsentId: intent.id,
          CreationDateTime: obDateTime(clock.now()),
          ...(body.Data.Reference ? { Reference: body.Data.Reference } : {}),
          FundsAvailableResult: {
            FundsAvailableDateTime: obDateTime(clock.now()),
            FundsAvailable: available ? 'Available' : 'NotAvailable',
          },
          InstructedAmount: body.Data.InstructedAmount,
        },
      });
    },
  );

  scope.post('/domestic-vrps', { preHandler: [psuGuard, signed] }, async (request, reply) => {
    const state = guarded(request);
    const intent = state.intent;
    if (!intent) throw new Error('VRP submission reached without a consent');
    const body = parseBody(vrpRequestSchema, request.body);
    const data = body.Data;
    assertSubmissionMatchesConsent(intent, body);
    const consentCreditor = (intent.data.Initiation as { CreditorAccount?: unknown }).CreditorAccount;
    if (
      consentCreditor !== undefined &&
      canonicalJson(consentCreditor) !== canonicalJson(data.Instruction.CreditorAccount)
    )
      throw ObError.single(
        400,
        'UK.OBIE.Resource.ConsentMismatch',
        'Data.Instruction.CreditorAccount must be the creditor of the consent',
        'Data.Instruction.CreditorAccount',
      );
    const control = intent.data.ControlParameters as ControlParameters;
    const currency = control.MaximumIndividualAmount.Currency;
    const instructed = data.Instruction.InstructedAmount;
    const amountMinor = amountToMinor(instructed, 'Data.Instruction.InstructedAmount');
    if (!control.VRPType.includes(data.VRPType))
      throw fails(`the consent allows VRP types ${control.VRPType.join(', ')}`, 'Data.VRPType');
    if (!control.PSUAuthenticationMethods.includes(data.PSUAuthenticationMethod))
      throw fails(
        `the consent allows authentication methods ${control.PSUAuthenticationMethods.join(', ')}`,
        'Data.PSUAuthenticationMethod',
      );
    if (
      data.PSUInteractionType !== undefined &&
      control.PSUInteractionTypes !== undefined &&
      !control.PSUInteractionTypes.includes(data.PSUInteractionType)
    )
      throw fails('the consent does not allow this PSU interaction type', 'Data.PSUInteractionType');
    if (instructed.Currency !== currency)
      throw fails(`the consent is for payments in ${currency}`, 'Data.Instruction.InstructedAmount.Currency');
    const maximum = toMinor(control.MaximumIndividualAmount.Amount, currency);
    if (amountMinor > maximum)
      throw fails(
        `the amount exceeds the maximum individual amount of ${fromMinor(maximum, currency)} ${currency}`,
        'Data.Instruction.InstructedAmount.Amount',
      );
    const now = clock.now();
    if (control.ValidFromDateTime && now.getTime() < Date.parse(control.ValidFromDateTime))
      throw fails('the consent is not valid yet (ValidFromDateTime)', 'Data.ConsentId');
    const consentStart = control.ValidFromDateTime ? new Date(control.ValidFromDateTime) : intent.createdAt;

    const outcome = await idempotent(
      db,
      clock,
      idempotencyScopeOf(request, state.token.clientId),
      async (tx) => {
        // One payment at a time per consent: the limits below see every payment committed before.
        await lockConsentPayments(tx, intent.id);
        for (const [index, limit] of control.PeriodicLimits.entries()) {
          const period = periodContaining(limit.PeriodType, limit.PeriodAlignment, consentStart, now);
          const used = await paidUnderConsent(tx, intent.id, currency, period.start, period.end);
          const cap = toMinor(limit.Amount, currency);
          if (used + amountMinor > cap)
            throw fails(
              `the payment would exceed the ${limit.PeriodType} limit of ${fromMinor(cap, currency)} ${currency} ` +
                `(${fromMinor(used, currency)} used since ${obDateTime(period.start)})`,
              `Data.ControlParameters.PeriodicLimits.${index}`,
            );
        }
        const account = await debtorAccount(
          tx,
          intent,
          data.Initiation.DebtorAccount,
          'Data.Initiation.DebtorAccount',
        );
        await recordUse({ db: tx, clock }, intent.id, 'VRP payment').catch(asObError);
        const creditor = data.Instruction.CreditorAccount;
        const payment = await executePayment(
          tx,
          { clock },
          {
            kind: 'domestic-vrp',
            consentId: intent.id,
            clientId: intent.clientId,
            ...(intent.customerId ? { customerId: intent.customerId } : {}),
            debtorAccountId: account.id,
            amountMinor,
            currency,
            creditor: creditorOf(creditor),
            reference:
              data.Instruction.RemittanceInformation?.Reference ?? data.Instruction.EndToEndIdentification,
            request: data,
          },
        );
        return {
          status: 201,
          body: paymentBody(payment, body.Risk, account, `${base}/domestic-vrps/${payment.id}`),
        };
      },
    );
    return reply.status(outcome.status).send(outcome.body);
  });

  const ownedPayment = async (clientId: string, paymentId: string) => {
    const payment = RESOURCE_ID.test(paymentId) ? await getPayment(db, paymentId) : undefined;
    const intent =
      payment && payment.clientId === clientId
        ? await getIntentForClient(db, payment.consentId, clientId)
        : undefined;
    if (!payment || !intent || payment.kind !== 'domestic-vrp')
      throw resourceNotFound(`no domestic VRP ${paymentId} of yours`);
    return { payment, intent };
  };

  scope.get<{ Params: { DomesticVRPId: string } }>(
    '/domestic-vrps/:DomesticVRPId',
    { preHandler: consentGuard },
    async (request) => {
      const { payment, intent } = await ownedPayment(
        guarded(request).token.clientId,
        request.params.DomesticVRPId,
      );
      return paymentBody(
        payment,
        intent.risk,
        await getAccount(db, payment.debtorAccountId),
        `${base}/domestic-vrps/${payment.id}`,
      );
    },
  );

  scope.get<{ Params: { DomesticVRPId: string } }>(
    '/domestic-vrps/:DomesticVRPId/payment-details',
    { preHandler: consentGuard },
    async (request) => {
      const { payment } = await ownedPayment(guarded(request).token.clientId, request.params.DomesticVRPId);
      return {
        Data: { PaymentStatus: [paymentStatusDetail(payment, obDateTime(payment.statusUpdatedAt))] },
        Links: { Self: `${base}/domestic-vrps/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );
}
