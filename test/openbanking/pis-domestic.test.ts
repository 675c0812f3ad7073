import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { balanceOf, openAccount } from '../../src/bank/index.ts';
import { getIntent } from '../../src/consent/index.ts';
import { createSubscription, deleteSubscription, EVENT_RAISED_CHANNEL } from '../../src/events/index.ts';
import { rowsOf } from '../../src/shared/result-rows.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';
import { CLIENT, createHarness, domesticConsent, type Harness, type Response } from './pis-support.ts';

const h: Harness = await createHarness();
afterEach(async () => h.assertLedgerSound());

function valid(path: string, method: string, response: Response): void {
  assertValidResponse(PIS_V3_1_11, path, method, response.status, response.body);
}

async function entriesCount(): Promise<number> {
  const result = (await h.store.db.execute(sql`select count(*)::int as n from bank_entries`)) as unknown as {
    rows: { n: number }[];
  };
  return Number(result.rows[0]?.n);
}

async function paymentsCount(consentId: string): Promise<number> {
  const result = (await h.store.db.execute(
    sql`select count(*)::int as n from bank_payments where consent_id = ${consentId}`,
  )) as unknown as { rows: { n: number }[] };
  return Number(result.rows[0]?.n);
}

/** Stages and authorises a consent; returns its id, the PSU token and the submission body. */
async function authorisedConsent(body = domesticConsent(h.bob), accountId?: string) {
  const staged = await h.post('/domestic-payment-consents', body);
  assert.equal(staged.status, 201, staged.text);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId, accountId);
  const submission = { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk };
  return { consentId, token, submission };
}

function errorCode(response: Response): string | undefined {
  return response.body.Errors?.[0]?.ErrorCode;
}

