import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accountAccessConsents } from '../../src/openbanking/ais/account-access-consents.ts';
import { accountInformation } from '../../src/openbanking/ais/account-information.ts';
import { consentUsage } from '../../src/openbanking/ais/consent-usage.ts';
import { fundsConfirmation } from '../../src/openbanking/cof/funds-confirmation.ts';
import { paymentInitiation } from '../../src/openbanking/pis/index.ts';
import { ALL_ACCOUNT_PERMISSIONS } from '../../src/tpp/open-banking.ts';
import {
  AIS_V3_1_11,
  COF_V3_1_11,
  PIS_V3_1_11,
  specsRoot,
  validateComponent,
  validateResponse,
  VRP_V3_1_11,
} from '../support/openapi.ts';
import { createHarness, domesticConsent, type Response } from './pis-support.ts';

/**
 * The Read/Write status codes the specifications set, on every operation of the AIS, PIS, CoF and VRP
 * specification files, each answer's body validated against what the spec file declares for it.
 *
 * Read/Write Data API Profile, "400 (Bad Request) v/s 404 (Not Found)": a resource id that does not exist
 * is a 400 `UK.OBIE.Resource.NotFound`, never a 404 — and we answer the same for an id that exists but is
 * not the caller's (another TPP's resource, a resource of another kind, an account outside the PSU's
 * consent; see `resourceNotFound` in src/openbanking/http/owned-resources.ts). The table is every
 * operation of every path with an id, asked with the token its security scheme names, for every id in
 * its path in turn; each answer must be 400 with the code and valid against the operation's declared 400.
 *
 * The profile's HTTP status table: a token of the wrong grant is an "invalid token" (401) where the PSU
 * must have authorised, and a "security policy … violated" (403) where the TPP acts for itself.
 */
const FILES = [AIS_V3_1_11, PIS_V3_1_11, COF_V3_1_11, VRP_V3_1_11] as const;
type SpecFile = (typeof FILES)[number];

interface Operation {
  specFile: SpecFile;
  method: 'GET' | 'POST' | 'DELETE';
  template: string;
  /** The security scheme the spec gives it: the TPP's own token, or the PSU's. */
  security: 'TPP' | 'PSU';
}

function operationsOf(specFile: SpecFile): Operation[] {
  const spec = JSON.parse(readFileSync(join(specsRoot, specFile), 'utf8')) as {
    paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
  };
  return Object.entries(spec.paths).flatMap(([template, operations]) =>
    Object.entries(operations)
      .filter(([method]) => ['get', 'post', 'delete'].includes(method))
      .map(([method, operation]) => ({
        specFile,
        method: method.toUpperCase() as Operation['method'],
        template,
        security: Object.keys(operation.security?.[0] ?? {}).includes('PSUOAuth2Security')
          ? ('PSU' as const)
          : ('TPP' as const),
      })),
  );
}
const everyOperation = FILES.flatMap(operationsOf);
const operations = everyOperation.filter((operation) => operation.template.includes('{'));

// Every API under one prefix (their paths do not collide), each in its own scope as the platform has them.
const h = await createHarness({
  signed: false,
  mount: async (scope, context) => {
    const notifyRevoked = async (id: string) => context.forgetIntent(id);
    const base = 'https://bank.example/open-banking/v3.1';
    await scope.register(async (pis) => paymentInitiation(pis, context));
    await scope.register(async (cof) =>
      fundsConfirmation(cof, { ...context, notifyRevoked, publicBaseUrl: `${base}/cbpii` }),
    );
    await scope.register(async (ais) => {
      await accountAccessConsents(ais, { ...context, notifyRevoked, publicBaseUrl: `${base}/aisp` });
      await accountInformation(ais, {
        ...context,
        usage: consentUsage({ db: context.db, clock: context.clock }),
        publicBaseUrl: `${base}/aisp`,
      });
    });
  },
});

/** A client_credentials token for every API, of this TPP (`client-a`) and of another one. */
function clientToken(clientId: string): string {
  const view = h.tokens.get(h.ccToken);
  assert.ok(view);
  const token = `cc-${randomUUID()}`;
  h.tokens.set(token, {
    ...view,
    clientId,
    scopes: new Set(['openid', 'accounts', 'payments', 'fundsconfirmations']),
  });
  return token;
}
const ours = clientToken('client-a');
const theirs = clientToken('client-b');

async function call(
  method: Operation['method'],
  path: string,
  token: string,
  body: unknown = {},
): Promise<Response> {
  if (method === 'GET') return h.get(path, token);
  if (method === 'DELETE') return h.del(path, token);
  return h.post(path, body, { token });
}

