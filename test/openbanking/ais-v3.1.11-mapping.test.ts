import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/shared/clock.ts';
import {
  balanceOf,
  findCustomerByUsername,
  getAccounts,
  getCustomerParty,
  listAccountParties,
  listAccountProducts,
  listBeneficiaries,
  listCustomerAccounts,
  listCustomers,
  listDirectDebits,
  listOffers,
  listScheduledPayments,
  listStandingOrders,
  listStatements,
  listTransactions,
  seedSandbox,
} from '../../src/bank/index.ts';
import {
  AIS_PERMISSIONS,
  mapAccount,
  mapBalances,
  mapBeneficiary,
  mapDirectDebit,
  mapOffer,
  mapParty,
  mapProduct,
  mapScheduledPayment,
  mapStandingOrder,
  mapStatement,
  mapTransaction,
  transactionAccess,
} from '../../src/openbanking/ais/v3.1.11/mapping.ts';
import { AIS_V3_1_11, assertValidResponse, validateComponent } from '../support/openapi.ts';
import { createTestStore } from '../support/store.ts';

const NOW = new Date('2026-11-21T09:30:00Z');
const store = await createTestStore();
await seedSandbox(store.db, { seed: 'mapping', clock: new ManualClock(NOW) });

const ALL = [...AIS_PERMISSIONS];
const BASIC = ALL.filter((p) => !p.endsWith('Detail') && p !== 'ReadPAN');
const links = (path: string) => ({ Self: `https://bank.example.com/open-banking/v3.1/aisp${path}` });
const meta = { TotalPages: 1 };

const customerAccountIds: string[] = [];
for (const customer of await listCustomers(store.db)) {
  for (const account of await listCustomerAccounts(store.db, customer.id)) {
    if (!customerAccountIds.includes(account.id)) customerAccountIds.push(account.id);
  }
}
const accounts = await getAccounts(store.db, customerAccountIds);

function assertComponent(name: string, value: unknown): void {
  const result = validateComponent(AIS_V3_1_11, name, value);
  assert.ok(result.valid, `${name}: ${result.errors.join('; ')}\n${JSON.stringify(value)}`);
}