describe('domestic payment consents', () => {
  it('stages, reads and (once authorised) shows the debtor, every body as the spec says', async () => {
    const staged = await h.post('/domestic-payment-consents', domesticConsent(h.bob));
    assert.equal(staged.status, 201, staged.text);
    valid('/domestic-payment-consents', 'post', staged);
    assert.equal(staged.body.Data?.Status, 'AwaitingAuthorisation');
    const id = String(staged.body.Data?.ConsentId);
    const read = await h.get(`/domestic-payment-consents/${id}`);
    assert.equal(read.status, 200);
    valid(`/domestic-payment-consents/${id}`, 'get', read);
    await h.authorise(id);
    const authorised = await h.get(`/domestic-payment-consents/${id}`);
    valid(`/domestic-payment-consents/${id}`, 'get', authorised);
    assert.equal(authorised.body.Data?.Status, 'Authorised');
    assert.deepEqual(
      (authorised.body.Data?.Debtor as { Identification: string }).Identification,
      `${h.alice.sortCode}${h.alice.accountNumber}`,
    );
  });

  it('takes application/json with a charset, refuses other media types', async () => {
    const withCharset = await h.post('/domestic-payment-consents', domesticConsent(h.bob), {
      contentType: 'application/json; charset=utf-8',
    });
    assert.equal(withCharset.status, 201, withCharset.text);
    const text = await h.post('/domestic-payment-consents', domesticConsent(h.bob), {
      contentType: 'text/plain',
    });
    assert.equal(text.status, 415);
  });

  it('answers 400 Resource.NotFound for a consent of nobody or of another kind', async () => {
    const response = await h.get('/domestic-payment-consents/pdc-does-not-exist');
    assert.equal(response.status, 400);
    assert.equal(errorCode(response), 'UK.OBIE.Resource.NotFound');
  });

  it('confirms funds from the ledger with the PSU token', async () => {
    const small = await authorisedConsent(domesticConsent(h.bob, '5.00'));
    const yes = await h.get(`/domestic-payment-consents/${small.consentId}/funds-confirmation`, small.token);
    assert.equal(yes.status, 200, yes.text);
    valid(`/domestic-payment-consents/${small.consentId}/funds-confirmation`, 'get', yes);
    assert.equal((yes.body.Data?.FundsAvailableResult as { FundsAvailable: boolean }).FundsAvailable, true);
    const big = await authorisedConsent(domesticConsent(h.bob, '1000.01'));
    const no = await h.get(`/domestic-payment-consents/${big.consentId}/funds-confirmation`, big.token);
    assert.equal((no.body.Data?.FundsAvailableResult as { FundsAvailable: boolean }).FundsAvailable, false);
    // A client_credentials token is not the PSU's.
    const cc = await h.get(`/domestic-payment-consents/${small.consentId}/funds-confirmation`);
    assert.equal(cc.status, 401);
  });

  it('refuses bad amounts and currencies with the spec codes, staging nothing', async () => {
    const cases: [string, string, string, string][] = [
      ['10.505', 'GBP', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Amount'],
      ['0.00', 'GBP', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Amount'],
      ['0', 'GBP', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Amount'],
      ['-1.00', 'GBP', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Amount'],
      ['10.00', 'XYZ', 'UK.OBIE.Unsupported.Currency', 'Data.Initiation.InstructedAmount.Currency'],
      ['10.00', 'gbp', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Currency'],
      ['10.5', 'JPY', 'UK.OBIE.Field.Invalid', 'Data.Initiation.InstructedAmount.Amount'],
    ];
    for (const [amount, currency, code, path] of cases) {
      const response = await h.post(
        '/domestic-payment-consents',
        domesticConsent(h.bob, amount, { currency }),
      );
      assert.equal(response.status, 400, `${amount} ${currency}`);
      valid('/domestic-payment-consents', 'post', response);
      assert.equal(errorCode(response), code, `${amount} ${currency}`);
      assert.equal(response.body.Errors?.[0]?.Path, path);
    }
  });

  it('refuses unknown fields, missing fields, unsupported schemes and a debtor that is not ours', async () => {
    const body = domesticConsent(h.bob);
    const extra = await h.post('/domestic-payment-consents', { ...body, Extra: 1 });
    assert.equal(errorCode(extra), 'UK.OBIE.Field.Unexpected');
    const { CreditorAccount: _omit, ...noCreditor } = body.Data.Initiation;
    const missing = await h.post('/domestic-payment-consents', { ...body, Data: { Initiation: noCreditor } });
    assert.equal(errorCode(missing), 'UK.OBIE.Field.Missing');
    assert.equal(missing.body.Errors?.[0]?.Path, 'Data.Initiation.CreditorAccount');
    const scheme = structuredClone(body);
    scheme.Data.Initiation.CreditorAccount.SchemeName = 'UK.OBIE.Wallet';
    assert.equal(errorCode(await h.post('/domestic-payment-consents', scheme)), 'UK.OBIE.Unsupported.Scheme');
    const badSortCode = structuredClone(body);
    badSortCode.Data.Initiation.CreditorAccount.Identification = '1234';
    assert.equal(errorCode(await h.post('/domestic-payment-consents', badSortCode)), 'UK.OBIE.Field.Invalid');
    const foreignDebtor = domesticConsent(h.bob, '1.00', {
      debtor: { ...h.alice, sortCode: '999999', accountNumber: '12345678' },
    });
    const refused = await h.post('/domestic-payment-consents', foreignDebtor);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.Errors?.[0]?.Path, 'Data.Initiation.DebtorAccount');
    const notJson = await h.post('/domestic-payment-consents', undefined, { raw: '{"Data":' });
    assert.equal(notJson.status, 400);
  });
});

describe('domestic payments', () => {
  it('pays on-us: one balanced posting set, consent consumed, resource and details valid', async () => {
    const before = await balanceOf(h.store.db, h.alice.id);
    const bobBefore = await balanceOf(h.store.db, h.bob.id);
    const { consentId, token, submission } = await authorisedConsent();
    const paid = await h.post('/domestic-payments', submission, { token });
    assert.equal(paid.status, 201, paid.text);
    valid('/domestic-payments', 'post', paid);
    assert.equal(paid.body.Data?.Status, 'AcceptedCreditSettlementCompleted');
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor - 1050n);
    assert.equal((await balanceOf(h.store.db, h.bob.id)).bookedMinor, bobBefore.bookedMinor + 1050n);
    assert.equal((await getIntent(h.store.db, consentId))?.status, 'Consumed');

    const id = String(paid.body.Data?.DomesticPaymentId);
    const read = await h.get(`/domestic-payments/${id}`);
    assert.equal(read.status, 200);
    valid(`/domestic-payments/${id}`, 'get', read);
    assert.deepEqual(read.body.Data?.Initiation, submission.Data.Initiation);
    const details = await h.get(`/domestic-payments/${id}/payment-details`);
    assert.equal(details.status, 200);
    valid(`/domestic-payments/${id}/payment-details`, 'get', details);
    const consent = await h.get(`/domestic-payment-consents/${consentId}`);
    assert.equal(consent.body.Data?.Status, 'Consumed');
    valid(`/domestic-payment-consents/${consentId}`, 'get', consent);
  });

  it('pays another bank through clearing', async () => {
    const { token, submission } = await authorisedConsent(
      domesticConsent({ sortCode: '401276', accountNumber: '31926819', name: 'ACME Ltd' }, '3.00'),
    );
    const paid = await h.post('/domestic-payments', submission, { token });
    assert.equal(paid.status, 201, paid.text);
    assert.equal(paid.body.Data?.Status, 'AcceptedSettlementCompleted');
  });

  it('a creditor account here: a Disabled one rejects the payment, one in another currency is paid through clearing', async () => {
    // The creditor's account is read with the debtor's (one statement): what the ledger then does with it
    // is what it did when the payment looked it up itself.
    const ctx = { clock: h.clock };
    const disabled = await openAccount(h.store.db, ctx, {
      holders: [h.otherCustomerId],
      currency: 'GBP',
      name: 'Closed Account',
    });
    await h.store.db.execute(sql`update bank_accounts set status = 'Disabled' where id = ${disabled.id}`);
    const euro = await openAccount(h.store.db, ctx, {
      holders: [h.otherCustomerId],
      currency: 'EUR',
      name: 'Euro Account',
    });
    const before = await balanceOf(h.store.db, h.alice.id);
    const entries = await entriesCount();
    const refused = await authorisedConsent(domesticConsent(disabled, '2.00'));
    const rejected = await h.post('/domestic-payments', refused.submission, { token: refused.token });
    assert.equal(rejected.status, 201, rejected.text);
    assert.equal(rejected.body.Data?.Status, 'Rejected');
    assert.equal(await entriesCount(), entries);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor);
    const details = await h.get(
      `/domestic-payments/${String(rejected.body.Data?.DomesticPaymentId)}/payment-details`,
    );
    assert.match(JSON.stringify(details.body), /cannot make payments/);

    const cleared = await authorisedConsent(domesticConsent(euro, '3.00'));
    const paid = await h.post('/domestic-payments', cleared.submission, { token: cleared.token });
    assert.equal(paid.status, 201, paid.text);
    assert.equal(paid.body.Data?.Status, 'AcceptedSettlementCompleted');
    assert.equal((await balanceOf(h.store.db, euro.id)).bookedMinor, 0n);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor - 300n);
  });

  it("writes a payment's event with it and wakes the push deliverers on commit, paid or rejected", async () => {
    const subscription = await createSubscription(h.store.db, h.clock, CLIENT, 'v3.1.11', {
      version: '3.1',
      callbackUrl: 'https://tpp.example/event-notifications',
      eventTypes: undefined,
    });
    const notified: string[] = [];
    let markerSeen = () => {};
    const marker = new Promise<void>((resolve) => (markerSeen = resolve));
    const unlisten = await h.store.listen(EVENT_RAISED_CHANNEL, (clientId) => {
      notified.push(clientId);
      if (clientId === 'marker') markerSeen();
    });
    try {
      const disabled = await openAccount(
        h.store.db,
        { clock: h.clock },
        { holders: [h.otherCustomerId], currency: 'GBP', name: 'Closed Account' },
      );
      await h.store.db.execute(sql`update bank_accounts set status = 'Disabled' where id = ${disabled.id}`);
      const ids: string[] = [];
      for (const [creditor, status] of [
        [h.bob, 'AcceptedCreditSettlementCompleted'],
        [disabled, 'Rejected'],
      ] as const) {
        const { token, submission } = await authorisedConsent(domesticConsent(creditor, '1.25'));
        const paid = await h.post('/domestic-payments', submission, { token });
        assert.equal(paid.status, 201, paid.text);
        assert.equal(paid.body.Data?.Status, status);
        ids.push(String(paid.body.Data?.DomesticPaymentId));
      }
      // Notifications are delivered in commit order: once this one is in, the payments' are too.
      await h.store.db.execute(sql`select pg_notify(${EVENT_RAISED_CHANNEL}, 'marker')`);
      await marker;
      assert.deepEqual(notified, [CLIENT, CLIENT, 'marker']);
      const events = await h.store.db.execute(
        sql`select resource_id, type, next_attempt_at is not null as due from event_notifications
          where resource_id in (${ids[0]}, ${ids[1]}) order by created_at, resource_id`,
      );
      assert.deepEqual(
        rowsOf<{ resource_id: string; type: string; due: boolean }>(events)
          .map((row) => [row.resource_id, row.type, row.due])
          .sort(),
        ids.map((id) => [id, 'urn:uk:org:openbanking:events:resource-update', true]).sort(),
      );
    } finally {
      await unlisten();
      await deleteSubscription(h.store.db, CLIENT, subscription.id);
    }
  });

  it('consumes a consent once: a second submission with another key is refused and posts nothing', async () => {
    const { token, submission } = await authorisedConsent();
    assert.equal((await h.post('/domestic-payments', submission, { token })).status, 201);
    const entries = await entriesCount();
    const again = await h.post('/domestic-payments', submission, { token });
    assert.equal(again.status, 400, again.text);
    valid('/domestic-payments', 'post', again);
    assert.equal(errorCode(again), 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.equal(await entriesCount(), entries);
  });

  it('two concurrent submissions on one consent with different keys: exactly one pays', async () => {
    const { consentId, token, submission } = await authorisedConsent();
    const entries = await entriesCount();
    const responses = await Promise.all([
      h.post('/domestic-payments', submission, { token, key: randomUUID() }),
      h.post('/domestic-payments', submission, { token, key: randomUUID() }),
    ]);
    assert.deepEqual(
      responses.map((r) => r.status).sort(),
      [201, 400],
      responses.map((r) => r.text).join('\n'),
    );
    const refused = responses.find((r) => r.status === 400)!;
    valid('/domestic-payments', 'post', refused);
    assert.equal(errorCode(refused), 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.equal(await entriesCount(), entries + 1);
    assert.equal(await paymentsCount(consentId), 1);
  });

  it('refuses a submission that differs from the consent (ConsentMismatch), posting nothing', async () => {
    const { consentId, token, submission } = await authorisedConsent();
    const entries = await entriesCount();
    const more = structuredClone(submission);
    more.Data.Initiation.InstructedAmount.Amount = '10.51';
    const refused = await h.post('/domestic-payments', more, { token });
    assert.equal(refused.status, 400);
    assert.equal(errorCode(refused), 'UK.OBIE.Resource.ConsentMismatch');
    const otherCreditor = structuredClone(submission);
    otherCreditor.Data.Initiation.CreditorAccount.Identification = `${h.mallory.sortCode}${h.mallory.accountNumber}`;
    assert.equal(
      errorCode(await h.post('/domestic-payments', otherCreditor, { token })),
      'UK.OBIE.Resource.ConsentMismatch',
    );
    const otherRisk = { ...structuredClone(submission), Risk: { PaymentContextCode: 'Other' } };
    assert.equal(
      errorCode(await h.post('/domestic-payments', otherRisk, { token })),
      'UK.OBIE.Resource.ConsentMismatch',
    );
    const otherConsent = {
      ...structuredClone(submission),
      Data: { ...submission.Data, ConsentId: 'pdc-other' },
    };
    assert.equal(
      errorCode(await h.post('/domestic-payments', otherConsent, { token })),
      'UK.OBIE.Resource.ConsentMismatch',
    );
    assert.equal(await entriesCount(), entries);
    assert.equal((await getIntent(h.store.db, consentId))?.status, 'Authorised');
    // The right one still goes through.
    assert.equal((await h.post('/domestic-payments', submission, { token })).status, 201);
  });

  it('rejects for insufficient funds: status Rejected, nothing posted, details say why', async () => {
    const entries = await entriesCount();
    const before = await balanceOf(h.store.db, h.alice.id);
    const { token, submission } = await authorisedConsent(domesticConsent(h.bob, '5000.00'));
    const paid = await h.post('/domestic-payments', submission, { token });
    assert.equal(paid.status, 201, paid.text);
    valid('/domestic-payments', 'post', paid);
    assert.equal(paid.body.Data?.Status, 'Rejected');
    assert.equal(await entriesCount(), entries);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor);
    const details = await h.get(
      `/domestic-payments/${String(paid.body.Data?.DomesticPaymentId)}/payment-details`,
    );
    valid('/domestic-payments/x/payment-details', 'get', details);
    const status = (
      details.body.Data?.PaymentStatus as { StatusDetail?: { StatusReasonDescription: string } }[]
    )[0];
    assert.match(status?.StatusDetail?.StatusReasonDescription ?? '', /Insufficient funds/);
  });

  it('uses a configured overdraft, and no further', async () => {
    const first = await authorisedConsent(domesticConsent(h.bob, '400.00'), h.aliceOther.id);
    const paid = await h.post('/domestic-payments', first.submission, { token: first.token });
    assert.equal(paid.body.Data?.Status, 'AcceptedCreditSettlementCompleted');
    assert.equal((await balanceOf(h.store.db, h.aliceOther.id)).bookedMinor, -40_000n);
    const second = await authorisedConsent(domesticConsent(h.bob, '100.01'), h.aliceOther.id);
    const refused = await h.post('/domestic-payments', second.submission, { token: second.token });
    assert.equal(refused.body.Data?.Status, 'Rejected');
  });

  it('refuses a debtor account that is not the PSU’s', async () => {
    // The TPP names Mallory's account; the PSU (Alice) authorised from her own.
    const body = domesticConsent(h.bob, '1.00', { debtor: h.mallory });
    const { token, submission } = await authorisedConsent(body);
    const entries = await entriesCount();
    const refused = await h.post('/domestic-payments', submission, { token });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.Errors?.[0]?.Path, 'Data.Initiation.DebtorAccount');
    // A consent "authorised" from an account the PSU does not hold.
    const stolen = await authorisedConsent(domesticConsent(h.bob, '1.00'), h.mallory.id);
    const refused2 = await h.post('/domestic-payments', stolen.submission, { token: stolen.token });
    assert.equal(refused2.status, 400);
    assert.equal(await entriesCount(), entries);
  });

  it('needs the PSU token: a client_credentials token cannot submit', async () => {
    const { submission } = await authorisedConsent();
    const refused = await h.post('/domestic-payments', submission);
    assert.equal(refused.status, 401);
  });
});

/** A pre-3.1.4 style header (b64 false): refused before any key is looked at. */
function b64Header(iat: number): string {
  const header = {
    alg: 'PS256',
    kid: 'tpp-signing-1',
    b64: false,
    'http://openbanking.org.uk/iat': iat,
    'http://openbanking.org.uk/iss': 'x',
    'http://openbanking.org.uk/tan': 'openbanking.org.uk',
    crit: [
      'b64',
      'http://openbanking.org.uk/iat',
      'http://openbanking.org.uk/iss',
      'http://openbanking.org.uk/tan',
    ],
  };
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}..c2lnbmF0dXJl`;
}

describe('message signing', () => {
  it('refuses a tampered body with a valid signature and posts nothing', async () => {
    const { token, submission } = await authorisedConsent();
    const entries = await entriesCount();
    const signedFor = JSON.stringify(submission);
    const tampered = structuredClone(submission);
    tampered.Data.Initiation.InstructedAmount.Amount = '10.49';
    const refused = await h.post('/domestic-payments', undefined, {
      token,
      raw: JSON.stringify(tampered),
      signature: await h.tppSigner.sign(signedFor),
    });
    assert.equal(refused.status, 400);
    valid('/domestic-payments', 'post', refused);
    assert.equal(errorCode(refused), 'UK.OBIE.Signature.Invalid');
    // Even a whitespace change breaks it: the signature covers the raw bytes.
    const spaced = await h.post('/domestic-payments', undefined, {
      token,
      raw: JSON.stringify(submission, null, 1),
      signature: await h.tppSigner.sign(signedFor),
    });
    assert.equal(errorCode(spaced), 'UK.OBIE.Signature.Invalid');
    assert.equal(await entriesCount(), entries);
  });

  it('names what is wrong with a signature', async () => {
    const body = JSON.stringify(domesticConsent(h.bob));
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const rs256 = await (await import('jose')).generateKeyPair('RS256');
    const cases: [string | null, string][] = [
      [null, 'UK.OBIE.Signature.Missing'],
      ['not-a-jws', 'UK.OBIE.Signature.Malformed'],
      ['a.b.c', 'UK.OBIE.Signature.Malformed'],
      ['eyJhbGciOiJQUzI1NiJ9..sig', 'UK.OBIE.Signature.MissingClaim'],
      [await h.tppSign(body, { kid: 'unknown-kid' }), 'UK.OBIE.Signature.Invalid'],
      [await h.tppSign(body, { kid: undefined }), 'UK.OBIE.Signature.MissingClaim'],
      [
        await h.tppSign(body, { 'http://openbanking.org.uk/tan': 'evil.example' }),
        'UK.OBIE.Signature.InvalidClaim',
      ],
      [
        await h.tppSign(body, { 'http://openbanking.org.uk/iss': 'someone/else' }),
        'UK.OBIE.Signature.InvalidClaim',
      ],
      [
        await h.tppSign(body, { 'http://openbanking.org.uk/iat': now + 3600 }),
        'UK.OBIE.Signature.InvalidClaim',
      ],
      [
        await h.tppSign(body, { 'http://openbanking.org.uk/iat': 'yesterday' }),
        'UK.OBIE.Signature.InvalidClaim',
      ],
      [b64Header(now), 'UK.OBIE.Signature.Unexpected'],
      [
        await h.tppSign(body, { crit: ['http://openbanking.org.uk/iat', 'http://openbanking.org.uk/iss'] }),
        'UK.OBIE.Signature.InvalidClaim',
      ],
      [await h.tppSign(body, { alg: 'RS256' }, rs256.privateKey), 'UK.OBIE.Signature.Invalid'],
    ];
    for (const [signature, code] of cases) {
      const response = await h.post('/domestic-payment-consents', undefined, { raw: body, signature });
      assert.equal(response.status, 400, `${code}: ${response.text}`);
      assert.equal(errorCode(response), code, response.text);
      valid('/domestic-payment-consents', 'post', response);
    }
    // A signature with another key under the right kid.
    const { generateKeyPair } = await import('jose');
    const stranger = await generateKeyPair('PS256');
    const forged = await h.post('/domestic-payment-consents', undefined, {
      raw: body,
      signature: await h.tppSign(body, {}, stranger.privateKey),
    });
    assert.equal(errorCode(forged), 'UK.OBIE.Signature.Invalid');
  });
});

describe('idempotency', () => {
  it('requires x-idempotency-key on PIS POSTs', async () => {
    const missing = await h.post('/domestic-payment-consents', domesticConsent(h.bob), { key: null });
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing), 'UK.OBIE.Header.Missing');
    const long = await h.post('/domestic-payment-consents', domesticConsent(h.bob), { key: 'x'.repeat(41) });
    assert.equal(errorCode(long), 'UK.OBIE.Header.Invalid');
  });

  it('answers a retry with the same resource, refuses the key with another body, frees it after 24 h', async () => {
    const key = randomUUID();
    const body = domesticConsent(h.bob);
    const first = await h.post('/domestic-payment-consents', body, { key });
    const second = await h.post('/domestic-payment-consents', body, { key });
    assert.equal(second.status, 201);
    assert.deepEqual(second.body, first.body);
    const other = await h.post('/domestic-payment-consents', domesticConsent(h.bob, '1.00'), { key });
    assert.equal(other.status, 400);
    assert.equal(errorCode(other), 'UK.OBIE.Header.Invalid');
    h.clock.advance(24 * 60 * 60 * 1000 + 1000);
    try {
      const later = await h.post('/domestic-payment-consents', body, { key });
      assert.equal(later.status, 201);
      assert.notEqual(later.body.Data?.ConsentId, first.body.Data?.ConsentId);
    } finally {
      h.clock.advance(-(24 * 60 * 60 * 1000 + 1000));
    }
  });

  it('50 concurrent submissions with one key make one payment and one posting set', async () => {
    const { consentId, token, submission } = await authorisedConsent(domesticConsent(h.bob, '7.77'));
    const entries = await entriesCount();
    const before = await balanceOf(h.store.db, h.alice.id);
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => h.post('/domestic-payments', submission, { token, key })),
    );
    for (const response of responses) assert.equal(response.status, 201, response.text);
    const ids = new Set(responses.map((response) => response.body.Data?.DomesticPaymentId));
    assert.equal(ids.size, 1);
    assert.equal(await paymentsCount(consentId), 1);
    assert.equal(await entriesCount(), entries + 1);
    assert.equal((await balanceOf(h.store.db, h.alice.id)).bookedMinor, before.bookedMinor - 777n);
  });
});
