import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import {
  createScheduledPayment,
  createStandingOrder,
  getAccount,
  getPayment,
  getScheduledPayment,
  getStandingOrder,
  listPaymentsForConsent,
  newPaymentId,
  recordInstruction,
  standingOrderEntries,
  type AccountRecord,
  type PaymentKind,
  type PaymentRecord,
  type StandingOrder,
} from '../../bank/index.ts';
import type { Intent, IntentKind } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardedWithConsent, guardProfiles } from '../guard/index.ts';
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
import {
  PIS_WIRE,
  type InternationalScheduledOn,
  type InternationalStandingOrderOn,
  type PisWireMapping,
} from './wire-mappings.ts';
import * as scheduledV4Wire from './v4.0/scheduled.ts';
import * as standingOrderV4Wire from './v4.0/standing-order.ts';
import { internationalScheduledStatus } from './v4.0/international.ts';

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
  /**
   * The resource's status as the version writes it (`Status`, and `StatusReason` where it has one), when
   * it last changed if not when the instruction was set up, and the payment-details entries.
   */
  report(db: Db, payment: PaymentRecord, now: Date): Promise<Report>;
  /** How the version writes the consent and the stored Initiation (PIS_WIRE's, unless the kind's own). */
  wire: Pick<PisWireMapping, 'consentStatus' | 'consentOn' | 'initiation'>;
  /**
   * What the payment will take from `account` — given for the kinds whose consents have a
   * `funds-confirmation` endpoint in the spec.
   */
  fundsNeeded?(initiation: I, account: AccountRecord): { amountMinor: bigint; currency: string };
}

interface Report {
  status: Record<string, unknown>;
  updatedAt?: Date;
  details: Record<string, unknown>[];
}

/** The payments the bank made of an instruction when due (`<id>:<n>`), in order. */
async function executionsOf(db: Db, payment: PaymentRecord): Promise<PaymentRecord[]> {
  const prefix = `${payment.id}:`;
  const number = (row: PaymentRecord) => Number(row.id.slice(prefix.length));
  return (await listPaymentsForConsent(db, payment.consentId))
    .filter((row) => row.id.startsWith(prefix))
    .sort((a, b) => number(a) - number(b));
}

/** Inactive before its end (count reached, final date passed) means a standing order was cancelled. */
function orderCancelled(order: StandingOrder | undefined, now: Date): boolean {
  return (
    order?.status === 'Inactive' &&
    !(order.numberOfPayments !== null && order.paymentsMade >= order.numberOfPayments) &&
    !(order.finalPaymentAt !== null && now.getTime() >= order.finalPaymentAt.getTime())
  );
}

/** A future-dated payment is paid in the debtor account's own currency; `path` names the amount's. */
function requireAccountCurrency(account: AccountRecord, currency: string, path: string): void {
  if (account.currency !== currency)
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Currency',
      `the debtor account holds ${account.currency}, not ${currency}`,
      path,
    );
}

async function setUpScheduled(
  tx: Tx,
  context: PaymentsContext,
  id: string,
  account: AccountRecord,
  terms: { amountMinor: bigint; currency: string; executeAt: Date; creditor: Creditor; reference: string },
): Promise<SetUp> {
  requireAccountCurrency(account, terms.currency, 'Data.Initiation.InstructedAmount.Currency');
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

async function setUpStandingOrder(
  tx: Tx,
  context: PaymentsContext,
  id: string,
  account: AccountRecord,
  creditor: Creditor,
  terms: StandingOrderTerms & { frequency: string; reference?: string | undefined },
): Promise<SetUp> {
  requireAccountCurrency(account, terms.currency, 'Data.Initiation.FirstPaymentAmount.Currency');
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
  wire: PIS_WIRE['v3.1.11'],
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
      status: { Status: status },
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
  wire: PIS_WIRE['v3.1.11'],
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
    return {
      status: { Status: orderCancelled(order, now) ? 'Cancelled' : 'InitiationCompleted' },
      details,
    };
  },
};

