import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { executePayment, getCustomer, runDuePayments, type AccountRecord } from '../../src/bank/index.ts';
import { bankCustomerDirectory } from '../../src/consent/bank-directory.ts';
import {
  authorise,
  consentApp,
  consentDashboard,
  createIntent,
  sandboxCredentialsFor,
  seedCredentials,
  totpCode,
} from '../../src/consent/index.ts';
import { CLIENT, createHarness, type Harness, type Response } from '../openbanking/pis-support.ts';
import { INTERACTION_COOKIE, RecordingBridge } from './bridge.ts';

/**
 * The bank as a customer finds it after payments of every kind went through the real PIS API (and VRP
 * payments through the bank core): one rejected £5,000 domestic payment, one paid, an international
 * scheduled payment rejected when due, a standing order with a payment made, one rejected and one due,
 * a file with a rejected transaction, VRP payments paid and rejected; and international consents staged
 * and waiting for the customer, with the quote the TPP was given. The consent app and the dashboard are
 * mounted on one fastify app over the same store, as the server mounts them.
 */
export interface PaymentTruthWorld {
  h: Harness;
  app: FastifyInstance;
  bridge: RecordingBridge;
  username: string;
  tppName: string;
  ids: {
    rejected: string;
    paid: string;
    scheduledRejected: string;
    standingOrder: string;
    file: string;
    vrp: string;
    /** Staged, awaiting the customer. */
    international: string;
    internationalScheduled: string;
    internationalStandingOrder: string;
  };
  /** What the TPP was quoted when it staged each waiting international consent (its response's Data). */
  quotes: Record<'international' | 'internationalScheduled' | 'internationalStandingOrder', QuotedData>;
}

