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
import { getIntent, getIntentForClient, recordUse, type Intent } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardedWithConsent, guardProfiles } from '../guard/index.ts';
import { assertConsentVersion, assertSameVersion } from '../http/consent-version.ts';
import { idempotencyScopeOf, idempotent, sendOutcome } from '../http/idempotency.ts';
import { consentDeletionRoute } from '../http/consent-deletion.ts';
import { asObError } from '../http/intent-errors.ts';
import { requireSignature } from '../http/jws.ts';
import { assertTokenConsentInPath, ownedConsent, resourceNotFound } from '../http/owned-resources.ts';
import { obDateTime } from '../http/wire.ts';
import {
  clientIdOf,
  creditorOf,
  debtorAccount,
  debtorAccountWithCreditor,
  debtorOf,
  type PaymentsContext,
  RESOURCE_ID,
  stageConsent,
  submissionChecks,
} from '../pis/common.ts';
import { amountToMinor, parseBody } from '../pis/validation.ts';
import type { ApiVersion } from '../versions.ts';
import { runConsentChecks } from './consent-checks.ts';
import { vrpConsentMigration } from './consent-migration.ts';
import { vrpConsentBody, vrpConsentResource } from './consent-resource.ts';
import { failsControlParameters, runPaymentChecks } from './payment-checks.ts';
import { vrpFundsConfirmationSchema, type ControlParameters } from './validation.ts';
import { VRP_WIRE, type VrpWireMapping } from './wire-mappings.ts';

