import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import {
  createScheduledPayment,
  createStandingOrder,
  getAccount,
  getPayment,
  getScheduledPayment,
  getStandingOrder,
  newPaymentId,
  recordInstruction,
  standingOrderEntries,
  type AccountRecord,
  type PaymentKind,
  type PaymentRecord,
} from '../../bank/index.ts';
import type { Intent, IntentKind } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import type { Db, Tx } from '../http/idempotency.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import { consentFundsConfirmation } from './funds-confirmation.ts';
import {
  currentTerms,
  internationalCreditor,
  payoutOf,
  quoteFields,
  stagingCurrency,
  storedTerms,
  termsFor,
  termsOfStoredRequest,
  type Terms,
  type TermsInitiation,
} from './international-terms.ts';
import {
  assertSubmissionMatchesConsent,
  chosenDebtorAccount,
  clientIdOf,
  creditorOf,
  debtorOf,
  paymentConsentBody,
  type PaymentsContext,
  rejectionText,
  stageConsent,
  submissionChecks,
  submitOnce,
} from './common.ts';
import {
  checkScheduledInitiation,
  checkStandingOrderInitiation,
  checkStandingOrderSchedule,
  futureDate,
  parseBody,
  scheduledConsentRequestSchema,
  scheduledPaymentRequestSchema,
  standingOrderConsentRequestSchema,
  standingOrderRequestSchema,
  type ScheduledInitiation,
  type StandingOrderInitiation,
  type StandingOrderTerms,
} from './validation.ts';
import { ownedConsent, ownedPayment } from '../http/owned-resources.ts';
import { assertConsentVersion, assertPaymentVersion, assertSameVersion } from '../http/consent-version.ts';
import type { ApiVersion } from '../versions.ts';
import * as scheduledV4Wire from './v4.0/scheduled.ts';
import * as standingOrderV4Wire from './v4.0/standing-order.ts';
import type { InstructionReport } from './v4.0/instruction-status.ts';
import {
  PIS_WIRE,
  type PisWireMapping,
  type InternationalScheduledOn,
  type InternationalStandingOrderOn,
  type InternationalWire,
} from './wire-mappings.ts';

interface Creditor {
  SchemeName: string;
  Identification: string;
  Name: string;
  SecondaryIdentification?: string | undefined;
}

interface Initiation {
  DebtorAccount?: { SchemeName: string; Identification: string } | undefined;
  CreditorAccount: Creditor;
}

/** What setting an instruction up in the bank gives back: the amount of (the first) payment, and its terms. */
interface SetUp {
  amountMinor: bigint;
  currency: string;
  /** An international instruction's terms, kept with the payment resource (`request.Terms`). */
  terms?: Terms;
}

/** One kind of future-dated payment: how it is checked, set up in the bank, and reported. */
interface FutureDated<I extends Initiation> {
  intentKind: IntentKind;
  paymentKind: PaymentKind;
  consents: string;
  payments: string;
  idField: string;
  consentSchema: z.ZodType<{
    Data: { Initiation: I } & Record<string, unknown>;
    Risk: Record<string, unknown>;
  }>;
  paymentSchema: z.ZodType<{ Data: { ConsentId: string; Initiation: I }; Risk: Record<string, unknown> }>;
  /** Checks the Initiation (at staging and at submission). */
  check(initiation: I, now: Date): void;
  /** International kinds (terms by `termsFor`): whether their resources show the exchange rate. */
  international?: { showsRate: boolean };
  /** Sets the instruction up in the bank under `id`. */
  setUp(tx: Tx, context: PaymentsContext, id: string, account: AccountRecord, initiation: I): Promise<SetUp>;
  /** The OB status of the resource and the payment-details entries, in v3.1.11's words. */
  report(db: Db, payment: PaymentRecord, now: Date): Promise<InstructionReport>;
  /** The report as the version served writes it (v3.1.11: as reported). */
  statuses?(report: InstructionReport): {
    resource: Record<string, unknown>;
    details: Record<string, unknown>[];
  };
  /** How the version writes the consent and the stored Initiation, when not as PIS_WIRE's (domestic) do. */
  wire?: Pick<PisWireMapping, 'consentStatus' | 'consentOn' | 'initiation'>;
  /**
   * What the payment will take from `account` — given for the kinds whose consents have a
   * `funds-confirmation` endpoint in the spec.
   */
  fundsNeeded?(initiation: I, account: AccountRecord): { amountMinor: bigint; currency: string };
}

