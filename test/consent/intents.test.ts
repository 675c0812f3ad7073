import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertIntentAuthorisable,
  authorise,
  checkIntentAuthorisable,
  consume,
  CONSENT_REVOKED_CHANNEL,
  createIntent,
  getIntent,
  getIntentForClient,
  INTENT_KINDS,
  IntentInputError,
  IntentNotAuthorisableError,
  IntentTransitionError,
  isExpired,
  isUsable,
  kindOfIntentId,
  KIND_INFO,
  listAudit,
  listIntentsForCustomer,
  markFileUploaded,
  migrateIntent,
  reauthenticate,
  recordUse,
  reject,
  revoke,
  storeRevocationNotifier,
  type ConsentContext,
  type IntentKind,
  type JsonObject,
  withdrawAccess,
  type TransitionFailure,
} from '../../src/consent/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../src/shared/clock.ts';
import { migrationsFolder } from '../../src/store/index.ts';
import { recordSent } from '../support/statements.ts';
import { createTestStore } from '../support/store.ts';
import { accountAccessData, domesticPaymentData, fundsConfirmationData, vrpData } from './fixtures.ts';

const HOUR = 3_600_000;

async function setup() {
  const store = await createTestStore();
  const clock = new ManualClock('2026-01-01T09:00:00Z');
  const ctx: ConsentContext = { db: store.db, clock };
  const revoked: string[] = [];
  const rctx = { ...ctx, notifyRevoked: async (id: string) => void revoked.push(id) };
  return { store, clock, ctx, rctx, revoked };
}

function dataFor(kind: IntentKind) {
  switch (kind) {
    case 'account-access':
      return accountAccessData();
    case 'funds-confirmation':
      return fundsConfirmationData('30992112345678');
    case 'domestic-vrp':
      return vrpData();
    default:
      return domesticPaymentData();
  }
}

/** A domestic payment consent staged with `completion` as its Data.Authorisation.CompletionDateTime. */
function stagePaymentDueBy(ctx: ConsentContext, completion: unknown, authorisationType = 'Single') {
  return createIntent(ctx, {
    kind: 'domestic-payment',
    clientId: 'c',
    data: {
      ...domesticPaymentData(),
      Authorisation: { AuthorisationType: authorisationType, CompletionDateTime: completion },
    },
    risk: {},
  });
}