/** OBDomesticVRPResponse of a payment, as `wire` writes it. */
function paymentBody(
  wire: VrpWireMapping,
  payment: PaymentRecord,
  risk: Record<string, unknown>,
  debtor: AccountRecord | undefined,
  self: string,
) {
  const request = payment.request;
  return {
    Data: {
      DomesticVRPId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: obDateTime(payment.createdAt),
      ...wire.paymentStatus(payment),
      StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      Initiation: wire.part(request.Initiation),
      Instruction: wire.part(request.Instruction),
      ...(debtor ? { DebtorAccount: debtorOf(debtor) } : {}),
    },
    Risk: wire.risk(risk),
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * Domestic variable recurring payments, one set of handlers for every version (its wire mapping supplies
 * schemas, checks and statuses): consents with control parameters (maximum individual amount, periodic
 * limits per period type and alignment), enforced on every payment under a per-consent lock so concurrent
 * payments cannot together pass a limit; the PSU or the TPP may revoke the consent.
 */
export function domesticVrps(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const version: ApiVersion = context.version ?? 'v3.1.11';
  const wire = VRP_WIRE[version];
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const psuGuard = guard(submissionChecks(['domestic-vrp'], false, 'vrp'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const consentSelf = (intent: Intent) => `${base}/domestic-vrp-consents/${intent.id}`;
  if (wire.migration) vrpConsentMigration(scope, context, version, wire, wire.migration);

  scope.post('/domestic-vrp-consents', { preHandler: [consentGuard, signed] }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(wire.consentRequest, request.body);
    await runConsentChecks(wire.consentChecks, body, { db });
    return stageConsent(
      context,
      request,
      reply,
      { kind: 'domestic-vrp', clientId, data: body.Data, risk: body.Risk, apiVersion: version },
      (intent) =>
        vrpConsentBody(
          wire,
          intent,
          wire.consentStatus(intent, clock.now()) ?? intent.status,
          undefined,
          undefined,
          consentSelf(intent),
        ),
    );
  });

  /** The caller's VRP consent, as this version knows it (a consent of a newer version is not found). */
  const owned = async (clientId: string, consentId: string) =>
    assertConsentVersion(await ownedConsent(db, clientId, consentId, 'domestic-vrp'), version, 'consent');

  scope.get<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const intent = await owned(guarded(request).token.clientId, request.params.ConsentId);
      return vrpConsentResource(db, wire, version, intent, clock.now(), consentSelf(intent));
    },
  );

  consentDeletionRoute(scope, '/domestic-vrp-consents/:ConsentId', consentGuard, owned, {
    db,
    clock,
    notifyRevoked: context.notifyRevoked,
  });

  scope.post<{ Params: { ConsentId: string } }>(
    '/domestic-vrp-consents/:ConsentId/funds-confirmation',
    { preHandler: [psuGuard, signed] },
    async (request, reply) => {
      const intent = guardedWithConsent(request).intent;
      await assertTokenConsentInPath(db, intent, request.params.ConsentId, 'domestic-vrp');
      // A funds check creates no payment-order: a consent of an older version may ask it (versions.ts).
      assertConsentVersion(intent, version, 'data');
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
    const state = guardedWithConsent(request);
    const intent = state.intent;
    // A payment-order is created only in the version of its consent (a migrated consent: the new one).
    assertSameVersion(intent, version);
    const body = parseBody(wire.paymentRequest, request.body);
    const data = body.Data;
    const control = intent.data.ControlParameters as ControlParameters;
    const currency = control.MaximumIndividualAmount.Currency;
    const amountMinor = amountToMinor(data.Instruction.InstructedAmount, 'Data.Instruction.InstructedAmount');
    const now = clock.now();
    runPaymentChecks(wire.paymentChecks, { intent, control, data, risk: body.Risk, amountMinor, now });
    const consentStart = control.ValidFromDateTime ? new Date(control.ValidFromDateTime) : intent.createdAt;

    const outcome = await idempotent(
      context,
      idempotencyScopeOf(request, state.token.clientId),
      async (tx) => {
        // One payment at a time per consent: the limits below see every payment committed before.
        await lockConsentPayments(tx, intent.id);
        // Read again under the lock: a migration since the guard cached the consent moved its version.
        const current = await getIntent(tx, intent.id);
        if (current) assertSameVersion(current, version);
        const periods = control.PeriodicLimits.map((limit) =>
          periodContaining(limit.PeriodType, limit.PeriodAlignment, consentStart, now),
        );
        const usedByPeriod = await paidUnderConsent(tx, intent.id, currency, periods);
        for (const [index, limit] of control.PeriodicLimits.entries()) {
          const period = periods[index]!;
          const used = usedByPeriod[index]!;
          const cap = toMinor(limit.Amount, currency);
          if (used + amountMinor > cap)
            throw failsControlParameters(
              `the payment would exceed the ${limit.PeriodType} limit of ${fromMinor(cap, currency)} ${currency} ` +
                `(${fromMinor(used, currency)} used since ${obDateTime(period.start)})`,
              `Data.ControlParameters.PeriodicLimits.${index}`,
            );
        }
        const creditor = creditorOf(data.Instruction.CreditorAccount);
        const { account, creditorAccount } = await debtorAccountWithCreditor(
          tx,
          intent,
          data.Initiation.DebtorAccount,
          'Data.Initiation.DebtorAccount',
          creditor,
        );
        await wire.payeeRules?.(tx, intent, account, data.Instruction.CreditorAccount, creditorAccount);
        await recordUse({ db: tx, clock }, intent.id, 'VRP payment').catch(asObError);
        const payment = await executePayment(
          tx,
          { clock },
          {
            kind: 'domestic-vrp',
            consentId: intent.id,
            clientId: intent.clientId,
            ...(intent.customerId ? { customerId: intent.customerId } : {}),
            debtorAccountId: account.id,
            debtorAccount: account,
            amountMinor,
            currency,
            creditor,
            creditorAccount,
            reference: wire.paymentReference(data.Instruction),
            request: data,
          },
        );
        return {
          status: 201,
          body: paymentBody(wire, payment, body.Risk, account, `${base}/domestic-vrps/${payment.id}`),
        };
      },
    );
    return sendOutcome(reply, outcome);
  });

  /** The caller's VRP payment, found only on a version its consent is usable on. */
  const ownedPayment = async (clientId: string, paymentId: string) => {
    const payment = RESOURCE_ID.test(paymentId) ? await getPayment(db, paymentId) : undefined;
    const intent =
      payment && payment.clientId === clientId
        ? await getIntentForClient(db, payment.consentId, clientId)
        : undefined;
    if (!payment || !intent || payment.kind !== 'domestic-vrp')
      throw resourceNotFound(`no domestic VRP ${paymentId} of yours`);
    assertConsentVersion(intent, version, 'consent');
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
        wire,
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
        Data: { PaymentStatus: [wire.paymentStatusDetail(payment, obDateTime(payment.statusUpdatedAt))] },
        Links: { Self: `${base}/domestic-vrps/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );
}