describe('AIS v3.1.11 wire mapping of the seeded bank', () => {
  it('maps every account, Detail and Basic, valid against OBReadAccount6', () => {
    assert.equal(accounts.length, 10);
    const detail = accounts.map((a) => mapAccount(a, ALL));
    assertValidResponse(AIS_V3_1_11, '/accounts', 'get', 200, {
      Data: { Account: detail },
      Links: links('/accounts'),
      Meta: meta,
    });
    for (const a of detail) assertComponent('OBAccount6Detail', a);
    assert.ok(detail.every((a) => a.Account && a.Account.length > 0 && a.Servicer));
    const basic = accounts.map((a) => mapAccount(a, ['ReadAccountsBasic']));
    assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}', 'get', 200, {
      Data: { Account: basic },
      Links: links('/accounts/x'),
    });
    for (const a of basic) {
      assertComponent('OBAccount6Basic', a);
      assert.equal(a.Account, undefined);
      assert.equal(a.Servicer, undefined);
    }
  });

  it('shows a card account PAN only with ReadPAN', () => {
    const card = accounts.find((a) => a.pan);
    assert.ok(card?.pan);
    const masked = mapAccount(card, ['ReadAccountsDetail']).Account?.find(
      (i) => i.SchemeName === 'UK.OBIE.PAN',
    );
    assert.equal(masked?.Identification, `************${card.pan.slice(-4)}`);
    const clear = mapAccount(card, ['ReadAccountsDetail', 'ReadPAN']).Account?.find(
      (i) => i.SchemeName === 'UK.OBIE.PAN',
    );
    assert.equal(clear?.Identification, card.pan);
  });

  it('maps balances with credit lines, valid against OBReadBalance1', async () => {
    const balances = [];
    for (const a of accounts) balances.push(...mapBalances(await balanceOf(store.db, a.id), NOW));
    assertValidResponse(AIS_V3_1_11, '/balances', 'get', 200, {
      Data: { Balance: balances },
      Links: links('/balances'),
      Meta: meta,
    });
    const overdrawn = balances.find((b) => b.CreditDebitIndicator === 'Debit');
    assert.ok(overdrawn, 'the credit card account is in debit');
    assert.ok(balances.some((b) => b.CreditLine?.[0]?.Included === false));
  });

  it('maps every seeded transaction, Detail and Basic, valid against OBReadTransaction6', async () => {
    const all = await listTransactions(store.db, customerAccountIds, { page: { size: 1000 } });
    assert.ok(all.total > 1000, `${all.total} transactions`);
    const pages = [all.items];
    for (let n = 2; n <= all.totalPages; n += 1) {
      pages.push(
        (await listTransactions(store.db, customerAccountIds, { page: { size: 1000, number: n } })).items,
      );
    }
    const items = pages.flat();
    assert.equal(items.length, all.total);
    const detailAccess = transactionAccess(ALL);
    const detail = items.map((t) => mapTransaction(t, detailAccess));
    assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}/transactions', 'get', 200, {
      Data: { Transaction: detail },
      Links: links('/transactions'),
      Meta: { TotalPages: all.totalPages, FirstAvailableDateTime: '2026-05-21T00:00:00+00:00' },
    });
    assert.ok(detail.some((t) => t.MerchantDetails && t.Balance && t.CardInstrument));
    assert.ok(detail.some((t) => t.CreditorAccount && t.Balance));
    assert.ok(detail.some((t) => t.DebtorAccount));
    assert.ok(detail.some((t) => t.CurrencyExchange));

    const basicAccess = transactionAccess(BASIC);
    assert.equal(basicAccess.detail, false);
    const basic = items.map((t) => mapTransaction(t, basicAccess));
    assertValidResponse(AIS_V3_1_11, '/transactions', 'get', 200, {
      Data: { Transaction: basic },
      Links: links('/transactions'),
    });
    for (const t of basic) {
      // OBTransaction6Basic has additionalProperties: false, so no Detail field can slip through.
      assertComponent('OBTransaction6Basic', t);
      for (const field of [
        'TransactionInformation',
        'Balance',
        'MerchantDetails',
        'CreditorAccount',
        'DebtorAccount',
      ]) {
        assert.equal(t[field], undefined, field);
      }
    }
  });

  it('masks card numbers on transactions unless ReadPAN is granted', async () => {
    const alice = await findCustomerByUsername(store.db, 'alice');
    const [current] = await listCustomerAccounts(store.db, alice?.id ?? '');
    const { items } = await listTransactions(store.db, current?.id ?? '', { page: { size: 200 } });
    const card = items.find((t) => t.card);
    assert.ok(card?.card);
    const masked = mapTransaction(card, transactionAccess(BASIC)).CardInstrument as {
      Identification: string;
    };
    assert.match(masked.Identification, /^\*{12}\d{4}$/);
    const clear = mapTransaction(card, transactionAccess([...BASIC, 'ReadPAN'])).CardInstrument as {
      Identification: string;
    };
    assert.equal(clear.Identification, card.card.pan);
  });

  it('turns Credits/Debits permissions into a direction filter', () => {
    assert.deepEqual(transactionAccess(['ReadTransactionsBasic', 'ReadTransactionsCredits']), {
      allowed: true,
      detail: false,
      pan: false,
      creditDebit: 'Credit',
    });
    assert.equal(
      transactionAccess(['ReadTransactionsDetail', 'ReadTransactionsDebits']).creditDebit,
      'Debit',
    );
    assert.equal(
      transactionAccess(['ReadTransactionsDetail', 'ReadTransactionsDebits', 'ReadTransactionsCredits'])
        .creditDebit,
      undefined,
    );
    assert.equal(transactionAccess(['ReadTransactionsBasic']).allowed, false);
    assert.equal(transactionAccess(['ReadTransactionsCredits']).allowed, false);
  });

  it('maps beneficiaries, direct debits, standing orders and scheduled payments, Detail and Basic', async () => {
    const beneficiaries = await listBeneficiaries(store.db, customerAccountIds);
    const directDebits = await listDirectDebits(store.db, customerAccountIds);
    const standingOrders = await listStandingOrders(store.db, customerAccountIds);
    const scheduled = await listScheduledPayments(store.db, customerAccountIds);
    assert.ok(beneficiaries.length && directDebits.length && standingOrders.length && scheduled.length);
    for (const permissions of [ALL, BASIC]) {
      const suffix = permissions === ALL ? 'Detail' : 'Basic';
      const b = beneficiaries.map((x) => mapBeneficiary(x, permissions));
      assertValidResponse(AIS_V3_1_11, '/beneficiaries', 'get', 200, {
        Data: { Beneficiary: b },
        Links: links('/beneficiaries'),
      });
      for (const x of b) assertComponent(`OBBeneficiary5${suffix}`, x);
      const s = standingOrders.map((x) => mapStandingOrder(x, permissions));
      assertValidResponse(AIS_V3_1_11, '/standing-orders', 'get', 200, {
        Data: { StandingOrder: s },
        Links: links('/standing-orders'),
      });
      for (const x of s) assertComponent(`OBStandingOrder6${suffix}`, x);
      const p = scheduled.map((x) => mapScheduledPayment(x, permissions));
      assertValidResponse(AIS_V3_1_11, '/scheduled-payments', 'get', 200, {
        Data: { ScheduledPayment: p },
        Links: links('/scheduled-payments'),
      });
      for (const x of p) assertComponent(`OBScheduledPayment3${suffix}`, x);
    }
    assertValidResponse(AIS_V3_1_11, '/direct-debits', 'get', 200, {
      Data: { DirectDebit: directDebits.map(mapDirectDebit) },
      Links: links('/direct-debits'),
    });
  });

  it('maps statements (amounts only with Detail), products, offers and parties', async () => {
    const statements = await listStatements(store.db, customerAccountIds);
    assert.ok(statements.length > 20);
    const detail = statements.map((s) => mapStatement(s, ALL));
    assertValidResponse(AIS_V3_1_11, '/statements', 'get', 200, {
      Data: { Statement: detail },
      Links: links('/statements'),
    });
    assert.ok(detail.every((s) => Array.isArray(s.StatementAmount)));
    const basic = statements.map((s) => mapStatement(s, BASIC));
    for (const s of basic) assertComponent('OBStatement2Basic', s);
    assert.ok(basic.every((s) => s.StatementAmount === undefined));

    const products = (await listAccountProducts(store.db, customerAccountIds)).map((p) =>
      mapProduct(p.accountId, p.product),
    );
    assert.equal(products.length, customerAccountIds.length);
    assertValidResponse(AIS_V3_1_11, '/products', 'get', 200, {
      Data: { Product: products },
      Links: links('/products'),
    });

    const offers = (await listOffers(store.db, customerAccountIds)).map(mapOffer);
    assert.ok(offers.length >= 3);
    assertValidResponse(AIS_V3_1_11, '/offers', 'get', 200, {
      Data: { Offer: offers },
      Links: links('/offers'),
    });

    for (const customer of await listCustomers(store.db)) {
      const party = await getCustomerParty(store.db, customer.id);
      assert.ok(party);
      assertValidResponse(AIS_V3_1_11, '/party', 'get', 200, {
        Data: { Party: mapParty(party) },
        Links: links('/party'),
      });
      for (const account of await listCustomerAccounts(store.db, customer.id)) {
        const parties = (await listAccountParties(store.db, account.id)).map((p) =>
          mapParty(p.party, p.accountRole),
        );
        assert.ok(parties.length >= 1);
        assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}/parties', 'get', 200, {
          Data: { Party: parties },
          Links: links(`/accounts/${account.id}/parties`),
        });
        assertValidResponse(AIS_V3_1_11, '/accounts/{AccountId}/party', 'get', 200, {
          Data: { Party: parties[0] },
          Links: links(`/accounts/${account.id}/party`),
        });
      }
    }
  });
});