async function refused(promise: Promise<unknown>, reason: TransitionFailure): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof IntentTransitionError, `expected IntentTransitionError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    return true;
  });
}

describe('consent intents', () => {
  it('creates an intent of every kind with its OB-style id, initial status and a created audit entry', async () => {
    const { ctx } = await setup();
    for (const kind of INTENT_KINDS) {
      const intent = await createIntent(ctx, { kind, clientId: 'client-1', data: dataFor(kind), risk: {} });
      assert.match(intent.id, new RegExp(`^${KIND_INFO[kind].prefix}-[0-9a-f-]{36}$`));
      assert.equal(kindOfIntentId(intent.id), kind);
      assert.equal(intent.status, kind === 'file-payment' ? 'AwaitingUpload' : 'AwaitingAuthorisation');
      assert.equal(intent.clientId, 'client-1');
      assert.deepEqual(intent.createdAt, new Date('2026-01-01T09:00:00Z'));
      const stored = await getIntent(ctx.db, intent.id);
      assert.deepEqual(stored, intent);
      const audit = await listAudit(ctx.db, intent.id);
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.event, 'created');
      assert.equal(audit[0]!.actor, 'tpp');
      assert.equal(audit[0]!.to, intent.status);
    }
  });

  it('stages an intent and changes it in one prepared statement each (no query built or parsed per call)', async () => {
    const { ctx } = await setup();
    // Once first: a named statement's first run in the process also prepares it.
    await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c1',
      data: dataFor('account-access'),
      risk: {},
    });
    const { result: staged, sent } = await recordSent(() =>
      createIntent(ctx, {
        kind: 'account-access',
        clientId: 'c1',
        data: dataFor('account-access'),
        risk: {},
      }),
    );
    assert.deepEqual(
      sent.map(({ prepared }) => prepared),
      [true],
      `staging: ${JSON.stringify(sent)}`,
    );
    assert.match(sent[0]!.text, /insert into "consent_intents"/);
    assert.equal((await listAudit(ctx.db, staged.id)).length, 1, 'its audit row in the same statement');
    const authorised = await recordSent(() =>
      authorise(ctx, staged.id, { customerId: 'cust-1', accountIds: ['acc-1'] }),
    );
    assert.deepEqual(
      authorised.sent.map(({ prepared }) => prepared),
      [true],
      `authorising: ${JSON.stringify(authorised.sent)}`,
    );
    assert.equal(authorised.result.status, 'Authorised');
  });

  it('reads expiry from ExpirationDateTime (AIS, CoF) and ValidToDateTime (VRP), and keeps Data and Risk', async () => {
    const { ctx } = await setup();
    const aac = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData('2026-03-01T10:00:00+01:00'),
      risk: { PaymentContextCode: 'EcommerceGoods' },
    });
    assert.deepEqual(aac.expiresAt, new Date('2026-03-01T09:00:00Z'));
    assert.deepEqual(aac.risk, { PaymentContextCode: 'EcommerceGoods' });
    assert.deepEqual(aac.permissions, accountAccessData().Permissions);
    const vrp = await createIntent(ctx, {
      kind: 'domestic-vrp',
      clientId: 'c',
      data: vrpData('2026-05-01T00:00:00Z'),
      risk: {},
    });
    assert.deepEqual(vrp.expiresAt, new Date('2026-05-01T00:00:00Z'));
    const pdc = await createIntent(ctx, {
      kind: 'domestic-payment',
      clientId: 'c',
      data: domesticPaymentData(),
      risk: {},
    });
    assert.equal(pdc.expiresAt, undefined);
    assert.deepEqual(pdc.permissions, []);
  });

  it('refuses malformed input with the offending field', async () => {
    const { ctx } = await setup();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ Permissions: [] }, 'Data.Permissions', /at least one/],
      [{ Permissions: ['ReadEverything'] }, 'Data.Permissions', /unknown permission/],
      [{ Permissions: ['ReadTransactionsBasic'] }, 'Data.Permissions', /Credits and\/or/],
      [{ Permissions: ['ReadTransactionsDebits'] }, 'Data.Permissions', /Basic or/],
      [
        { Permissions: ['ReadBalances'], ExpirationDateTime: 'tomorrow' },
        'Data.ExpirationDateTime',
        /ISO 8601/,
      ],
      [
        { Permissions: ['ReadBalances'], ExpirationDateTime: '2025-01-01T00:00:00Z' },
        'Data.ExpirationDateTime',
        /past/,
      ],
    ];
    for (const [data, path, message] of cases) {
      await assert.rejects(
        createIntent(ctx, { kind: 'account-access', clientId: 'c', data, risk: {} }),
        (error: unknown) => {
          assert.ok(error instanceof IntentInputError);
          assert.equal(error.path, path);
          assert.match(error.message, message);
          return true;
        },
      );
    }
    await assert.rejects(
      createIntent(ctx, { kind: 'nonsense' as IntentKind, clientId: 'c', data: {}, risk: {} }),
      IntentInputError,
    );
    await assert.rejects(
      createIntent(ctx, {
        kind: 'domestic-vrp',
        clientId: 'c',
        data: vrpData('2025-12-31T00:00:00Z'),
        risk: {},
      }),
      (error: unknown) =>
        error instanceof IntentInputError && error.path === 'Data.ControlParameters.ValidToDateTime',
    );
    await assert.rejects(
      createIntent(ctx, {
        kind: 'account-access',
        clientId: 'c',
        data: [] as unknown as JsonObject,
        risk: {},
      }),
      (error: unknown) => error instanceof IntentInputError && error.path === 'Data',
    );
  });

  it('authorises with the customer and accounts, audited as the PSU', async () => {
    const { ctx, clock } = await setup();
    const created = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    clock.advance(60_000);
    const intent = await authorise(ctx, created.id, {
      customerId: 'cust-1',
      accountIds: ['acc-1', 'acc-2', 'acc-1'],
    });
    assert.equal(intent.status, 'Authorised');
    assert.equal(intent.customerId, 'cust-1');
    assert.deepEqual(intent.accountIds, ['acc-1', 'acc-2']);
    assert.deepEqual(intent.authorisedAt, clock.now());
    assert.deepEqual(intent.statusUpdatedAt, clock.now());
    const audit = await listAudit(ctx.db, intent.id);
    assert.deepEqual(
      audit.map((entry) => [entry.event, entry.actor, entry.from, entry.to]),
      [
        ['created', 'tpp', undefined, 'AwaitingAuthorisation'],
        ['authorised', 'psu', 'AwaitingAuthorisation', 'Authorised'],
      ],
    );
    assert.deepEqual(audit[1]!.at, clock.now());
    assert.match(audit[1]!.detail ?? '', /cust-1/);
  });

  it('refuses every transition the lifecycle does not allow', async () => {
    const { ctx, rctx } = await setup();
    const aac = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    const pdc = await createIntent(ctx, {
      kind: 'domestic-payment',
      clientId: 'c',
      data: domesticPaymentData(),
      risk: {},
    });
    await refused(consume(ctx, pdc.id), 'wrong_status'); // not yet authorised
    await refused(recordUse(ctx, aac.id), 'wrong_status');
    await refused(authorise(ctx, pdc.id, { customerId: 'x', accountIds: ['a', 'b'] }), 'invalid_accounts');
    await refused(authorise(ctx, aac.id, { customerId: 'x', accountIds: [] }), 'invalid_accounts');
    await refused(authorise(ctx, 'aac-missing', { customerId: 'x', accountIds: ['a'] }), 'not_found');
    await authorise(ctx, aac.id, { customerId: 'x', accountIds: ['a'] });
    await authorise(ctx, pdc.id, { customerId: 'x', accountIds: ['a'] });
    await refused(authorise(ctx, aac.id, { customerId: 'y', accountIds: ['b'] }), 'wrong_status');
    await refused(reject(ctx, aac.id), 'wrong_status');
    await refused(consume(ctx, aac.id), 'not_allowed_for_kind'); // account access is never consumed
    await refused(revoke(rctx, pdc.id), 'not_allowed_for_kind'); // a payment consent is never revoked
    // Answers nothing (was the consumed intent, read back and mapped, which its one caller never used).
    assert.equal(await consume(ctx, pdc.id, { detail: 'payment p-1' }), undefined);
    assert.equal((await getIntent(ctx.db, pdc.id))?.status, 'Consumed');
    await refused(consume(ctx, pdc.id), 'wrong_status');
    const rejected = await createIntent(ctx, {
      kind: 'domestic-payment',
      clientId: 'c',
      data: domesticPaymentData(),
      risk: {},
    });
    await reject(ctx, rejected.id, { detail: 'customer said no' });
    await refused(authorise(ctx, rejected.id, { customerId: 'x', accountIds: ['a'] }), 'wrong_status');
    await revoke(rctx, aac.id);
    await refused(authorise(ctx, aac.id, { customerId: 'x', accountIds: ['a'] }), 'wrong_status');
    await refused(recordUse(ctx, aac.id), 'wrong_status');
    assert.equal((await getIntent(ctx.db, aac.id))!.status, 'Revoked');
    assert.equal((await getIntent(ctx.db, rejected.id))!.status, 'Rejected');
  });

  it('takes a file payment through AwaitingUpload before it can be authorised', async () => {
    const { ctx } = await setup();
    const pfc = await createIntent(ctx, {
      kind: 'file-payment',
      clientId: 'c',
      data: {
        Initiation: {
          FileType: 'UK.OBIE.PaymentInitiation.3.1',
          FileHash: 'abc',
          NumberOfTransactions: '2',
          ControlSum: 20,
        },
      },
      risk: {},
    });
    await refused(authorise(ctx, pfc.id, { customerId: 'x', accountIds: ['a'] }), 'wrong_status');
    const uploaded = await markFileUploaded(ctx, pfc.id, 'file of 2 payments');
    assert.equal(uploaded.status, 'AwaitingAuthorisation');
    await refused(markFileUploaded(ctx, pfc.id), 'wrong_status');
    const aac = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    await refused(markFileUploaded(ctx, aac.id), 'not_allowed_for_kind');
    assert.equal((await authorise(ctx, pfc.id, { customerId: 'x', accountIds: ['a'] })).status, 'Authorised');
    assert.deepEqual(
      (await listAudit(ctx.db, pfc.id)).map((e) => `${e.event}:${e.from ?? ''}>${e.to ?? ''}`),
      [
        'created:>AwaitingUpload',
        'uploaded:AwaitingUpload>AwaitingAuthorisation',
        'authorised:AwaitingAuthorisation>Authorised',
      ],
    );
  });

  it('lets exactly one of many racing approvals win', async () => {
    const { ctx } = await setup();
    const intent = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    const racers = Array.from({ length: 12 }, (_, i) =>
      authorise(ctx, intent.id, { customerId: `cust-${i}`, accountIds: [`acc-${i}`] }),
    );
    const results = await Promise.allSettled(racers);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 11);
    for (const loss of lost) {
      assert.ok(loss.reason instanceof IntentTransitionError);
      assert.equal(loss.reason.reason, 'wrong_status');
    }
    const winner = (won[0] as PromiseFulfilledResult<Awaited<(typeof racers)[number]>>).value;
    const stored = (await getIntent(ctx.db, intent.id))!;
    assert.equal(stored.customerId, winner.customerId);
    assert.deepEqual(stored.accountIds, winner.accountIds);
    const authorisations = (await listAudit(ctx.db, intent.id)).filter((e) => e.event === 'authorised');
    assert.equal(authorisations.length, 1);
  });

  it('lets exactly one of an approval and a rejection racing win, and one of two consumptions', async () => {
    const { ctx } = await setup();
    for (let round = 0; round < 5; round += 1) {
      const intent = await createIntent(ctx, {
        kind: 'domestic-payment',
        clientId: 'c',
        data: domesticPaymentData(),
        risk: {},
      });
      const results = await Promise.allSettled([
        authorise(ctx, intent.id, { customerId: 'x', accountIds: ['a'] }),
        reject(ctx, intent.id),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const stored = (await getIntent(ctx.db, intent.id))!;
      assert.ok(stored.status === 'Authorised' || stored.status === 'Rejected');
      assert.equal((await listAudit(ctx.db, intent.id)).length, 2);
      if (stored.status === 'Authorised') {
        const consumptions = await Promise.allSettled([consume(ctx, intent.id), consume(ctx, intent.id)]);
        assert.equal(consumptions.filter((r) => r.status === 'fulfilled').length, 1);
      }
    }
  });

  it('expires by the injected clock: no authorisation, use or consumption after ExpirationDateTime', async () => {
    const { ctx, clock } = await setup();
    const late = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData('2026-01-01T10:00:00Z'),
      risk: {},
    });
    assert.equal(isExpired(late, clock.now()), false);
    clock.set('2026-01-01T10:00:00Z');
    assert.equal(isExpired(late, clock.now()), true, 'expired at the instant itself');
    await refused(authorise(ctx, late.id, { customerId: 'x', accountIds: ['a'] }), 'expired');
    const check = checkIntentAuthorisable(late, 'c', ['openid', 'accounts'], clock.now());
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.reason, 'expired');

    clock.set('2026-01-01T09:00:00Z');
    const used = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData('2026-01-01T12:00:00Z'),
      risk: {},
    });
    const authorised = await authorise(ctx, used.id, { customerId: 'x', accountIds: ['a'] });
    assert.equal(isUsable(authorised, clock.now()), true);
    clock.advance(HOUR);
    const afterUse = await recordUse(ctx, used.id, 'GET /accounts');
    assert.deepEqual(afterUse.lastUsedAt, clock.now());
    clock.advance(2 * HOUR);
    assert.equal(isUsable(afterUse, clock.now()), false);
    await refused(recordUse(ctx, used.id), 'expired');
    assert.equal((await getIntent(ctx.db, used.id))!.status, 'Authorised', 'expiry is evaluated, not stored');

    const vrp = await createIntent(ctx, {
      kind: 'domestic-vrp',
      clientId: 'c',
      data: vrpData('2026-01-02T00:00:00Z'),
      risk: {},
    });
    await authorise(ctx, vrp.id, { customerId: 'x', accountIds: ['a'] });
    clock.set('2026-01-03T00:00:00Z');
    await refused(recordUse(ctx, vrp.id), 'expired');
  });

  it('records each use with time and detail, and lists a customer’s intents newest first', async () => {
    const { ctx, clock } = await setup();
    const first = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c1',
      data: accountAccessData(),
      risk: {},
    });
    clock.advance(1000);
    const second = await createIntent(ctx, {
      kind: 'funds-confirmation',
      clientId: 'c2',
      data: fundsConfirmationData('1'),
      risk: {},
    });
    const other = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c1',
      data: accountAccessData(),
      risk: {},
    });
    await authorise(ctx, first.id, { customerId: 'alice', accountIds: ['a'] });
    await authorise(ctx, second.id, { customerId: 'alice', accountIds: ['a'] });
    await authorise(ctx, other.id, { customerId: 'bob', accountIds: ['b'] });
    await recordUse(ctx, first.id, 'GET /accounts');
    await recordUse(ctx, first.id, 'GET /balances');
    const audit = await listAudit(ctx.db, first.id);
    assert.deepEqual(
      audit.filter((e) => e.event === 'used').map((e) => e.detail),
      ['GET /accounts', 'GET /balances'],
    );
    const listed = await listIntentsForCustomer(ctx.db, 'alice');
    assert.deepEqual(
      listed.map((i) => i.id),
      [second.id, first.id],
    );
    assert.deepEqual(await listIntentsForCustomer(ctx.db, 'alice', { statuses: ['Revoked'] }), []);
    assert.equal(await getIntentForClient(ctx.db, first.id, 'c2'), undefined);
    assert.equal((await getIntentForClient(ctx.db, first.id, 'c1'))?.id, first.id);
  });

  it('revokes through the notifier hook, idempotently, and the store notifier publishes the intent id', async () => {
    const { ctx, rctx, revoked, store } = await setup();
    const aac = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    await authorise(ctx, aac.id, { customerId: 'x', accountIds: ['a'] });
    const result = await revoke(rctx, aac.id, { actor: 'tpp', detail: 'DELETE by TPP' });
    assert.equal(result.status, 'Revoked');
    assert.deepEqual(revoked, [aac.id]);
    const again = await revoke(rctx, aac.id, { actor: 'tpp' });
    assert.equal(again.status, 'Revoked');
    assert.deepEqual(revoked, [aac.id, aac.id], 'a retry notifies again');
    const revocations = (await listAudit(ctx.db, aac.id)).filter((e) => e.event === 'revoked');
    assert.equal(revocations.length, 1);
    assert.equal(revocations[0]!.actor, 'tpp');
    assert.equal(revocations[0]!.from, 'Authorised');

    // A notifier that fails is reported to the caller; the revocation itself stays stored.
    const cof = await createIntent(ctx, {
      kind: 'funds-confirmation',
      clientId: 'c',
      data: fundsConfirmationData('1'),
      risk: {},
    });
    await authorise(ctx, cof.id, { customerId: 'x', accountIds: ['a'] });
    await assert.rejects(
      revoke({ ...ctx, notifyRevoked: async () => Promise.reject(new Error('bus down')) }, cof.id),
      /bus down/,
    );
    assert.equal((await getIntent(ctx.db, cof.id))!.status, 'Revoked');

    let hear: (payload: string) => void = () => undefined;
    const heard = new Promise<string>((resolve) => (hear = resolve));
    await store.listen(CONSENT_REVOKED_CHANNEL, (payload) => hear(payload));
    const vrp = await createIntent(ctx, { kind: 'domestic-vrp', clientId: 'c', data: vrpData(), risk: {} });
    await authorise(ctx, vrp.id, { customerId: 'x', accountIds: ['a'] });
    await revoke({ ...ctx, notifyRevoked: storeRevocationNotifier(store) }, vrp.id);
    assert.equal(await heard, vrp.id);
  });

  it('checks whether an intent may be authorised, with typed reasons', async () => {
    const { ctx, clock } = await setup();
    const now = clock.now();
    const aac = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    const pdc = await createIntent(ctx, {
      kind: 'domestic-payment',
      clientId: 'c',
      data: domesticPaymentData(),
      risk: {},
    });
    const cof = await createIntent(ctx, {
      kind: 'funds-confirmation',
      clientId: 'c',
      data: fundsConfirmationData('1'),
      risk: {},
    });
    const vrp = await createIntent(ctx, { kind: 'domestic-vrp', clientId: 'c', data: vrpData(), risk: {} });
    const reason = (
      intent: Parameters<typeof checkIntentAuthorisable>[0],
      client: string,
      scopes: string[],
    ) => {
      const check = checkIntentAuthorisable(intent, client, scopes, now);
      return check.ok ? 'ok' : check.reason;
    };
    assert.equal(reason(aac, 'c', ['openid', 'accounts']), 'ok');
    assert.equal(reason(pdc, 'c', ['openid', 'payments']), 'ok');
    assert.equal(reason(vrp, 'c', ['openid', 'payments']), 'ok');
    assert.equal(reason(cof, 'c', ['openid', 'fundsconfirmations']), 'ok');
    assert.equal(reason(undefined, 'c', ['openid', 'accounts']), 'not_found');
    assert.equal(reason(aac, 'other', ['openid', 'accounts']), 'wrong_client');
    assert.equal(reason(aac, 'c', ['openid', 'payments']), 'scope_mismatch');
    assert.equal(reason(aac, 'c', ['openid', 'accounts', 'payments']), 'scope_mismatch');
    assert.equal(reason(pdc, 'c', ['openid', 'fundsconfirmations']), 'scope_mismatch');
    assert.equal(reason(cof, 'c', ['openid']), 'scope_mismatch');
    const authorised = await authorise(ctx, aac.id, { customerId: 'x', accountIds: ['a'] });
    assert.equal(reason(authorised, 'c', ['openid', 'accounts']), 'not_awaiting_authorisation');
    assert.throws(
      () => assertIntentAuthorisable(authorised, 'c', ['openid', 'accounts'], now),
      (error: unknown) =>
        error instanceof IntentNotAuthorisableError && error.reason === 'not_awaiting_authorisation',
    );
    assert.equal(assertIntentAuthorisable(pdc, 'c', ['payments', 'openid'], now).id, pdc.id);

    const deadline = await stagePaymentDueBy(ctx, '2026-01-01T09:30:00Z');
    assert.equal(reason(deadline, 'c', ['openid', 'payments']), 'ok');
    assert.equal(
      checkIntentAuthorisable(deadline, 'c', ['payments'], new Date('2026-01-01T09:31:00Z')).ok,
      false,
    );
  });

  it('reads Data.Authorisation.CompletionDateTime once, at staging (authoriseBy); consents staged before the column get it from the migration', async () => {
    const { store, ctx } = await setup();
    const paymentBy = (completion: unknown) => stagePaymentDueBy(ctx, completion, 'Any');
    const staged = await paymentBy('2026-01-01T10:30:00+01:00');
    assert.equal(staged.authoriseBy?.toISOString(), '2026-01-01T09:30:00.000Z');
    assert.equal(
      (await getIntent(store.db, staged.id))?.authoriseBy?.toISOString(),
      '2026-01-01T09:30:00.000Z',
    );
    assert.equal(
      (
        await createIntent(ctx, {
          kind: 'domestic-payment',
          clientId: 'c',
          data: domesticPaymentData(),
          risk: {},
        })
      ).authoriseBy,
      undefined,
    );
    // A deadline that is no date-time is refused at staging, not ignored.
    await assert.rejects(paymentBy('2026-13-45T25:00:00Z'), (error: unknown) => {
      assert.ok(error instanceof IntentInputError);
      assert.equal(error.path, 'Data.Authorisation.CompletionDateTime');
      return true;
    });
    // The migration's backfill, run again on rows as they were before the column: the same instant, and a
    // value that is no date-time (which the API never let in) left without a deadline instead of failing.
    const backfill = readFileSync(join(migrationsFolder, '0014_consent_authorise_by.sql'), 'utf8').split(
      '--> statement-breakpoint',
    )[1]!;
    const odd = await paymentBy('2026-01-01T11:00:00Z');
    await store.db.execute(
      sql`update consent_intents set authorise_by = null where id in (${staged.id}, ${odd.id})`,
    );
    await store.db.execute(
      sql`update consent_intents set data = jsonb_set(data, '{Authorisation,CompletionDateTime}', '"not a date"') where id = ${odd.id}`,
    );
    await store.db.execute(sql.raw(backfill));
    assert.equal(
      (await getIntent(store.db, staged.id))?.authoriseBy?.toISOString(),
      '2026-01-01T09:30:00.000Z',
    );
    assert.equal((await getIntent(store.db, odd.id))?.authoriseBy, undefined);
  });

  it('refuses the authorise step itself past Data.Authorisation.CompletionDateTime, even when the check before it passed', async () => {
    const { ctx, clock } = await setup();
    const staged = await stagePaymentDueBy(ctx, '2026-01-01T09:30:00Z');
    // The consent app checked it in time; the PSU's approval arrives after the deadline.
    assert.equal(checkIntentAuthorisable(staged, 'c', ['openid', 'payments'], clock.now()).ok, true);
    clock.advance(30 * 60_000);
    await refused(authorise(ctx, staged.id, { customerId: 'x', accountIds: ['a'] }), 'expired');
    assert.equal((await getIntent(ctx.db, staged.id))?.status, 'AwaitingAuthorisation');
    // Just before it, the same step goes through.
    const inTime = await stagePaymentDueBy(ctx, '2026-01-01T09:30:00.001Z');
    assert.equal(
      (await authorise(ctx, inTime.id, { customerId: 'x', accountIds: ['a'] })).status,
      'Authorised',
    );
  });

  it('re-authentication is accepted only for an Authorised, unexpired account-access or VRP consent', async () => {
    const { ctx, clock, rctx } = await setup();
    const scopesOf = { accounts: ['openid', 'accounts'], payments: ['openid', 'payments'] } as const;
    const check = (intent: Parameters<typeof checkIntentAuthorisable>[0], scopes: readonly string[]) => {
      const result = checkIntentAuthorisable(intent, 'c', scopes, clock.now(), { reauthentication: true });
      return result.ok ? (result.reauthentication ? 'reauthentication' : 'authorisation') : result.reason;
    };
    const staged = async (kind: IntentKind) =>
      createIntent(ctx, { kind, clientId: 'c', data: dataFor(kind), risk: {} });
    const aac = await authorise(ctx, (await staged('account-access')).id, {
      customerId: 'alice',
      accountIds: ['a1', 'a2'],
    });
    const vrp = await authorise(ctx, (await staged('domestic-vrp')).id, {
      customerId: 'alice',
      accountIds: ['a1'],
    });
    assert.equal(check(aac, scopesOf.accounts), 'reauthentication');
    assert.equal(check(vrp, scopesOf.payments), 'reauthentication');
    // Without the option (the decoupled flow) an Authorised consent is refused as before.
    assert.equal(checkIntentAuthorisable(aac, 'c', scopesOf.accounts, clock.now()).ok, false);
    // A first authorisation is not a re-authentication.
    assert.equal(check(await staged('account-access'), scopesOf.accounts), 'authorisation');
    assert.equal(check(aac, scopesOf.payments), 'scope_mismatch');

    // Single-use payment consents never: Authorised (not yet consumed) nor Consumed.
    const payment = await authorise(ctx, (await staged('domestic-payment')).id, {
      customerId: 'alice',
      accountIds: ['a1'],
    });
    assert.equal(check(payment, scopesOf.payments), 'not_awaiting_authorisation');
    await consume(ctx, payment.id);
    const consumed = (await getIntent(ctx.db, payment.id))!;
    assert.equal(check(consumed, scopesOf.payments), 'not_awaiting_authorisation');
    // Funds confirmation: left to the bank by its profile; this bank does not offer it.
    const cof = await authorise(ctx, (await staged('funds-confirmation')).id, {
      customerId: 'alice',
      accountIds: ['a1'],
    });
    assert.equal(check(cof, ['openid', 'fundsconfirmations']), 'not_awaiting_authorisation');
    // Rejected and Revoked consents are over.
    const rejected = await reject(ctx, (await staged('account-access')).id);
    assert.equal(check(rejected, scopesOf.accounts), 'not_awaiting_authorisation');
    const revoked = await revoke(rctx, aac.id, { actor: 'tpp' });
    assert.equal(check(revoked, scopesOf.accounts), 'not_awaiting_authorisation');
    // "The ExpirationDateTime of the account-access-consent, if specified, has not elapsed."
    clock.set(new Date('2027-01-01T00:00:00Z'));
    assert.equal(check(vrp, scopesOf.payments), 'expired');
  });

  it('reauthenticate keeps the consent Authorised with its id, PSU, accounts and dates, and audits it', async () => {
    const { ctx, clock } = await setup();
    const staged = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    const authorised = await authorise(ctx, staged.id, { customerId: 'alice', accountIds: ['a1', 'a2'] });
    clock.advance(HOUR);
    await refused(reauthenticate(ctx, staged.id, { customerId: 'bob' }), 'wrong_customer');
    const again = await reauthenticate(ctx, staged.id, { customerId: 'alice' });
    assert.equal(again.id, staged.id);
    assert.equal(again.status, 'Authorised');
    assert.equal(again.customerId, 'alice');
    assert.deepEqual(again.accountIds, ['a1', 'a2']);
    assert.deepEqual(again.authorisedAt, authorised.authorisedAt);
    assert.deepEqual(again.permissions, authorised.permissions);
    assert.deepEqual(again.expiresAt, authorised.expiresAt);
    assert.deepEqual(again.statusUpdatedAt, clock.now());
    const audit = await listAudit(ctx.db, staged.id);
    assert.deepEqual(
      audit.map((entry) => [entry.event, entry.from, entry.to, entry.actor]),
      [
        ['created', undefined, 'AwaitingAuthorisation', 'tpp'],
        ['authorised', 'AwaitingAuthorisation', 'Authorised', 'psu'],
        ['reauthenticated', 'Authorised', 'Authorised', 'psu'],
      ],
    );

    const waiting = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: accountAccessData(),
      risk: {},
    });
    await refused(reauthenticate(ctx, waiting.id, { customerId: 'alice' }), 'wrong_status');
    const payment = await createIntent(ctx, {
      kind: 'domestic-payment',
      clientId: 'c',
      data: domesticPaymentData(),
      risk: {},
    });
    await authorise(ctx, payment.id, { customerId: 'alice', accountIds: ['a1'] });
    await refused(reauthenticate(ctx, payment.id, { customerId: 'alice' }), 'not_allowed_for_kind');
    await refused(reauthenticate(ctx, 'aac-missing', { customerId: 'alice' }), 'not_found');
    clock.set(new Date('2026-07-01T00:00:00Z'));
    await refused(reauthenticate(ctx, staged.id, { customerId: 'alice' }), 'expired');
    assert.equal((await listAudit(ctx.db, staged.id)).length, 3, 'no row for a refused re-authentication');
  });

  it('access withdrawn at the bank: account access and VRP stay Authorised but unusable until re-authenticated; funds confirmation is revoked', async () => {
    const { ctx, clock, rctx, revoked } = await setup();
    const authorised = async (kind: IntentKind) => {
      const staged = await createIntent(ctx, { kind, clientId: 'c', data: dataFor(kind), risk: {} });
      return authorise(ctx, staged.id, { customerId: 'alice', accountIds: ['a1'] });
    };
    for (const kind of ['account-access', 'domestic-vrp'] as const) {
      const intent = await authorised(kind);
      clock.advance(HOUR);
      const withdrawn = await withdrawAccess(rctx, intent.id, { detail: 'in the dashboard' });
      assert.equal(withdrawn.status, 'Authorised', `${kind}: the status "must remain unchanged"`);
      assert.deepEqual(withdrawn.accessWithdrawnAt, clock.now());
      assert.deepEqual(withdrawn.statusUpdatedAt, clock.now());
      assert.deepEqual(await getIntent(ctx.db, intent.id), withdrawn);
      assert.equal(isUsable(withdrawn, clock.now()), false, 'no token may be issued or used on it');
      assert.deepEqual(revoked.at(-1), intent.id, 'every token resting on it dies');
      await refused(recordUse(ctx, intent.id), 'wrong_status');
      // Re-authentication (redirect flow) is offered; the decoupled flow still refuses an Authorised consent.
      const scopes = ['openid', KIND_INFO[kind].scope];
      const check = checkIntentAuthorisable(withdrawn, 'c', scopes, clock.now(), { reauthentication: true });
      assert.ok(check.ok && check.reauthentication);
      assert.equal(checkIntentAuthorisable(withdrawn, 'c', scopes, clock.now()).ok, false);
      // A retry changes nothing and notifies again.
      const count = revoked.length;
      assert.deepEqual(await withdrawAccess(rctx, intent.id), withdrawn);
      assert.equal(revoked.length, count + 1);
      clock.advance(HOUR);
      await refused(reauthenticate(ctx, intent.id, { customerId: 'bob' }), 'wrong_customer');
      const back = await reauthenticate(ctx, intent.id, { customerId: 'alice' });
      assert.equal(back.accessWithdrawnAt, undefined);
      assert.equal(isUsable(back, clock.now()), true);
      assert.deepEqual(
        (await listAudit(ctx.db, intent.id)).map((entry) => [entry.event, entry.from, entry.to, entry.actor]),
        [
          ['created', undefined, 'AwaitingAuthorisation', 'tpp'],
          ['authorised', 'AwaitingAuthorisation', 'Authorised', 'psu'],
          ['access-withdrawn', 'Authorised', 'Authorised', 'psu'],
          ['reauthenticated', 'Authorised', 'Authorised', 'psu'],
        ],
      );
      // The TPP's DELETE of a withdrawn consent still ends it.
      await withdrawAccess(rctx, intent.id);
      assert.equal((await revoke(rctx, intent.id, { actor: 'tpp' })).status, 'Revoked');
      // Withdrawing a Revoked consent changes nothing and notifies again, as revoking it again does.
      const notified = revoked.length;
      assert.equal((await withdrawAccess(rctx, intent.id)).status, 'Revoked');
      assert.equal(revoked.length, notified + 1);
    }
    const cof = await authorised('funds-confirmation');
    const revokedCof = await withdrawAccess(rctx, cof.id);
    assert.equal(revokedCof.status, 'Revoked');
    assert.equal(revokedCof.accessWithdrawnAt, undefined);
    assert.equal((await listAudit(ctx.db, cof.id)).at(-1)!.event, 'revoked');
    // Only an Authorised consent: an awaiting one is not the customer's to withdraw.
    const waiting = await createIntent(ctx, {
      kind: 'account-access',
      clientId: 'c',
      data: dataFor('account-access'),
      risk: {},
    });
    await refused(withdrawAccess(rctx, waiting.id), 'wrong_status');
    await refused(withdrawAccess(rctx, 'aac-missing'), 'not_found');
  });

  it('migrates an authorised intent to a newer version: new Data, Risk and version, same status and PSU', async () => {
    const { ctx, clock } = await setup();
    const created = await createIntent(ctx, {
      kind: 'domestic-vrp',
      clientId: 'c',
      data: vrpData(),
      risk: {},
    });
    const migration = {
      fromVersion: 'v3.1.11',
      toVersion: 'v4.0',
      data: { ...vrpData(), Initiation: { migrated: true } },
      risk: { ContractPresentIndicator: true },
    };
    await refused(migrateIntent(ctx, created.id, migration), 'wrong_status');
    const authorised = await authorise(ctx, created.id, { customerId: 'cust-1', accountIds: ['acc-1'] });
    clock.advance(60_000);
    const migrated = await migrateIntent(ctx, created.id, migration);
    assert.equal(migrated.apiVersion, 'v4.0');
    assert.equal(migrated.status, 'Authorised');
    assert.deepEqual(migrated.statusUpdatedAt, authorised.statusUpdatedAt);
    assert.equal(migrated.customerId, 'cust-1');
    assert.deepEqual(migrated.accountIds, ['acc-1']);
    assert.deepEqual(migrated.expiresAt, authorised.expiresAt);
    assert.deepEqual(migrated.data.Initiation, { migrated: true });
    assert.deepEqual(migrated.risk, { ContractPresentIndicator: true });
    const last = (await listAudit(ctx.db, created.id)).at(-1)!;
    assert.deepEqual(
      [last.event, last.actor, last.from, last.to],
      ['migrated', 'tpp', 'Authorised', 'Authorised'],
    );
    // Already moved: a second migration from the old version is refused, and nothing changes.
    await refused(migrateIntent(ctx, created.id, { ...migration, risk: {} }), 'wrong_status');
    assert.deepEqual((await getIntent(ctx.db, created.id))!.risk, { ContractPresentIndicator: true });
    await refused(migrateIntent(ctx, 'dvrp-missing', migration), 'not_found');
  });
});