/** Schedules a domestic payment in the bank, from the debtor's account in its currency. */
async function setUpScheduled(
  tx: Tx,
  context: PaymentsContext,
  id: string,
  account: AccountRecord,
  terms: { amountMinor: bigint; currency: string; executeAt: Date; creditor: Creditor; reference: string },
): Promise<SetUp> {
  if (account.currency !== terms.currency)
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Currency',
      `the debtor account holds ${account.currency}, not ${terms.currency}`,
      'Data.Initiation.InstructedAmount.Currency',
    );
  await createScheduledPayment(
    tx,
    { clock: context.clock },
    {
      id,
      accountId: account.id,
      scheduledAt: terms.executeAt,
      amountMinor: terms.amountMinor,
      currency: terms.currency,
      creditor: creditorOf(terms.creditor),
      reference: terms.reference,
    },
  );
  return { amountMinor: terms.amountMinor, currency: terms.currency };
}

/** Sets a domestic standing order up in the bank, from the debtor's account in its currency. */
async function setUpStandingOrder(
  tx: Tx,
  context: PaymentsContext,
  id: string,
  account: AccountRecord,
  creditor: Creditor,
  terms: StandingOrderTerms & { frequency: string; reference?: string | undefined },
): Promise<SetUp> {
  if (account.currency !== terms.currency)
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Currency',
      `the debtor account holds ${account.currency}, not ${terms.currency}`,
      'Data.Initiation.FirstPaymentAmount.Currency',
    );
  const { reference, ...order } = terms;
  await createStandingOrder(
    tx,
    { clock: context.clock },
    {
      id,
      accountId: account.id,
      creditor: creditorOf(creditor),
      ...(reference ? { reference } : {}),
      ...order,
    },
  );
  return { amountMinor: terms.firstPaymentMinor, currency: terms.currency };
}

const SCHEDULED_STATUS: Record<string, string> = {
  Pending: 'Pending',
  Executed: 'AcceptedSettlementCompleted',
  Rejected: 'Rejected',
  Cancelled: 'Cancelled',
};

const scheduled: FutureDated<ScheduledInitiation> = {
  intentKind: 'domestic-scheduled-payment',
  paymentKind: 'domestic-scheduled',
  consents: '/domestic-scheduled-payment-consents',
  payments: '/domestic-scheduled-payments',
  idField: 'DomesticScheduledPaymentId',
  consentSchema: scheduledConsentRequestSchema,
  paymentSchema: scheduledPaymentRequestSchema,
  check: (initiation, now) => void checkScheduledInitiation(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const { amountMinor, executeAt } = checkScheduledInitiation(
      initiation,
      context.clock.now(),
      'Data.Initiation',
    );
    return setUpScheduled(tx, context, id, account, {
      amountMinor,
      currency: initiation.InstructedAmount.Currency,
      executeAt,
      creditor: initiation.CreditorAccount,
      reference:
        initiation.RemittanceInformation?.Reference ??
        initiation.EndToEndIdentification ??
        initiation.InstructionIdentification,
    });
  },
  async report(db, payment) {
    const bank = await getScheduledPayment(db, payment.id);
    // The bank keeps the execution (and why it was refused) beside the resource.
    const execution = bank?.status === 'Rejected' ? await getPayment(db, `${payment.id}:1`) : undefined;
    const status = bank?.status === 'Cancelled' ? 'Cancelled' : 'InitiationCompleted';
    return {
      status,
      execution,
      details: [
        {
          PaymentTransactionId: bank?.entryId ?? payment.id,
          Status: SCHEDULED_STATUS[bank?.status ?? 'Pending'] ?? 'Pending',
          StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
          ...(bank?.status === 'Rejected'
            ? {
                StatusDetail: {
                  Status: 'Rejected',
                  StatusReason: 'ProprietaryRejection',
                  StatusReasonDescription: execution
                    ? `When due: ${rejectionText(execution.reason)}`
                    : 'Rejected by the bank when due',
                },
              }
            : {}),
        },
      ],
    };
  },
};

