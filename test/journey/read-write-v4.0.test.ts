import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { request } from 'undici';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { ALL_ACCOUNT_PERMISSIONS, apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, startSandbox, type Sandbox, type Tpp } from '../support/journey.ts';
import {
  AIS_V3_1_11,
  AIS_V4_0,
  assertValidResponse,
  COF_V3_1_11,
  COF_V4_0,
  validateComponent,
} from '../support/openapi.ts';
import { withdrawInDashboard } from './events-support.ts';

/**
 * Read/Write v4.0 beside v3.1.11 on the composed sandbox, over real HTTPS + mTLS: every v4.0 Account
 * Information and Confirmation of Funds body validates against the v4.0 OpenAPI files, one account reads
 * the same on both versions, a consent crosses versions only as OB's version-compatibility rule allows,
 * and v4.0 refusals are v4.0 error bodies.
 */

type Json = Record<string, unknown>;
type Version = 'v3.1.11' | 'v4.0';
const SPEC: Record<Version, { ais: string; cof: string }> = {
  'v3.1.11': { ais: AIS_V3_1_11, cof: COF_V3_1_11 },
  'v4.0': { ais: AIS_V4_0, cof: COF_V4_0 },
};
const PATH: Record<Version, string> = { 'v3.1.11': 'v3.1', 'v4.0': 'v4.0' };

interface Answer {
  status: number;
  json: Json;
  text: string;
}

