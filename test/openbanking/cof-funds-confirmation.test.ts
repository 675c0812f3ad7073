import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { getIntent } from '../../src/consent/index.ts';
import { fundsConfirmation } from '../../src/openbanking/cof/funds-confirmation.ts';
import { API_BASES } from '../../src/openbanking/http/wire.ts';
import { assertValidResponse, COF_V3_1_11 } from '../support/openapi.ts';
import { createHarness, type Response } from './pis-support.ts';

const revoked: string[] = [];
const h = await createHarness({
  prefix: API_BASES.cbpii,
  signed: false,
  mount: (scope, context) =>
    fundsConfirmation(scope, {
      db: context.db,
      clock: context.clock,
      guard: context.guard,
      notifyRevoked: async (id) => {
        revoked.push(id);
        context.forgetIntent(id);
      },
      publicBaseUrl: `https://bank.example${API_BASES.cbpii}`,
    }),
});
afterEach(async () => h.assertLedgerSound());

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(COF_V3_1_11, path, method, response.status, response.body);
}

const consentFor = (account: { sortCode: string | null; accountNumber: string | null; name: string }) => ({
  Data: {
    ExpirationDateTime: '2026-12-31T00:00:00+00:00',
    DebtorAccount: {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: `${account.sortCode}${account.accountNumber}`,
      Name: account.name,
    },
  },
});

const check = (consentId: string, amount: string, currency = 'GBP') => ({
  Data: {
    ConsentId: consentId,
    Reference: 'Purchase01',
    InstructedAmount: { Amount: amount, Currency: currency },
  },
});

describe('confirmation of funds', () => {
  it('stages, reads, answers from the ledger and deletes, every body as the spec says', async () => {
    const staged = await h.post('/funds-confirmation-consents', consentFor(h.alice));
    assert.equal(staged.status, 201, staged.text);
    valid('/funds-confirmation-consents', 'post', staged);
    const consentId = String(staged.body.Data?.ConsentId);
    const read = await h.get(`/funds-confirmation-consents/${consentId}`);
    assert.equal(read.status, 200);
    valid(`/funds-confirmation-consents/${consentId}`, 'get', read);

    const token = await h.authorise(consentId);
    // Alice holds 1000.00 GBP and no overdraft.
    const yes = await h.post('/funds-confirmations', check(consentId, '1000.00'), { token });
    assert.equal(yes.status, 201, yes.text);
    valid('/funds-confirmations', 'post', yes);
    assert.equal(yes.body.Data?.FundsAvailable, true);
    const no = await h.post('/funds-confirmations', check(consentId, '1000.01'), { token });
    assert.equal(no.body.Data?.FundsAvailable, false);
    const otherCurrency = await h.post('/funds-confirmations', check(consentId, '1.00', 'EUR'), { token });
    assert.equal(otherCurrency.body.Data?.FundsAvailable, false);
    assert.ok((await getIntent(h.store.db, consentId))?.lastUsedAt, 'the use is recorded');

    const deleted = await h.del(`/funds-confirmation-consents/${consentId}`);
    assert.equal(deleted.status, 204);
    assert.deepEqual(revoked, [consentId]);
    const after = await h.get(`/funds-confirmation-consents/${consentId}`);
    assert.equal(after.body.Data?.Status, 'Revoked');
    valid(`/funds-confirmation-consents/${consentId}`, 'get', after);
  });

  it('counts the overdraft as available funds', async () => {
    const staged = await h.post('/funds-confirmation-consents', consentFor(h.aliceOther));
    const consentId = String(staged.body.Data?.ConsentId);
    const token = await h.authorise(consentId, h.aliceOther.id);
    const yes = await h.post('/funds-confirmations', check(consentId, '500.00'), { token });
    assert.equal(yes.body.Data?.FundsAvailable, true);
    const no = await h.post('/funds-confirmations', check(consentId, '500.01'), { token });
    assert.equal(no.body.Data?.FundsAvailable, false);
  });

  it('refuses bad input with the spec codes', async () => {
    const unknown = await h.post('/funds-confirmation-consents', {
      Data: {
        DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '99999912345678' },
      },
    });
    assert.equal(unknown.status, 400);
    valid('/funds-confirmation-consents', 'post', unknown);
    const past = await h.post('/funds-confirmation-consents', {
      Data: { ...consentFor(h.alice).Data, ExpirationDateTime: '2020-01-01T00:00:00Z' },
    });
    assert.equal(past.status, 400);
    assert.equal(past.body.Errors?.[0]?.Path, 'Data.ExpirationDateTime');

    const staged = await h.post('/funds-confirmation-consents', consentFor(h.alice));
    const consentId = String(staged.body.Data?.ConsentId);
    // Not yet authorised: the PSU token does not exist; a client_credentials token is refused.
    assert.equal((await h.post('/funds-confirmations', check(consentId, '1.00'))).status, 401);
    const token = await h.authorise(consentId);
    for (const [amount, currency, code] of [
      ['1.001', 'GBP', 'UK.OBIE.Field.Invalid'],
      ['0', 'GBP', 'UK.OBIE.Field.Invalid'],
      ['1.00', 'ABC', 'UK.OBIE.Unsupported.Currency'],
    ] as const) {
      const response = await h.post('/funds-confirmations', check(consentId, amount, currency), { token });
      assert.equal(response.status, 400);
      assert.equal(response.body.Errors?.[0]?.ErrorCode, code);
      valid('/funds-confirmations', 'post', response);
    }
    const mismatch = await h.post('/funds-confirmations', check('fcc-other', '1.00'), { token });
    assert.equal(mismatch.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.ConsentMismatch');
    // After the TPP deletes it, the token is refused at once.
    await h.del(`/funds-confirmation-consents/${consentId}`);
    const gone = await h.post('/funds-confirmations', check(consentId, '1.00'), { token });
    assert.equal(gone.status, 403);
  });

  it('refuses a consent the PSU authorised from an account that is not the one named', async () => {
    const staged = await h.post('/funds-confirmation-consents', consentFor(h.alice));
    const consentId = String(staged.body.Data?.ConsentId);
    const token = await h.authorise(consentId, h.aliceOther.id);
    const refused = await h.post('/funds-confirmations', check(consentId, '1.00'), { token });
    assert.equal(refused.status, 400);
  });
});

describe('bad input to every Confirmation of Funds POST', async () => {
  const staged = await h.post('/funds-confirmation-consents', consentFor(h.alice));
  assert.equal(staged.status, 201, staged.text);
  const token = await h.authorise(String(staged.body.Data?.ConsentId));
  const garbage = [
    'not JSON',
    '[]',
    'null',
    '{}',
    '{"Data":null}',
    '{"Data":{"ConsentId":7,"InstructedAmount":"lots"}}',
    '{"Data":{"DebtorAccount":{"SchemeName":5},"ExpirationDateTime":"tomorrow"}}',
    `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`,
  ];
  for (const [path, psu] of [
    ['/funds-confirmation-consents', false],
    ['/funds-confirmations', true],
  ] as const) {
    it(`${path}: every malformed body is a 4xx with an OB error body, never a 500`, async () => {
      for (const raw of garbage) {
        const response = await h.post(path, undefined, { raw, ...(psu ? { token } : {}) });
        assert.ok(response.status >= 400 && response.status < 500, `${raw.slice(0, 40)}: ${response.text}`);
        valid(path, 'post', response);
      }
    });
  }
});