const standingOrders: FutureDated<StandingOrderInitiation> = {
  intentKind: 'domestic-standing-order',
  paymentKind: 'domestic-standing-order',
  consents: '/domestic-standing-order-consents',
  payments: '/domestic-standing-orders',
  idField: 'DomesticStandingOrderId',
  consentSchema: standingOrderConsentRequestSchema,
  paymentSchema: standingOrderRequestSchema,
  check: (initiation, now) => void checkStandingOrderInitiation(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const terms = checkStandingOrderInitiation(initiation, context.clock.now(), 'Data.Initiation');
    return setUpStandingOrder(tx, context, id, account, initiation.CreditorAccount, {
      ...terms,
      frequency: initiation.Frequency,
      reference: initiation.Reference,
    });
  },
  async report(db, payment, now) {
    const order = await getStandingOrder(db, payment.id);
    const entries = await standingOrderEntries(db, payment.id);
    const details = entries.map((entry) => ({
      PaymentTransactionId: entry.id,
      Status:
        entry.status === 'Booked'
          ? 'AcceptedSettlementCompleted'
          : entry.status === 'Rejected'
            ? 'Rejected'
            : 'Pending',
      StatusUpdateDateTime: obDateTime(entry.bookedAt),
    }));
    if (order?.status === 'Active')
      details.push({
        PaymentTransactionId: `${payment.id}:next`,
        Status: 'Pending',
        StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      });
    // Inactive before its end (count reached, final date passed) means it was cancelled.
    const cancelled =
      order?.status === 'Inactive' &&
      !(order.numberOfPayments !== null && order.paymentsMade >= order.numberOfPayments) &&
      !(order.finalPaymentAt !== null && now.getTime() >= order.finalPaymentAt.getTime());
    return { status: cancelled ? 'Cancelled' : 'InitiationCompleted', details };
  },
};

/** International scheduled payments, with the schemas and statuses of the version `wire` maps. */
function internationalScheduled(wire: InternationalWire): FutureDated<InternationalScheduledOn> {
  return {
    intentKind: 'international-scheduled-payment',
    paymentKind: 'international-scheduled',
    consents: '/international-scheduled-payment-consents',
    payments: '/international-scheduled-payments',
    idField: 'InternationalScheduledPaymentId',
    consentSchema: wire.scheduledConsentRequest,
    paymentSchema: wire.scheduledPaymentRequest,
    check: (initiation, now) =>
      void futureDate(
        initiation.RequestedExecutionDateTime,
        now,
        'Data.Initiation.RequestedExecutionDateTime',
      ),
    international: { showsRate: true },
    fundsNeeded(initiation, account) {
      const terms = termsFor(initiation, account.currency);
      return { amountMinor: terms.debitMinor + terms.chargeMinor, currency: account.currency };
    },
    async setUp(tx, context, id, account, initiation) {
      const executeAt = futureDate(
        initiation.RequestedExecutionDateTime,
        context.clock.now(),
        'Data.Initiation.RequestedExecutionDateTime',
      );
      const terms = termsFor(initiation, account.currency);
      await createScheduledPayment(
        tx,
        { clock: context.clock },
        {
          id,
          accountId: account.id,
          scheduledAt: executeAt,
          amountMinor: terms.debitMinor,
          currency: account.currency,
          creditor: internationalCreditor(initiation),
          reference:
            wire.reference(initiation) ??
            initiation.EndToEndIdentification ??
            initiation.InstructionIdentification,
          external: payoutOf(terms),
        },
      );
      return { amountMinor: terms.debitMinor, currency: account.currency, terms };
    },
    report: scheduled.report,
    statuses: wire.scheduledStatus,
  };
}