// ---- Payment Initiation v4.0 (src/openbanking/pis/v4.0/): the same instructions, v4.0's bodies and statuses.
const V4 = PIS_WIRE['v4.0'];

/** A payment the bank made when due, as a v4.0 payment-details entry (ACSC/ACCC, or RJCT and why). */
const executionDetail = (execution: PaymentRecord) =>
  V4.paymentStatusDetail(execution, obDateTime(execution.statusUpdatedAt));

const scheduledV4: FutureDated<scheduledV4Wire.ScheduledInitiationV4> = {
  intentKind: scheduled.intentKind,
  paymentKind: scheduled.paymentKind,
  consents: scheduled.consents,
  payments: scheduled.payments,
  idField: scheduled.idField,
  consentSchema: scheduledV4Wire.scheduledConsentRequestSchema,
  paymentSchema: scheduledV4Wire.scheduledPaymentRequestSchema,
  wire: V4,
  check: (initiation, now) => void scheduledV4Wire.scheduledTerms(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const terms = scheduledV4Wire.scheduledTerms(initiation, context.clock.now(), 'Data.Initiation');
    return setUpScheduled(tx, context, id, account, {
      ...terms,
      currency: initiation.InstructedAmount.Currency,
      creditor: initiation.CreditorAccount,
    });
  },
  async report(db, payment) {
    const bank = await getScheduledPayment(db, payment.id);
    const [execution] = await executionsOf(db, payment);
    const at = obDateTime(payment.statusUpdatedAt);
    const waiting =
      bank?.status === 'Cancelled'
        ? {
            PaymentTransactionId: payment.id,
            Status: 'RJCT',
            StatusUpdateDateTime: at,
            // ISO 20022 DS02: the order was cancelled by an authorised user.
            StatusDetail: {
              Status: 'RJCT',
              StatusReason: 'DS02',
              StatusReasonDescription: 'Cancelled before it was due',
            },
          }
        : { PaymentTransactionId: payment.id, Status: 'PDNG', StatusUpdateDateTime: at };
    return {
      status: scheduledV4Wire.scheduledPaymentStatus(bank?.status, execution),
      ...(execution ? { updatedAt: execution.statusUpdatedAt } : {}),
      details: execution ? [executionDetail(execution)] : [waiting],
    };
  },
};

const standingOrdersV4: FutureDated<standingOrderV4Wire.StandingOrderInitiationV4> = {
  intentKind: standingOrders.intentKind,
  paymentKind: standingOrders.paymentKind,
  consents: standingOrders.consents,
  payments: standingOrders.payments,
  idField: standingOrders.idField,
  consentSchema: standingOrderV4Wire.standingOrderConsentRequestSchema,
  paymentSchema: standingOrderV4Wire.standingOrderRequestSchema,
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
  check: (initiation, now) => void standingOrderV4Wire.standingOrderTerms(initiation, now, 'Data.Initiation'),
  setUp(tx, context, id, account, initiation) {
    const terms = standingOrderV4Wire.standingOrderTerms(initiation, context.clock.now(), 'Data.Initiation');
    return setUpStandingOrder(tx, context, id, account, initiation.CreditorAccount, terms);
  },
  async report(db, payment, now) {
    const order = await getStandingOrder(db, payment.id);
    const details = (await executionsOf(db, payment)).map(executionDetail);
    if (order?.status === 'Active')
      details.push({
        PaymentTransactionId: `${payment.id}:next`,
        Status: 'PDNG',
        StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      });
    // The order is set up (INCO) until cancelled (CANC); each payment's fate is in payment-details.
    return { status: { Status: orderCancelled(order, now) ? 'CANC' : 'INCO' }, details };
  },
};

// ---- International kinds: one definition; the version supplies schemas, schedule, reference, statuses.

/** The statuses each version reports of a scheduled payment and a standing order (above). */
const REPORTS: Record<
  ApiVersion,
  { scheduled: FutureDated<Initiation>['report']; standingOrder: FutureDated<Initiation>['report'] }