describe('Read/Write v4.0 beside v3.1.11', async () => {
  const sandbox: Sandbox = await startSandbox();
  let tpp: Tpp;
  let origin: string;

  const base = (version: Version, api: 'aisp' | 'cbpii') => `${origin}/open-banking/${PATH[version]}/${api}`;
  async function call(
    version: Version,
    api: 'aisp' | 'cbpii',
    token: string,
    path: string,
    init: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown; as?: Tpp } = {},
  ): Promise<Answer> {
    const response = await callApi((init.as ?? tpp).bank, token, `${base(version, api)}${path}`, init);
    return { status: response.status, json: (response.json ?? {}) as Json, text: response.text };
  }
  const data = (answer: Answer) => answer.json.Data as Json;
  const list = (answer: Answer, key: string) => (data(answer)[key] ?? []) as Json[];

  function valid(
    version: Version,
    api: 'ais' | 'cof',
    template: string,
    method: string,
    answer: Answer,
    status: number,
  ) {
    assert.equal(answer.status, status, `${version} ${template}: ${answer.text.slice(0, 600)}`);
    assertValidResponse(SPEC[version][api], template, method, status, answer.json);
  }

  /** A v4.0 refusal: the status, the v4.0 code, a valid v4.0 OBErrorResponse1 with Url, no deprecated Code. */
  function v4Error(answer: Answer, status: number, code: string, spec = AIS_V4_0): void {
    assert.equal(answer.status, status, answer.text);
    const component = validateComponent(spec, 'OBErrorResponse1', answer.json);
    assert.ok(component.valid, component.errors.join('\n'));
    const errors = answer.json.Errors as { ErrorCode: string; Url?: string }[];
    assert.ok(
      errors.some((e) => e.ErrorCode === code),
      `expected ${code}, got ${answer.text}`,
    );
    assert.ok(errors.every((e) => typeof e.Url === 'string' && e.Url.startsWith('https://')));
    assert.equal(answer.json.Code, undefined, 'the deprecated top-level Code is left out on v4.0');
  }

  async function authoriseAis(version: Version, permissions: readonly string[] = ALL_ACCOUNT_PERMISSIONS) {
    const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
    const staged = await call(version, 'aisp', clientToken, '/account-access-consents', {
      method: 'POST',
      body: { Data: { Permissions: permissions }, Risk: {} },
    });
    valid(version, 'ais', '/account-access-consents', 'post', staged, 201);
    assert.equal(data(staged).Status, version === 'v4.0' ? 'AWAU' : 'AwaitingAuthorisation');
    const consentId = data(staged).ConsentId as string;
    const accessToken = await authorise(consentId, 'accounts');
    return { consentId, clientToken, accessToken };
  }

  async function authorise(consentId: string, scope: 'accounts' | 'fundsconfirmations'): Promise<string> {
    const pending = await startAuthorization(tpp.bank, {
      intentId: consentId,
      scope,
      redirectUri: tpp.redirectUri,
    });
    const back = await approveInSandbox(browserClient(sandbox), pending.url, tpp.redirectUri, {
      username: 'alice',
      decision: 'approve',
    });
    return (await completeAuthorization(tpp.bank, pending, back)).access_token;
  }

  let v4: { consentId: string; clientToken: string; accessToken: string };
  let v3: { consentId: string; clientToken: string; accessToken: string };
  let current: string;

  before(async () => {
    tpp = await sandbox.tpp('v4-reader', ['AISP', 'CBPII']);
    origin = new URL(apiBaseOf(tpp.bank)).origin;
    v4 = await authoriseAis('v4.0');
    v3 = await authoriseAis('v3.1.11');
    const accounts = await call('v4.0', 'aisp', v4.accessToken, '/accounts');
    valid('v4.0', 'ais', '/accounts', 'get', accounts, 200);
    const gbpCurrent = list(accounts, 'Account').find(
      (a) => a.AccountTypeCode === 'CACC' && a.Currency === 'GBP',
    );
    assert.ok(gbpCurrent, accounts.text);
    current = gbpCurrent.AccountId as string;
  });

  it('every path of the v4.0 AIS file answers a body valid against it, with v4.0 codes', async () => {
    const consent = await call('v4.0', 'aisp', v4.clientToken, `/account-access-consents/${v4.consentId}`);
    valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', consent, 200);
    assert.equal(data(consent).Status, 'AUTH');

    const statements = await call('v4.0', 'aisp', v4.accessToken, `/accounts/${current}/statements`);
    valid('v4.0', 'ais', '/accounts/{AccountId}/statements', 'get', statements, 200);
    const statementId = list(statements, 'Statement')[0]?.StatementId as string | undefined;
    assert.ok(statementId, 'the seeded account has statements');
    const paths: [string, string][] = [
      ['/accounts', '/accounts'],
      [`/accounts/${current}`, '/accounts/{AccountId}'],
      [`/accounts/${current}/balances`, '/accounts/{AccountId}/balances'],
      [`/accounts/${current}/transactions`, '/accounts/{AccountId}/transactions'],
      [`/accounts/${current}/beneficiaries`, '/accounts/{AccountId}/beneficiaries'],
      [`/accounts/${current}/direct-debits`, '/accounts/{AccountId}/direct-debits'],
      [`/accounts/${current}/standing-orders`, '/accounts/{AccountId}/standing-orders'],
      [`/accounts/${current}/scheduled-payments`, '/accounts/{AccountId}/scheduled-payments'],
      [`/accounts/${current}/statements/${statementId}`, '/accounts/{AccountId}/statements/{StatementId}'],
      [
        `/accounts/${current}/statements/${statementId}/transactions`,
        '/accounts/{AccountId}/statements/{StatementId}/transactions',
      ],
      [
        `/accounts/${current}/statements/${statementId}/file`,
        '/accounts/{AccountId}/statements/{StatementId}/file',
      ],
      [`/accounts/${current}/product`, '/accounts/{AccountId}/product'],
      [`/accounts/${current}/offers`, '/accounts/{AccountId}/offers'],
      [`/accounts/${current}/parties`, '/accounts/{AccountId}/parties'],
      [`/accounts/${current}/party`, '/accounts/{AccountId}/party'],
      ['/balances', '/balances'],
      ['/transactions', '/transactions'],
      ['/beneficiaries', '/beneficiaries'],
      ['/direct-debits', '/direct-debits'],
      ['/standing-orders', '/standing-orders'],
      ['/scheduled-payments', '/scheduled-payments'],
      ['/statements', '/statements'],
      ['/products', '/products'],
      ['/offers', '/offers'],
      ['/party', '/party'],
    ];
    const answers = new Map<string, Answer>();
    for (const [path, template] of paths) {
      const answer = await call('v4.0', 'aisp', v4.accessToken, path);
      valid('v4.0', 'ais', template, 'get', answer, 200);
      const links = answer.json.Links as { Self: string } | undefined;
      // The statement file (OB `File`) has no Links; every other answer links to itself on v4.0.
      if (!template.endsWith('/file'))
        assert.ok(links?.Self.startsWith(`${base('v4.0', 'aisp')}/`), answer.text);
      answers.set(template, answer);
    }
    const transactions = list(answers.get('/transactions')!, 'Transaction');
    assert.ok(transactions.length > 0);
    assert.ok(transactions.every((t) => ['BOOK', 'PDNG'].includes(t.Status as string)));
    const balances = list(answers.get('/balances')!, 'Balance');
    assert.deepEqual([...new Set(balances.map((b) => b.Type))].sort(), ['ITAV', 'ITBD']);
    const directDebits = list(answers.get('/direct-debits')!, 'DirectDebit');
    assert.ok(directDebits.length > 0, 'alice has direct debits');
    for (const debit of directDebits) {
      const mandate = debit.MandateRelatedInformation as Json;
      assert.ok(mandate.MandateIdentification, JSON.stringify(debit));
      assert.ok(['ACTV', 'CANC'].includes(debit.DirectDebitStatusCode as string));
    }
    const accounts = list(answers.get('/accounts')!, 'Account');
    assert.ok(accounts.every((a) => a.AccountCategory === 'Personal' && a.AccountType === undefined));
  });

  it('one account reads the same money, dates and identifiers on v3.1.11 and v4.0', async () => {
    for (const [suffix, key, id] of [
      ['', 'Account', 'AccountId'],
      ['/transactions', 'Transaction', 'TransactionId'],
      ['/balances', 'Balance', 'Type'],
      ['/standing-orders', 'StandingOrder', 'StandingOrderId'],
      ['/direct-debits', 'DirectDebit', 'DirectDebitId'],
      ['/statements', 'Statement', 'StatementId'],
    ] as const) {
      const old = await call('v3.1.11', 'aisp', v3.accessToken, `/accounts/${current}${suffix}`);
      const now = await call('v4.0', 'aisp', v4.accessToken, `/accounts/${current}${suffix}`);
      const template = `/accounts/{AccountId}${suffix}`;
      valid('v3.1.11', 'ais', template, 'get', old, 200);
      valid('v4.0', 'ais', template, 'get', now, 200);
      const before = list(old, key);
      const after = list(now, key);
      assert.equal(after.length, before.length, key);
      assert.ok(after.length > 0, key);
      before.forEach((item, index) => {
        const other = after[index]!;
        if (key !== 'Balance') assert.equal(other[id], item[id], key);
        for (const field of [
          'AccountId',
          'Amount',
          'BookingDateTime',
          'ValueDateTime',
          'CreditDebitIndicator',
          'Currency',
          'OpeningDate',
          'Account',
          'NextPaymentDateTime',
          'NextPaymentAmount',
          'PreviousPaymentAmount',
          'PreviousPaymentDateTime',
          'StartDateTime',
          'EndDateTime',
          'StatementAmount',
          'TransactionInformation',
          'DateTime',
        ]) {
          // A balance is dated when it is read: the v4.0 read came second, in the same second or later.
          if (key === 'Balance' && field === 'DateTime') {
            assert.ok(
              Date.parse(String(other[field])) >= Date.parse(String(item[field])),
              `${key} ${String(item[id])} ${field}: ${String(other[field])} before ${String(item[field])}`,
            );
            continue;
          }
          assert.deepEqual(other[field], item[field], `${key} ${String(item[id])} ${field}`);
        }
      });
    }
    const account = (await call('v3.1.11', 'aisp', v3.accessToken, `/accounts/${current}`)).json;
    assert.equal(((account.Data as Json).Account as Json[])[0]?.AccountSubType, 'CurrentAccount');
  });

  it('a v3.1.11 consent is usable on v4.0; a v4.0 consent is not usable on v3.1.11 (OB version compatibility)', async () => {
    // Older consent, newer version: the consent reads with v4.0 codes, its token reads v4.0 data.
    const read = await call('v4.0', 'aisp', v3.clientToken, `/account-access-consents/${v3.consentId}`);
    valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
    assert.equal(data(read).Status, 'AUTH');
    const accounts = await call('v4.0', 'aisp', v3.accessToken, `/accounts/${current}/transactions`);
    valid('v4.0', 'ais', '/accounts/{AccountId}/transactions', 'get', accounts, 200);
    // Newer consent, older version: as if it did not exist there, and its token grants nothing there.
    const back = await call('v3.1.11', 'aisp', v4.clientToken, `/account-access-consents/${v4.consentId}`);
    valid('v3.1.11', 'ais', '/account-access-consents/{ConsentId}', 'get', back, 400);
    assert.equal((back.json.Errors as Json[])[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
    const data3 = await call('v3.1.11', 'aisp', v4.accessToken, '/accounts');
    valid('v3.1.11', 'ais', '/accounts', 'get', data3, 403);
    assert.equal((data3.json.Errors as Json[])[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    // …and a v4.0 consent deleted on v3.1.11 is not found there either; on v4.0 it goes.
    const deleted = await call(
      'v3.1.11',
      'aisp',
      v4.clientToken,
      `/account-access-consents/${v4.consentId}`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(deleted.status, 400, deleted.text);
  });

  it('v4.0 refusals are v4.0 error bodies: malformed body, unknown ids, wrong token, wrong certificate', async () => {
    const malformed = await call('v4.0', 'aisp', v4.clientToken, '/account-access-consents', {
      method: 'POST',
      body: { Data: { Permissions: ['ReadNothing'] }, Risk: {} },
    });
    v4Error(malformed, 400, 'U002');
    assertValidResponse(AIS_V4_0, '/account-access-consents', 'post', 400, malformed.json);
    const noRisk = await call('v4.0', 'aisp', v4.clientToken, '/account-access-consents', {
      method: 'POST',
      body: { Data: { Permissions: ['ReadAccountsBasic'] } },
    });
    v4Error(noRisk, 400, 'U004');
    const notJson = await call('v4.0', 'aisp', v4.clientToken, '/account-access-consents', {
      method: 'POST',
      body: '{"Data":',
    });
    assert.ok(notJson.status === 400, notJson.text);
    v4Error(notJson, 400, 'U010');

    const unknownAccount = await call('v4.0', 'aisp', v4.accessToken, '/accounts/acc-nope/balances');
    v4Error(unknownAccount, 400, 'U011');
    assertValidResponse(AIS_V4_0, '/accounts/{AccountId}/balances', 'get', 400, unknownAccount.json);
    const unknownConsent = await call('v4.0', 'aisp', v4.clientToken, '/account-access-consents/aac-nope');
    v4Error(unknownConsent, 400, 'U011');

    const clientTokenOnData = await call('v4.0', 'aisp', v4.clientToken, '/accounts');
    v4Error(clientTokenOnData, 401, 'U006');
    const psuTokenOnConsent = await call(
      'v4.0',
      'aisp',
      v4.accessToken,
      `/account-access-consents/${v4.consentId}`,
    );
    v4Error(psuTokenOnConsent, 403, 'U006');
    assertValidResponse(AIS_V4_0, '/account-access-consents/{ConsentId}', 'get', 403, psuTokenOnConsent.json);

    // Another TPP's mTLS certificate with this TPP's token: the binding fails.
    const other = await sandbox.tpp('v4-other', ['AISP']);
    const stolen = await call('v4.0', 'aisp', v4.accessToken, '/accounts', { as: other });
    v4Error(stolen, 401, 'U006');

    const unknownPath = await call('v4.0', 'aisp', v4.accessToken, '/no-such-thing');
    v4Error(unknownPath, 404, 'U011');
    // The same refusal on v3.1.11 keeps its shape.
    const old = await call('v3.1.11', 'aisp', v3.accessToken, '/accounts/acc-nope/balances');
    valid('v3.1.11', 'ais', '/accounts/{AccountId}/balances', 'get', old, 400);
    assert.equal((old.json.Errors as Json[])[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
  });

  it('Confirmation of Funds v4.0: consent, authorisation and answer valid against the v4.0 file; v3.1.11 consents usable on it', async () => {
    const accounts = list(await call('v4.0', 'aisp', v4.accessToken, `/accounts/${current}`), 'Account');
    const identification = (accounts[0]?.Account as Json[])[0] as Json;
    const clientToken = (await clientCredentialsToken(tpp.bank, 'fundsconfirmations')).access_token;
    const consents: Record<Version, { consentId: string; token: string }> = {} as never;
    for (const version of ['v4.0', 'v3.1.11'] as const) {
      const staged = await call(version, 'cbpii', clientToken, '/funds-confirmation-consents', {
        method: 'POST',
        body: {
          Data: {
            DebtorAccount: {
              SchemeName: identification.SchemeName,
              Identification: identification.Identification,
            },
          },
        },
      });
      valid(version, 'cof', '/funds-confirmation-consents', 'post', staged, 201);
      const consentId = data(staged).ConsentId as string;
      const token = await authorise(consentId, 'fundsconfirmations');
      const read = await call(version, 'cbpii', clientToken, `/funds-confirmation-consents/${consentId}`);
      valid(version, 'cof', '/funds-confirmation-consents/{ConsentId}', 'get', read, 200);
      assert.equal(data(read).Status, version === 'v4.0' ? 'AUTH' : 'Authorised');
      assert.equal(data(read).StatusReason, undefined, 'an authorised consent has no status reason');
      consents[version] = { consentId, token };
    }
    const ask = (version: Version, consent: { consentId: string; token: string }, amount: string) =>
      call(version, 'cbpii', consent.token, '/funds-confirmations', {
        method: 'POST',
        body: {
          Data: {
            ConsentId: consent.consentId,
            Reference: 'v4-check',
            InstructedAmount: { Amount: amount, Currency: 'GBP' },
          },
        },
      });
    const small = await ask('v4.0', consents['v4.0'], '1.00');
    valid('v4.0', 'cof', '/funds-confirmations', 'post', small, 201);
    assert.equal(data(small).FundsAvailable, true);
    const huge = await ask('v4.0', consents['v4.0'], '999999999.00');
    valid('v4.0', 'cof', '/funds-confirmations', 'post', huge, 201);
    assert.equal(data(huge).FundsAvailable, false);
    // Older consent on the newer version: allowed; newer consent on the older version: refused.
    const crossed = await ask('v4.0', consents['v3.1.11'], '1.00');
    valid('v4.0', 'cof', '/funds-confirmations', 'post', crossed, 201);
    const refused = await ask('v3.1.11', consents['v4.0'], '1.00');
    valid('v3.1.11', 'cof', '/funds-confirmations', 'post', refused, 403);
    const malformed = await call('v4.0', 'cbpii', consents['v4.0'].token, '/funds-confirmations', {
      method: 'POST',
      body: { Data: { ConsentId: consents['v4.0'].consentId } },
    });
    v4Error(malformed, 400, 'U004', COF_V4_0);
    assertValidResponse(COF_V4_0, '/funds-confirmations', 'post', 400, malformed.json);
    const missing = await call('v4.0', 'cbpii', clientToken, '/funds-confirmation-consents/fcc-nope');
    v4Error(missing, 400, 'U011', COF_V4_0);
    // Deleted by the CBPII: CANC, and the reason says who withdrew it; v3.1.11 has no StatusReason.
    for (const version of ['v4.0', 'v3.1.11'] as const) {
      const path = `/funds-confirmation-consents/${consents[version].consentId}`;
      const deleted = await call(version, 'cbpii', clientToken, path, { method: 'DELETE' });
      assert.equal(deleted.status, 204, deleted.text);
      const read = await call(version, 'cbpii', clientToken, path);
      valid(version, 'cof', '/funds-confirmation-consents/{ConsentId}', 'get', read, 200);
      assert.equal(data(read).Status, version === 'v4.0' ? 'CANC' : 'Revoked');
      assert.deepEqual(
        data(read).StatusReason,
        version === 'v4.0' ? [{ StatusReasonDescription: 'The TPP deleted the consent.' }] : undefined,
      );
    }
  });

  it('a consent the PSU rejects reads RJCT on v4.0 with the reason, valid against the v4.0 file', async () => {
    const clientToken = (await clientCredentialsToken(tpp.bank, 'accounts')).access_token;
    const staged = await call('v4.0', 'aisp', clientToken, '/account-access-consents', {
      method: 'POST',
      body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} },
    });
    valid('v4.0', 'ais', '/account-access-consents', 'post', staged, 201);
    assert.equal(data(staged).StatusReason, undefined, 'an awaiting consent has no status reason');
    const consentId = data(staged).ConsentId as string;
    const pending = await startAuthorization(tpp.bank, {
      intentId: consentId,
      scope: 'accounts',
      redirectUri: tpp.redirectUri,
    });
    await approveInSandbox(browserClient(sandbox), pending.url, tpp.redirectUri, {
      username: 'alice',
      decision: 'reject',
    });
    const read = await call('v4.0', 'aisp', clientToken, `/account-access-consents/${consentId}`);
    valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
    assert.equal(data(read).Status, 'RJCT');
    assert.deepEqual(data(read).StatusReason, [
      { StatusReasonDescription: 'The PSU declined to authorise the consent at the ASPSP.' },
    ]);
  });

  it('a consent withdrawn on v4.0 reads CANC there, and its tokens are revoked with it', async () => {
    const consent = await authoriseAis('v4.0', ['ReadAccountsBasic']);
    const deleted = await call(
      'v4.0',
      'aisp',
      consent.clientToken,
      `/account-access-consents/${consent.consentId}`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(deleted.status, 204, deleted.text);
    const read = await call(
      'v4.0',
      'aisp',
      consent.clientToken,
      `/account-access-consents/${consent.consentId}`,
    );
    valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
    assert.equal(data(read).Status, 'CANC');
    assert.deepEqual(data(read).StatusReason, [{ StatusReasonDescription: 'The TPP deleted the consent.' }]);
    const refused = await call('v4.0', 'aisp', consent.accessToken, '/accounts');
    v4Error(refused, 401, 'U006');
  });

  it('access withdrawn by the PSU at the bank: account access Authorised on v3.1.11 and CANC with its reason on v4.0, funds confirmation revoked; tokens die; re-authentication brings access back', async () => {
    const onV3 = await authoriseAis('v3.1.11', ['ReadAccountsBasic']);
    const onV4 = await authoriseAis('v4.0', ['ReadAccountsBasic']);
    const deletedAfter = await authoriseAis('v4.0', ['ReadAccountsBasic']);
    const account = list(await call('v4.0', 'aisp', v4.accessToken, `/accounts/${current}`), 'Account');
    const identification = (account[0]?.Account as Json[])[0] as Json;
    const cofToken = (await clientCredentialsToken(tpp.bank, 'fundsconfirmations')).access_token;
    const staged = await call('v4.0', 'cbpii', cofToken, '/funds-confirmation-consents', {
      method: 'POST',
      body: {
        Data: {
          DebtorAccount: {
            SchemeName: identification.SchemeName,
            Identification: identification.Identification,
          },
        },
      },
    });
    valid('v4.0', 'cof', '/funds-confirmation-consents', 'post', staged, 201);
    const funds = data(staged).ConsentId as string;
    await authorise(funds, 'fundsconfirmations');

    await withdrawInDashboard(sandbox, 'alice', [
      onV3.consentId,
      onV4.consentId,
      deletedAfter.consentId,
      funds,
    ]);

    const WITHDRAWN = [
      {
        StatusReasonDescription:
          "The PSU withdrew the TPP's access at the ASPSP; the TPP may ask the PSU to re-authenticate this consent.",
      },
    ];
    const consentPath = (consentId: string) => `/account-access-consents/${consentId}`;
    // v3.1.11: "The status of the account-access-consent must remain unchanged".
    let read = await call('v3.1.11', 'aisp', onV3.clientToken, consentPath(onV3.consentId));
    valid('v3.1.11', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
    assert.equal(data(read).Status, 'Authorised');
    // The same stored consent read on v4.0 (a v3.1.11 consent may be read there), and a v4.0 one: CANC.
    for (const consent of [onV3, onV4]) {
      read = await call('v4.0', 'aisp', consent.clientToken, consentPath(consent.consentId));
      valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
      assert.equal(data(read).Status, 'CANC');
      assert.deepEqual(data(read).StatusReason, WITHDRAWN);
    }
    assert.equal((await call('v3.1.11', 'aisp', onV3.accessToken, '/accounts')).status, 401);
    v4Error(await call('v4.0', 'aisp', onV4.accessToken, '/accounts'), 401, 'U006');

    // Funds confirmation is revoked as before: the bank does not offer its re-authentication.
    read = await call('v4.0', 'cbpii', cofToken, `/funds-confirmation-consents/${funds}`);
    valid('v4.0', 'cof', '/funds-confirmation-consents/{ConsentId}', 'get', read, 200);
    assert.equal(data(read).Status, 'CANC');
    assert.deepEqual(data(read).StatusReason, [
      { StatusReasonDescription: 'The PSU withdrew the consent at the ASPSP.' },
    ]);

    // The TPP may still delete a withdrawn consent: then it is cancelled for good.
    const deleted = await call(
      'v4.0',
      'aisp',
      deletedAfter.clientToken,
      consentPath(deletedAfter.consentId),
      {
        method: 'DELETE',
      },
    );
    assert.equal(deleted.status, 204, deleted.text);
    read = await call('v4.0', 'aisp', deletedAfter.clientToken, consentPath(deletedAfter.consentId));
    valid('v4.0', 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
    assert.deepEqual(data(read).StatusReason, [{ StatusReasonDescription: 'The TPP deleted the consent.' }]);

    // Re-authenticated (same ConsentId): a new token reads the accounts, the old one stays dead, AUTH again.
    for (const [consent, version] of [
      [onV4, 'v4.0'],
      [onV3, 'v3.1.11'],
    ] as const) {
      const token = await authorise(consent.consentId, 'accounts');
      valid(version, 'ais', '/accounts', 'get', await call(version, 'aisp', token, '/accounts'), 200);
      assert.equal((await call(version, 'aisp', consent.accessToken, '/accounts')).status, 401);
      read = await call(version, 'aisp', consent.clientToken, consentPath(consent.consentId));
      valid(version, 'ais', '/account-access-consents/{ConsentId}', 'get', read, 200);
      assert.equal(data(read).Status, version === 'v4.0' ? 'AUTH' : 'Authorised');
      assert.equal(data(read).StatusReason, undefined);
    }
  });

  it('lists the versions and API base URLs it serves in a discovery document anyone can read', async () => {
    const answer = await request(`${origin}/open-banking/discovery`, { dispatcher: browserClient(sandbox) });
    assert.equal(answer.statusCode, 200);
    const document = (await answer.body.json()) as {
      Data: Record<string, { Version: string; BaseUrl: string; Specification: string }[]>;
    };
    const versions = (api: string) => document.Data[api]!.map((entry) => `${entry.Version} ${entry.BaseUrl}`);
    assert.deepEqual(versions('AccountAndTransactionAPI'), [
      `v3.1.11 ${base('v3.1.11', 'aisp')}`,
      `v4.0 ${base('v4.0', 'aisp')}`,
    ]);
    assert.deepEqual(versions('FundsConfirmationAPI'), [
      `v3.1.11 ${base('v3.1.11', 'cbpii')}`,
      `v4.0 ${base('v4.0', 'cbpii')}`,
    ]);
    assert.deepEqual(versions('PaymentInitiationAPI'), [
      `v3.1.11 ${origin}/open-banking/v3.1/pisp`,
      `v4.0 ${origin}/open-banking/v4.0/pisp`,
    ]);
    // Every base listed answers as an API (a refusal without a token, not a 404).
    for (const entry of document.Data.AccountAndTransactionAPI!) {
      const probe = await call(entry.Version as Version, 'aisp', 'no-token', '/accounts');
      assert.equal(probe.status, 401, probe.text);
      assert.equal(entry.Specification, 'account-info-openapi.json');
    }
  });
});