/** International standing orders, with the schemas, schedule and statuses of the version `wire` maps. */
function internationalStandingOrders(wire: InternationalWire): FutureDated<InternationalStandingOrderOn> {
  const scheduleOf = (initiation: InternationalStandingOrderOn, now: Date) => {
    const { path, schedule, ...rest } = wire.standingOrderSchedule(initiation);
    return { ...rest, schedule: checkStandingOrderSchedule(schedule, now, path) };
  };
  return {
    intentKind: 'international-standing-order',
    paymentKind: 'international-standing-order',
    consents: '/international-standing-order-consents',
    payments: '/international-standing-orders',
    idField: 'InternationalStandingOrderId',
    consentSchema: wire.standingOrderConsentRequest,
    paymentSchema: wire.standingOrderRequest,
    check: (initiation, now) => void scheduleOf(initiation, now),
    // The standing-order resources of the spec carry Charges but no ExchangeRateInformation.
    international: { showsRate: false },
    async setUp(tx, context, id, account, initiation) {
      const { frequency, reference, schedule } = scheduleOf(initiation, context.clock.now());
      const terms = termsFor(initiation, account.currency);
      await createStandingOrder(
        tx,
        { clock: context.clock },
        {
          id,
          accountId: account.id,
          frequency,
          creditor: internationalCreditor(initiation),
          ...(reference ? { reference } : {}),
          currency: account.currency,
          firstPaymentMinor: terms.debitMinor,
          ...schedule,
          external: payoutOf(terms),
        },
      );
      return { amountMinor: terms.debitMinor, currency: account.currency, terms };
    },
    report: standingOrders.report,
    statuses: wire.standingOrderStatus,
  };
}

// ---- Payment Initiation v4.0: domestic scheduled payments and standing orders (v4.0/scheduled.ts,
// v4.0/standing-order.ts), on the v3.1.11 instructions and reports, with v4.0's bodies and statuses.
const V4 = PIS_WIRE['v4.0'];

const scheduledV4: FutureDated<scheduledV4Wire.ScheduledInitiationV4> = {
  intentKind: scheduled.intentKind,
  paymentKind: scheduled.paymentKind,
  consents: scheduled.consents,
  payments: scheduled.payments,
  idField: scheduled.idField,
  consentSchema: scheduledV4Wire.scheduledConsentRequestSchema,
  paymentSchema: scheduledV4Wire.scheduledPaymentRequestSchema,
  check: (initiation, now) => void scheduledV4Wire.scheduledTerms(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const terms = scheduledV4Wire.scheduledTerms(initiation, context.clock.now(), 'Data.Initiation');
    return setUpScheduled(tx, context, id, account, {
      ...terms,
      currency: initiation.InstructedAmount.Currency,
      creditor: initiation.CreditorAccount,
    });
  },
  report: scheduled.report,
  statuses: scheduledV4Wire.domesticScheduledOnV4,
};

const standingOrdersV4: FutureDated<standingOrderV4Wire.StandingOrderInitiationV4> = {
  intentKind: standingOrders.intentKind,
  paymentKind: standingOrders.paymentKind,
  consents: standingOrders.consents,
  payments: standingOrders.payments,
  idField: standingOrders.idField,
  consentSchema: standingOrderV4Wire.standingOrderConsentRequestSchema,
  paymentSchema: standingOrderV4Wire.standingOrderRequestSchema,
  check: (initiation, now) => void standingOrderV4Wire.standingOrderTerms(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const terms = standingOrderV4Wire.standingOrderTerms(initiation, context.clock.now(), 'Data.Initiation');
    return setUpStandingOrder(tx, context, id, account, initiation.CreditorAccount, terms);
  },
  report: standingOrders.report,
  statuses: V4.international.standingOrderStatus,
  // A v3.1.11 standing-order consent reads on v4.0 with its schedule in MandateRelatedInformation.
  wire: {
    consentStatus: V4.consentStatus,
    consentOn: (intent: Intent) =>
      V4.consentOn({
        ...intent,
        data: {
          ...intent.data,
          Initiation: standingOrderV4Wire.standingOrderInitiationOnV4(intent.data.Initiation),
        },
      }),
    initiation: (initiation) => V4.initiation(standingOrderV4Wire.standingOrderInitiationOnV4(initiation)),
  },
};