export interface QuotedData {
  Charges?: { ChargeBearer: string; Amount: { Amount: string; Currency: string } }[];
  ExchangeRateInformation?: { UnitCurrency: string; ExchangeRate: number; RateType: string };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export async function paymentTruthWorld(): Promise<PaymentTruthWorld> {
  const h = await createHarness();
  const { db } = h.store;
  const clock = h.clock;
  const at = (offsetMs: number) =>
    new Date(clock.now().getTime() + offsetMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const scan = (account: AccountRecord) => ({
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${account.sortCode}${account.accountNumber}`,
    Name: account.name,
  });
  const risk = { PaymentContextCode: 'PartyToParty' };
  const abroad = {
    CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'DEUTDEFF' },
    CreditorAccount: {
      SchemeName: 'UK.OBIE.IBAN',
      Identification: 'DE89370400440532013000',
      Name: 'Hans Muster',
    },
  };

  async function stage(path: string, body: unknown): Promise<Response> {
    const staged = await h.post(path, body);
    assert.equal(staged.status, 201, staged.text);
    return staged;
  }
  /** Stages, authorises from `accountId` and submits; returns the consent id and the payment resource. */
  async function pay(
    consents: string,
    payments: string,
    body: { Data: { Initiation: unknown } & Record<string, unknown>; Risk?: unknown },
    accountId?: string,
  ): Promise<{ consentId: string; made: Response }> {
    const consentId = String((await stage(consents, body)).body.Data?.ConsentId);
    const token = await h.authorise(consentId, accountId);
    const made = await h.post(
      payments,
      {
        Data: { ConsentId: consentId, Initiation: body.Data.Initiation },
        ...(body.Risk ? { Risk: body.Risk } : {}),
      },
      { token },
    );
    assert.equal(made.status, 201, made.text);
    return { consentId, made };
  }
  const domestic = (amount: string) => ({
    Data: {
      Initiation: {
        InstructionIdentification: `dp-${randomUUID().slice(0, 8)}`,
        EndToEndIdentification: 'E2E-DP',
        InstructedAmount: { Amount: amount, Currency: 'GBP' },
        CreditorAccount: scan(h.bob),
        RemittanceInformation: { Reference: 'Car deposit' },
      },
    },
    Risk: risk,
  });

  // Alice holds £1,000.00: £5,000 is refused for insufficient funds, £10 is paid.
  const rejected = await pay('/domestic-payment-consents', '/domestic-payments', domestic('5000.00'));
  assert.equal(rejected.made.body.Data?.Status, 'Rejected');
  clock.advance(60_000);
  const paid = await pay('/domestic-payment-consents', '/domestic-payments', domestic('10.00'));

  // A file of two: £20 paid, £2,000 rejected.
  const items = [
    { ...domestic('20.00').Data.Initiation, InstructionIdentification: 'file-1' },
    { ...domestic('2000.00').Data.Initiation, InstructionIdentification: 'file-2' },
  ];
  const file = JSON.stringify({ Data: { DomesticPayments: items } });
  const fileInitiation = {
    FileType: 'UK.OBIE.PaymentInitiation.3.1',
    FileHash: createHash('sha256').update(file).digest('base64'),
    FileReference: 'SUPPLIERS',
    NumberOfTransactions: '2',
    ControlSum: 2020,
  };
  const fileConsentId = String(
    (await stage('/file-payment-consents', { Data: { Initiation: fileInitiation } })).body.Data?.ConsentId,
  );
  const uploaded = await h.post(`/file-payment-consents/${fileConsentId}/file`, undefined, { raw: file });
  assert.equal(uploaded.status, 200, uploaded.text);
  const fileToken = await h.authorise(fileConsentId);
  const filePaid = await h.post(
    '/file-payments',
    { Data: { ConsentId: fileConsentId, Initiation: fileInitiation } },
    { token: fileToken },
  );
  assert.equal(filePaid.status, 201, filePaid.text);

  // An international scheduled payment of EUR 5,000 tomorrow: more than the account holds when due.
  const scheduledRejected = await pay(
    '/international-scheduled-payment-consents',
    '/international-scheduled-payments',
    {
      Data: {
        Permission: 'Create',
        Initiation: {
          InstructionIdentification: 'isp-1',
          EndToEndIdentification: 'E2E-ISP',
          RequestedExecutionDateTime: at(DAY),
          CurrencyOfTransfer: 'EUR',
          InstructedAmount: { Amount: '5000.00', Currency: 'EUR' },
          ...abroad,
        },
      },
      Risk: risk,
    },
  );

  // A daily standing order of £300 from the account with a £500 overdraft and nothing in it: the first
  // payment is made, the second refused, the third due.
  const standingOrder = await pay(
    '/domestic-standing-order-consents',
    '/domestic-standing-orders',
    {
      Data: {
        Permission: 'Create',
        Initiation: {
          Frequency: 'EvryDay',
          Reference: 'Rent share',
          NumberOfPayments: '3',
          FirstPaymentDateTime: at(HOUR),
          FirstPaymentAmount: { Amount: '300.00', Currency: 'GBP' },
          CreditorAccount: scan(h.bob),
        },
      },
      Risk: risk,
    },
    h.aliceOther.id,
  );

  // VRP payments under a sweeping consent (through the bank core, as the VRP API makes them).
  const vrp = await createIntent(
    { db, clock },
    {
      kind: 'domestic-vrp',
      clientId: CLIENT,
      data: {
        ControlParameters: {
          VRPType: ['UK.OBIE.VRPType.Sweeping'],
          PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
          MaximumIndividualAmount: { Amount: '9000.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Month', PeriodAlignment: 'Calendar', Amount: '9000.00', Currency: 'GBP' },
          ],
        },
        Initiation: { CreditorAccount: scan(h.bob) },
      },
      risk: {},
    },
  );
  await authorise({ db, clock }, vrp.id, { customerId: h.customerId, accountIds: [h.alice.id] });
  for (const amountMinor of [1_500n, 800_000n]) {
    await executePayment(
      db,
      { clock },
      {
        kind: 'domestic-vrp',
        consentId: vrp.id,
        clientId: CLIENT,
        customerId: h.customerId,
        debtorAccountId: h.alice.id,
        amountMinor,
        currency: 'GBP',
        creditor: {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: `${h.bob.sortCode}${h.bob.accountNumber}`,
        },
        reference: 'Sweep',
        request: {},
      },
    );
    clock.advance(60_000);
  }

  // Time passes: the standing order's first payment (paid), the scheduled payment and the second standing
  // order payment (both refused).
  clock.advance(2 * HOUR);
  await runDuePayments(db, { clock });
  clock.advance(DAY);
  await runDuePayments(db, { clock });

  // International consents staged now, waiting for the customer: what was the TPP quoted?
  const international = await stage('/international-payment-consents', {
    Data: {
      Initiation: {
        InstructionIdentification: 'ip-1',
        EndToEndIdentification: 'E2E-IP',
        CurrencyOfTransfer: 'EUR',
        InstructedAmount: { Amount: '100.00', Currency: 'EUR' },
        ...abroad,
        RemittanceInformation: { Reference: 'Invoice 7' },
      },
    },
    Risk: risk,
  });
  const internationalScheduled = await stage('/international-scheduled-payment-consents', {
    Data: {
      Permission: 'Create',
      Initiation: {
        InstructionIdentification: 'isp-2',
        EndToEndIdentification: 'E2E-ISP2',
        RequestedExecutionDateTime: at(3 * DAY),
        CurrencyOfTransfer: 'USD',
        InstructedAmount: { Amount: '250.00', Currency: 'USD' },
        ChargeBearer: 'Shared',
        ...abroad,
      },
    },
    Risk: risk,
  });
  const internationalStandingOrder = await stage('/international-standing-order-consents', {
    Data: {
      Permission: 'Create',
      Initiation: {
        Frequency: 'IntrvlMnthDay:01:15',
        Reference: 'Tuition',
        NumberOfPayments: '6',
        FirstPaymentDateTime: at(5 * DAY),
        CurrencyOfTransfer: 'EUR',
        InstructedAmount: { Amount: '400.00', Currency: 'EUR' },
        ...abroad,
      },
    },
    Risk: risk,
  });

  const customer = await getCustomer(db, h.customerId);
  assert.ok(customer);
  await seedCredentials({ db, clock }, [{ id: customer.id, username: customer.username }]);
  const tppName = 'Acme Payments';
  const bridge = new RecordingBridge();
  const app = Fastify();
  const customers = bankCustomerDirectory(db);
  await app.register(consentDashboard, {
    db,
    clock,
    customers,
    notifyRevoked: async () => undefined,
    tpps: { describe: async (clientId) => (clientId === CLIENT ? { name: tppName } : undefined) },
  });
  await app.register(consentApp, {
    db,
    clock,
    bridge,
    customers,
    headlessApproval: false,
    credentialPolicy: { maxFailures: 5, lockoutSeconds: 900 },
  });
  await app.ready();
  const quoteOf = (response: Response) => response.body.Data as QuotedData;
  return {
    h,
    app,
    bridge,
    username: customer.username,
    tppName,
    ids: {
      rejected: rejected.consentId,
      paid: paid.consentId,
      scheduledRejected: scheduledRejected.consentId,
      standingOrder: standingOrder.consentId,
      file: fileConsentId,
      vrp: vrp.id,
      international: String(international.body.Data?.ConsentId),
      internationalScheduled: String(internationalScheduled.body.Data?.ConsentId),
      internationalStandingOrder: String(internationalStandingOrder.body.Data?.ConsentId),
    },
    quotes: {
      international: quoteOf(international),
      internationalScheduled: quoteOf(internationalScheduled),
      internationalStandingOrder: quoteOf(internationalStandingOrder),
    },
  };
}

/** Starts an interaction for the intent at the test bridge; the browser names it with this cookie. */
export function startInteraction(w: PaymentTruthWorld, intentId: string): { uid: string; cookie: string } {
  const uid = `uid${randomUUID().replace(/-/g, '')}`;
  w.bridge.start({
    uid,
    clientId: CLIENT,
    clientName: w.tppName,
    intentId,
    scopes: ['openid', 'payments'],
    acrValues: ['urn:openbanking:psd2:sca'],
  });
  return { uid, cookie: `${INTERACTION_COOKIE}=${uid}` };
}

/** A cookie-keeping client of the app (fastify inject), posting forms with the page's CSRF token. */
export class PageClient {
  readonly cookies = new Map<string, string>();
  csrf = '';
  readonly w: PaymentTruthWorld;
  constructor(w: PaymentTruthWorld) {
    this.w = w;
  }
  #keep(response: LightMyRequestResponse): LightMyRequestResponse {
    const header = response.headers['set-cookie'];
    for (const line of Array.isArray(header) ? header : header ? [header] : []) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      if (/Max-Age=0/.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const csrf = /name="csrf" value="([^"]+)"/.exec(response.body);
    if (csrf) this.csrf = csrf[1]!;
    return response;
  }
  get #cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(url: string): Promise<LightMyRequestResponse> {
    return this.#keep(await this.w.app.inject({ method: 'GET', url, headers: { cookie: this.#cookie } }));
  }
  async post(url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
    return this.#keep(
      await this.w.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.#cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ csrf: this.csrf, ...fields }).toString(),
      }),
    );
  }
  /** Password then TOTP at `base` (`/dashboard` or `/interaction/<uid>`). */
  async logIn(base: string): Promise<void> {
    const { username } = this.w;
    const credentials = sandboxCredentialsFor(username);
    await this.get(base);
    const login = await this.post(`${base}/login`, { username, password: credentials.password });
    assert.equal(login.statusCode, 303, login.body);
    await this.get(base);
    this.w.h.clock.advance(30_000); // a fresh TOTP step for every login
    const totp = await this.post(`${base}/totp`, {
      code: totpCode(credentials.totpSecret, this.w.h.clock.now()),
    });
    assert.equal(totp.statusCode, 303, totp.body);
  }
}

/** The page's text, tags dropped, white space folded. */
export const textOf = (html: string): string => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