> = {
  'v3.1.11': { scheduled: scheduled.report, standingOrder: standingOrders.report },
  'v4.0': {
    async scheduled(db, payment, now) {
      const report = await scheduledV4.report(db, payment, now);
      return { ...report, status: internationalScheduledStatus(report.status) };
    },
    standingOrder: standingOrdersV4.report,
  },
};

/** International scheduled payments on `version`, its request schemas and statuses (wire-mappings.ts). */
function internationalScheduled(version: ApiVersion): FutureDated<InternationalScheduledOn> {
  const wire = PIS_WIRE[version];
  return {
    intentKind: 'international-scheduled-payment',
    paymentKind: 'international-scheduled',
    consents: '/international-scheduled-payment-consents',
    payments: '/international-scheduled-payments',
    idField: 'InternationalScheduledPaymentId',
    consentSchema: wire.international.scheduledConsentRequest,
    paymentSchema: wire.international.scheduledPaymentRequest,
    wire,
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
            wire.international.reference(initiation) ??
            initiation.EndToEndIdentification ??
            initiation.InstructionIdentification,
          external: payoutOf(terms),
        },
      );
      return { amountMinor: terms.debitMinor, currency: account.currency, terms };
    },
    report: REPORTS[version].scheduled,
  };
}

/** International standing orders on `version`, its request schemas, schedule and statuses. */
function internationalStandingOrders(version: ApiVersion): FutureDated<InternationalStandingOrderOn> {
  const wire = PIS_WIRE[version];
  return {
    intentKind: 'international-standing-order',
    paymentKind: 'international-standing-order',
    consents: '/international-standing-order-consents',
    payments: '/international-standing-orders',
    idField: 'InternationalStandingOrderId',
    consentSchema: wire.international.standingOrderConsentRequest,
    paymentSchema: wire.international.standingOrderRequest,
    wire,
    check: (initiation, now) => void wire.international.standingOrderSchedule(initiation, now),
    // The standing-order resources of the spec carry Charges but no ExchangeRateInformation.
    international: { showsRate: false },
    async setUp(tx, context, id, account, initiation) {
      const { frequency, reference, ...schedule } = wire.international.standingOrderSchedule(
        initiation,
        context.clock.now(),
      );
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
    report: REPORTS[version].standingOrder,
  };
}

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
  const consentBody = (
    intent: Intent,
    debtor: AccountRecord | undefined,
    quote: Record<string, unknown> | undefined,
  ) =>
    paymentConsentBody(
      type.wire.consentOn(intent),
      `${base}${type.consents}/${intent.id}`,
      debtor,
      quote,
      type.wire.consentStatus(intent),
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
    const report = await type.report(on, payment, clock.now());
    const debtor = await getAccount(on, payment.debtorAccountId);
    return {
      body: {
        Data: {
          [type.idField]: payment.id,
          ConsentId: payment.consentId,
          CreationDateTime: obDateTime(payment.createdAt),
          ...report.status,
          StatusUpdateDateTime: obDateTime(report.updatedAt ?? payment.statusUpdatedAt),
          ...actualTerms(payment),
          Initiation: type.wire.initiation(payment.request.Initiation),
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
      const state = guardedWithConsent(request);
      const intent = state.intent;
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
    'v3.1.11': mounting(internationalScheduled('v3.1.11')),
    'v4.0': mounting(internationalScheduled('v4.0')),
  },
  {
    'v3.1.11': mounting(internationalStandingOrders('v3.1.11')),
    'v4.0': mounting(internationalStandingOrders('v4.0')),
  },
];

/**
 * Scheduled payments and standing orders, domestic and international: the consent is consumed when the
 * instruction is set up in the bank (status InitiationCompleted; INCO, or ACTC for a scheduled payment,
 * on v4.0); the payment scheduler executes each payment when due, and payment-details reports what the
 * ledger made of it.
 */
export function futureDatedPayments(scope: FastifyInstance, context: PaymentsContext): void {
  for (const kind of KINDS) kind[context.version ?? 'v3.1.11']?.(scope, context);
}