function mount<I extends Initiation>(
  scope: FastifyInstance,
  context: PaymentsContext,
  type: FutureDated<I>,
): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);
  const version = context.version ?? 'v3.1.11';
  const wire = type.wire ?? PIS_WIRE[version];
  const statuses =
    type.statuses ??
    ((report: InstructionReport) => ({
      resource: { Status: report.status },
      details: report.details,
    }));
  const consentBody = (intent: Intent, debtor: AccountRecord | undefined, quote: Record<string, unknown>) =>
    paymentConsentBody(
      wire.consentOn(intent),
      `${base}${type.consents}/${intent.id}`,
      debtor,
      quote,
      wire.consentStatus(intent),
    );

  scope.post(type.consents, { preHandler: [consentGuard, signed] }, async (request, reply) => {
    const clientId = guarded(request).token.clientId;
    const body = parseBody(type.consentSchema, request.body);
    type.check(body.Data.Initiation, clock.now());
    const currency = await stagingCurrency(context, body.Data.Initiation);
    const quote = type.international
      ? quoteFields(
          termsFor(body.Data.Initiation as unknown as TermsInitiation, currency),
          'Indicative',
          type.international.showsRate,
        )
      : {};
    return stageConsent(
      context,
      request,
      reply,
      // International kinds keep their quote with the intent, so the PSU is shown exactly what the TPP was quoted.
      {
        kind: type.intentKind,
        clientId,
        data: type.international ? { ...body.Data, Quote: quote } : body.Data,
        risk: body.Risk,
        apiVersion: version,
      },
      (intent) => consentBody(intent, undefined, quote),
    );
  });

  scope.get<{ Params: { ConsentId: string } }>(
    `${type.consents}/:ConsentId`,
    { preHandler: consentGuard },
    async (request) => {
      const clientId = guarded(request).token.clientId;
      const consentId = request.params.ConsentId;
      const intent = assertConsentVersion(
        await ownedConsent(db, clientId, consentId, type.intentKind),
        version,
        'consent',
      );
      const debtor = await chosenDebtorAccount(db, intent);
      const terms =
        type.international &&
        (await currentTerms(context, intent.data.Initiation as unknown as TermsInitiation, debtor));
      return consentBody(
        intent,
        debtor,
        terms ? quoteFields(terms, 'Indicative', type.international?.showsRate ?? false) : {},
      );
    },
  );

  const fundsNeeded = type.fundsNeeded;
  if (fundsNeeded)
    consentFundsConfirmation(scope, context, {
      consents: type.consents,
      kind: type.intentKind,
      needed: (intent, account) => fundsNeeded(intent.data.Initiation as unknown as I, account),
    });

  const actualTerms = (payment: PaymentRecord) => {
    const terms = type.international && termsOfStoredRequest(payment.request, payment.currency);
    return terms ? quoteFields(terms, 'Actual', type.international?.showsRate ?? false) : {};
  };
  const resourceBody = async (payment: PaymentRecord, on: Db = db) => {
    const report = statuses(await type.report(on, payment, clock.now()));
    const debtor = await getAccount(on, payment.debtorAccountId);
    return {
      body: {
        Data: {
          [type.idField]: payment.id,
          ConsentId: payment.consentId,
          CreationDateTime: obDateTime(payment.createdAt),
          ...report.resource,
          StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
          ...actualTerms(payment),
          Initiation: wire.initiation(payment.request.Initiation),
          ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
        },
        Links: { Self: `${base}${type.payments}/${payment.id}` },
        Meta: {},
      },
      details: report.details,
    };
  };

  scope.post(
    type.payments,
    { preHandler: [guard(submissionChecks([type.intentKind], true), context.guard), signed] },
    async (request, reply) => {
      const state = guarded(request);
      const intent = state.intent;
      if (!intent) throw new Error('submission reached without a consent');
      // PIS release management: a payment-order is created in the version its consent was staged in.
      assertSameVersion(intent, version);
      const body = parseBody(type.paymentSchema, request.body);
      assertSubmissionMatchesConsent(intent, body);
      return submitOnce(context, request, reply, intent, {
        namedDebtor: body.Data.Initiation.DebtorAccount,
        detail: `${type.intentKind} submitted`,
        async execute(tx, account) {
          const id = newPaymentId(type.paymentKind);
          const { amountMinor, currency, terms } = await type.setUp(
            tx,
            context,
            id,
            account,
            body.Data.Initiation,
          );
          const payment = await recordInstruction(
            tx,
            { clock },
            {
              id,
              kind: type.paymentKind,
              consentId: intent.id,
              clientId: intent.clientId,
              ...(intent.customerId ? { customerId: intent.customerId } : {}),
              debtorAccountId: account.id,
              amountMinor,
              currency,
              request: terms ? { ...body.Data, Terms: storedTerms(terms) } : body.Data,
            },
          );
          return (await resourceBody(payment, tx)).body;
        },
      });
    },
  );

  // A payment-order made on a newer version is not found on an older one (its consent's version says which).
  const owned = async (clientId: string, id: string) =>
    assertPaymentVersion(db, await ownedPayment(db, clientId, id, type.paymentKind), version);

  scope.get<{ Params: { Id: string } }>(
    `${type.payments}/:Id`,
    { preHandler: consentGuard },
    async (request) => {
      return (await resourceBody(await owned(guarded(request).token.clientId, request.params.Id))).body;
    },
  );

  scope.get<{ Params: { Id: string } }>(
    `${type.payments}/:Id/payment-details`,
    { preHandler: consentGuard },
    async (request) => {
      const payment = await owned(guarded(request).token.clientId, request.params.Id);
      return {
        Data: { PaymentStatus: (await resourceBody(payment)).details },
        Links: { Self: `${base}${type.payments}/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );
}

/** Mounts one kind's routes. */
type Mount = (scope: FastifyInstance, context: PaymentsContext) => void;
const mounting =
  <I extends Initiation>(type: FutureDated<I>): Mount =>
  (scope, context) =>
    mount(scope, context, type);

/**
 * Each kind of future-dated payment and the versions that serve it, each with its own definition (a
 * kind a version does not name is not served there).
 */
const KINDS: readonly Partial<Record<ApiVersion, Mount>>[] = [
  { 'v3.1.11': mounting(scheduled), 'v4.0': mounting(scheduledV4) },
  { 'v3.1.11': mounting(standingOrders), 'v4.0': mounting(standingOrdersV4) },
  {
    'v3.1.11': mounting(internationalScheduled(PIS_WIRE['v3.1.11'].international)),
    'v4.0': mounting(internationalScheduled(V4.international)),
  },
  {
    'v3.1.11': mounting(internationalStandingOrders(PIS_WIRE['v3.1.11'].international)),
    'v4.0': mounting(internationalStandingOrders(V4.international)),
  },
];

/**
 * Scheduled payments and standing orders, domestic and international: the consent is consumed when the
 * instruction is set up in the bank (InitiationCompleted; on v4.0 ACTC for a scheduled payment, INCO for a
 * standing order); the payment scheduler executes each payment when due, and payment-details reports what
 * the ledger made of it.
 */
export function futureDatedPayments(scope: FastifyInstance, context: PaymentsContext): void {
  for (const kind of KINDS) kind[context.version ?? 'v3.1.11']?.(scope, context);
}