async function staged(path: string, body: unknown): Promise<string> {
  const response = await h.post(path, body, { token: ours });
  assert.equal(response.status, 201, `${path}: ${response.text}`);
  return String(response.body.Data?.ConsentId);
}

/** The PSU's token for `consentId`, with the scope of its API. */
async function psuToken(consentId: string, scope: string): Promise<string> {
  const token = await h.authorise(consentId);
  const view = h.tokens.get(token);
  assert.ok(view);
  h.tokens.set(token, { ...view, scopes: new Set(['openid', scope]) });
  return token;
}

// Resources of this TPP, one of each kind the tests below need.
const later = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
const creditor = { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Hans' };
const international = {
  InstructionIdentification: 'not-found',
  EndToEndIdentification: 'E2E',
  CurrencyOfTransfer: 'EUR',
  InstructedAmount: { Amount: '1.00', Currency: 'EUR' },
  CreditorAccount: creditor,
};
const risk = { PaymentContextCode: 'PartyToParty' };
const domestic = domesticConsent(h.bob);
const consents = {
  'account-access-consents': await staged('/account-access-consents', {
    Data: { Permissions: ALL_ACCOUNT_PERMISSIONS },
    Risk: {},
  }),
  'domestic-payment-consents': await staged('/domestic-payment-consents', domestic),
  'domestic-scheduled-payment-consents': await staged('/domestic-scheduled-payment-consents', {
    Data: {
      Permission: 'Create',
      Initiation: { ...domestic.Data.Initiation, RequestedExecutionDateTime: later },
    },
    Risk: risk,
  }),
  'domestic-standing-order-consents': await staged('/domestic-standing-order-consents', {
    Data: {
      Permission: 'Create',
      Initiation: {
        Frequency: 'EvryDay',
        NumberOfPayments: '2',
        FirstPaymentDateTime: later,
        FirstPaymentAmount: { Amount: '1.00', Currency: 'GBP' },
        CreditorAccount: domestic.Data.Initiation.CreditorAccount,
      },
    },
    Risk: risk,
  }),
  'international-payment-consents': await staged('/international-payment-consents', {
    Data: { Initiation: international },
    Risk: risk,
  }),
  'international-scheduled-payment-consents': await staged('/international-scheduled-payment-consents', {
    Data: { Permission: 'Create', Initiation: { ...international, RequestedExecutionDateTime: later } },
    Risk: risk,
  }),
  'international-standing-order-consents': await staged('/international-standing-order-consents', {
    Data: {
      Permission: 'Create',
      Initiation: {
        Frequency: 'EvryDay',
        NumberOfPayments: '2',
        FirstPaymentDateTime: later,
        CurrencyOfTransfer: 'EUR',
        InstructedAmount: { Amount: '1.00', Currency: 'EUR' },
        CreditorAccount: creditor,
      },
    },
    Risk: risk,
  }),
  'file-payment-consents': await staged('/file-payment-consents', {
    Data: {
      Initiation: {
        FileType: 'UK.OBIE.PaymentInitiation.3.1',
        FileHash: createHash('sha256').update('{"Data":{"DomesticPayments":[]}}').digest('base64'),
        NumberOfTransactions: '1',
        ControlSum: 1,
      },
    },
  }),
  'funds-confirmation-consents': await staged('/funds-confirmation-consents', {
    Data: {
      ExpirationDateTime: '2026-12-31T00:00:00+00:00',
      DebtorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${h.alice.sortCode}${h.alice.accountNumber}`,
        Name: h.alice.name,
      },
    },
  }),
  'domestic-vrp-consents': await staged('/domestic-vrp-consents', {
    Data: {
      ControlParameters: {
        ValidToDateTime: '2027-12-31T00:00:00+00:00',
        MaximumIndividualAmount: { Amount: '50.00', Currency: 'GBP' },
        PeriodicLimits: [
          { PeriodType: 'Month', PeriodAlignment: 'Calendar', Amount: '100.00', Currency: 'GBP' },
        ],
        VRPType: ['UK.OBIE.VRPType.Sweeping'],
        PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
        PSUInteractionTypes: ['OffSession'],
      },
      Initiation: { CreditorAccount: domestic.Data.Initiation.CreditorAccount },
    },
    Risk: { PaymentContextCode: 'TransferToSelf' },
  }),
};

// The PSU's tokens: the account-access consent covers Alice's first account only.
const aisToken = await psuToken(consents['account-access-consents'], 'accounts');
const paymentTokens = new Map<string, string>();
for (const kind of [
  'domestic-payment-consents',
  'international-payment-consents',
  'international-scheduled-payment-consents',
  'domestic-vrp-consents',
] as const) {
  paymentTokens.set(kind, await psuToken(consents[kind], 'payments'));
}
// A domestic payment made with a consent of its own: a payment resource id of this TPP.
const payment = domesticConsent(h.bob, '1.00');
const paymentConsent = await staged('/domestic-payment-consents', payment);
const paid = await h.post(
  '/domestic-payments',
  { Data: { ConsentId: paymentConsent, Initiation: payment.Data.Initiation }, Risk: payment.Risk },
  { token: await psuToken(paymentConsent, 'payments') },
);
assert.equal(paid.status, 201, paid.text);
const paymentId = String(paid.body.Data?.DomesticPaymentId);

/**
 * Whether an operation acts for the PSU. The VRP specification file gives every operation the TPP's
 * (client credentials) scheme; a VRP payment and its funds confirmation act under the PSU's authorised
 * consent, as PIS payments and funds confirmations do, so we take the PSU's token there.
 */
const VRP_PSU = new Set([
  'POST /domestic-vrps',
  'POST /domestic-vrp-consents/{ConsentId}/funds-confirmation',
]);
function needsPsu(operation: Operation): boolean {
  return (
    operation.security === 'PSU' ||
    (operation.specFile === VRP_V3_1_11 && VRP_PSU.has(`${operation.method} ${operation.template}`))
  );
}

/** The token an operation is asked with: the TPP's own, or the PSU's for a consent of its API. */
function tokenFor(operation: Operation): string {
  if (!needsPsu(operation)) return ours;
  if (operation.specFile === AIS_V3_1_11) return aisToken;
  const token = paymentTokens.get(operation.template.split('/')[1] ?? '');
  assert.ok(token, `no PSU token for ${operation.method} ${operation.template}`);
  return token;
}

/** Known ids that fill the path parameters not under test. */
const known: Record<string, string> = { AccountId: h.alice.id };

function expectNotFound(operation: Operation, url: string, response: Response): void {
  const what = `${operation.method} ${url}`;
  assert.equal(response.status, 400, `${what}: ${response.status} ${response.text.slice(0, 300)}`);
  assert.equal(
    response.body.Errors?.[0]?.ErrorCode,
    'UK.OBIE.Resource.NotFound',
    `${what}: ${response.text}`,
  );
  const verdict = validateResponse(
    operation.specFile,
    operation.template,
    operation.method,
    400,
    response.body,
  );
  assert.ok(verdict.valid, `${what}: ${verdict.errors.join('; ')}`);
}

describe('400 UK.OBIE.Resource.NotFound on every specified path with an id', () => {
  it('reads every path with an id of the AIS, PIS, CoF and VRP specification files', () => {
    const families = (file: SpecFile) => operations.filter((o) => o.specFile === file).length;
    assert.ok(families(AIS_V3_1_11) >= 17, 'AIS');
    assert.ok(families(PIS_V3_1_11) >= 27, 'PIS');
    assert.ok(families(COF_V3_1_11) >= 2, 'CoF');
    assert.ok(families(VRP_V3_1_11) >= 5, 'VRP');
  });

  for (const operation of operations) {
    const parameters = [...operation.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
    it(`${operation.method} ${operation.template}: an id that does not exist`, async () => {
      for (const unknown of parameters) {
        const url = operation.template.replace(/\{(\w+)\}/g, (_, name: string) =>
          name === unknown ? `nothing-${randomUUID()}` : (known[name] ?? `nothing-${randomUUID()}`),
        );
        expectNotFound(operation, url, await call(operation.method, url, tokenFor(operation)));
      }
    });
  }
});

describe('a token of the wrong grant type, on every operation', () => {
  it('covers every operation of the four specification files', () => {
    assert.ok(everyOperation.length >= operations.length + 20, `only ${everyOperation.length}`);
  });

  for (const operation of everyOperation) {
    const psu = needsPsu(operation);
    const [status, wrong] = psu ? [401, ours] : [403, aisToken];
    const title = psu ? 'a client_credentials token is 401' : "a PSU's token is 403";
    it(`${operation.method} ${operation.template}: ${title}`, async () => {
      const url = operation.template.replace(
        /\{(\w+)\}/g,
        (_, name: string) => known[name] ?? `x-${randomUUID()}`,
      );
      const response = await call(operation.method, url, wrong);
      const what = `${operation.method} ${url}`;
      assert.equal(response.status, status, `${what}: ${response.text.slice(0, 300)}`);
      assert.equal(response.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Header.Invalid', response.text);
      assert.equal(response.body.Errors?.[0]?.Path, 'Authorization', response.text);
      // The spec files declare 401 without a body; we still answer with OBErrorResponse1.
      const verdict =
        status === 401
          ? validateComponent(operation.specFile, 'OBErrorResponse1', response.body)
          : validateResponse(operation.specFile, operation.template, operation.method, 403, response.body);
      assert.ok(verdict.valid, `${what}: ${verdict.errors.join('; ')}`);
    });
  }
});

describe('400 UK.OBIE.Resource.NotFound for what exists but is not the caller’s', () => {
  const consentPaths = operations.filter(
    (o) => o.security === 'TPP' && /^\/[\w-]+-consents\/\{ConsentId\}$/.test(o.template),
  );
  for (const operation of consentPaths) {
    const resource = operation.template.split('/')[1] as keyof typeof consents;
    it(`${operation.method} ${operation.template}: another TPP's consent, and a consent of another kind`, async () => {
      const mine = consents[resource];
      assert.ok(mine, `no consent staged for ${resource}`);
      const url = `/${resource}/${mine}`;
      expectNotFound(operation, url, await call(operation.method, url, theirs));
      const otherKind =
        resource === 'domestic-payment-consents'
          ? consents['domestic-vrp-consents']
          : consents['domestic-payment-consents'];
      const crossed = `/${resource}/${otherKind}`;
      expectNotFound(operation, crossed, await call(operation.method, crossed, ours));
    });
  }

  const paymentPaths = operations.filter(
    (o) => o.method === 'GET' && /^\/[\w-]+\/\{\w+Id\}(\/payment-details)?$/.test(o.template),
  );
  for (const operation of paymentPaths.filter(
    (o) => !o.template.startsWith('/accounts/') && !o.template.includes('-consents/'),
  )) {
    it(`GET ${operation.template}: another TPP's payment, or a payment of another kind`, async () => {
      const url = operation.template.replace(/\{\w+\}/, paymentId);
      if (operation.template.startsWith('/domestic-payments/')) {
        expectNotFound(operation, url, await call('GET', url, theirs));
        assert.equal((await call('GET', url, ours)).status, 200, 'the owner reads it');
      } else {
        expectNotFound(operation, url, await call('GET', url, ours));
      }
    });
  }

  it('an account the PSU did not select, or of another customer, on every /accounts/{AccountId} path', async () => {
    const accountPaths = operations.filter((o) => o.template.startsWith('/accounts/{AccountId}'));
    assert.ok(accountPaths.length >= 15);
    for (const operation of accountPaths) {
      for (const account of [h.aliceOther.id, h.mallory.id]) {
        const url = operation.template
          .replace('{AccountId}', account)
          .replace('{StatementId}', `nothing-${randomUUID()}`);
        expectNotFound(operation, url, await call('GET', url, aisToken));
      }
    }
    const mine = await call('GET', `/accounts/${h.alice.id}/balances`, aisToken);
    assert.equal(mine.status, 200, mine.text);
  });

  it('a deleted VRP consent answers 400 to a GET, as the profile says of deleted consents', async () => {
    const id = await staged('/domestic-vrp-consents', {
      Data: {
        ControlParameters: {
          ValidToDateTime: '2027-12-31T00:00:00+00:00',
          MaximumIndividualAmount: { Amount: '5.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '5.00', Currency: 'GBP' },
          ],
          VRPType: ['UK.OBIE.VRPType.Sweeping'],
          PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
          PSUInteractionTypes: ['OffSession'],
        },
        Initiation: { CreditorAccount: domestic.Data.Initiation.CreditorAccount },
      },
      Risk: { PaymentContextCode: 'TransferToSelf' },
    });
    assert.equal((await h.del(`/domestic-vrp-consents/${id}`, ours)).status, 204);
    const operation = operations.find(
      (o) => o.method === 'GET' && o.template === '/domestic-vrp-consents/{ConsentId}',
    );
    assert.ok(operation);
    const url = `/domestic-vrp-consents/${id}`;
    expectNotFound(operation, url, await call('GET', url, ours));
  });

  it('a PSU token for one consent, with another of the TPP’s consents in the path, is a ConsentMismatch', async () => {
    const token = paymentTokens.get('domestic-payment-consents');
    assert.ok(token);
    const other = await staged('/domestic-payment-consents', domesticConsent(h.bob, '2.00'));
    const response = await h.get(`/domestic-payment-consents/${other}/funds-confirmation`, token);
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.ConsentMismatch');
    const verdict = validateResponse(
      PIS_V3_1_11,
      '/domestic-payment-consents/{ConsentId}/funds-confirmation',
      'get',
      400,
      response.body,
    );
    assert.ok(verdict.valid, verdict.errors.join('; '));
  });
});
