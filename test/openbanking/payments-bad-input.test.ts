import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { PIS_V3_1_11, specsRoot, validateComponent, VRP_V3_1_11 } from '../support/openapi.ts';
import { createHarness, domesticConsent, type Response } from './pis-support.ts';

/**
 * Every POST of the Payment Initiation spec, fed what a careless or hostile client sends: whatever the
 * body, the answer is a 4xx with a valid OBErrorResponse1 — never a 500 — and
 * nothing reaches the ledger. Submissions are sent with a PSU token for a consent of their own kind, so the
 * body is what gets refused, not the token (the file-payment submission and upload stop earlier: their
 * refusals of bad files are in pis-file.test.ts).
 */

const h = await createHarness();
afterEach(async () => h.assertLedgerSound());

function postPaths(specFile: string): string[] {
  const spec = JSON.parse(readFileSync(join(specsRoot, specFile), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(spec.paths)
    .filter(([, operations]) => 'post' in operations)
    .map(([path]) => path);
}
const posts = postPaths(PIS_V3_1_11);

const deep = `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`;
const GARBAGE: [string, string][] = [
  ['not JSON', 'Data: yes please'],
  ['truncated JSON', '{"Data":{"Initiation":'],
  ['an array', '[]'],
  ['null', 'null'],
  ['a string', '"pay me"'],
  ['a number', '12'],
  ['an empty object', '{}'],
  ['null members', '{"Data":null,"Risk":null}'],
  ['wrong member types', '{"Data":{"ConsentId":7,"Initiation":"x","Permission":[]},"Risk":[]}'],
  [
    'numbers where strings belong',
    '{"Data":{"Initiation":{"InstructedAmount":{"Amount":1e308,"Currency":5}}},"Risk":{}}',
  ],
  ['a prototype key', '{"__proto__":{"polluted":true},"Data":{"__proto__":{}},"Risk":{}}'],
  ['deep nesting', deep],
  [
    'a huge string',
    JSON.stringify({ Data: { Initiation: { InstructionIdentification: 'x'.repeat(200_000) } } }),
  ],
];

function assertObError(response: Response, what: string, specFile = PIS_V3_1_11): void {
  assert.ok(
    response.status >= 400 && response.status < 500,
    `${what}: ${response.status} ${response.text.slice(0, 300)}`,
  );
  const verdict = validateComponent(specFile, 'OBErrorResponse1', response.body);
  assert.ok(verdict.valid, `${what}: ${verdict.errors.join('; ')} in ${response.text.slice(0, 300)}`);
}

/** A PSU token for an authorised consent of the kind each submission endpoint takes. */
async function submissionTokens(): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const stage = async (consents: string, submissions: string, body: unknown) => {
    const staged = await h.post(consents, body);
    assert.equal(staged.status, 201, `${consents}: ${staged.text}`);
    tokens.set(submissions, await h.authorise(String(staged.body.Data?.ConsentId)));
  };
  const later = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
  const creditor = { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Hans' };
  const risk = { PaymentContextCode: 'PartyToParty' };
  const domestic = domesticConsent(h.bob);
  await stage('/domestic-payment-consents', '/domestic-payments', domestic);
  await stage('/domestic-scheduled-payment-consents', '/domestic-scheduled-payments', {
    Data: {
      Permission: 'Create',
      Initiation: { ...domestic.Data.Initiation, RequestedExecutionDateTime: later },
    },
    Risk: risk,
  });
  await stage('/domestic-standing-order-consents', '/domestic-standing-orders', {
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
  });
  const international = {
    InstructionIdentification: 'bad-input',
    EndToEndIdentification: 'E2E',
    CurrencyOfTransfer: 'EUR',
    InstructedAmount: { Amount: '1.00', Currency: 'EUR' },
    CreditorAccount: creditor,
  };
  await stage('/international-payment-consents', '/international-payments', {
    Data: { Initiation: international },
    Risk: risk,
  });
  await stage('/international-scheduled-payment-consents', '/international-scheduled-payments', {
    Data: { Permission: 'Create', Initiation: { ...international, RequestedExecutionDateTime: later } },
    Risk: risk,
  });
  await stage('/international-standing-order-consents', '/international-standing-orders', {
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
  });
  return tokens;
}

describe('bad input to every Payment Initiation POST', async () => {
  const tokens = await submissionTokens();

  it('covers every POST path the spec declares', () => {
    assert.ok(posts.length >= 15, `only ${posts.length} POST paths found`);
    assert.ok(posts.includes('/file-payment-consents/{ConsentId}/file'));
  });

  for (const path of posts) {
    it(`${path}: every malformed body is a 4xx with an OB error body, never a 500`, async () => {
      const url = path.replace('{ConsentId}', 'pfc-00000000-0000-4000-8000-000000000000');
      const token = tokens.get(path);
      for (const [what, raw] of GARBAGE) {
        const response = await h.post(url, undefined, { raw, ...(token ? { token } : {}) });
        assertObError(response, `${path} with ${what}`);
      }
      const plain = await h.post(url, undefined, {
        raw: '{"Data":{},"Risk":{}}',
        contentType: 'text/plain',
        ...(token ? { token } : {}),
      });
      assertObError(plain, `${path} as text/plain`);
    });
  }
});

describe('bad input to every domestic VRP POST', async () => {
  const staged = await h.post('/domestic-vrp-consents', {
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
      Initiation: { CreditorAccount: domesticConsent(h.bob).Data.Initiation.CreditorAccount },
    },
    Risk: { PaymentContextCode: 'TransferToSelf' },
  });
  assert.equal(staged.status, 201, staged.text);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId);

  for (const path of postPaths(VRP_V3_1_11)) {
    it(`${path}: every malformed body is a 4xx with an OB error body, never a 500`, async () => {
      const url = path.replace('{ConsentId}', consentId);
      const psu = path === '/domestic-vrp-consents' ? {} : { token };
      for (const [what, raw] of GARBAGE) {
        assertObError(await h.post(url, undefined, { raw, ...psu }), `${path} with ${what}`, VRP_V3_1_11);
      }
    });
  }
});
