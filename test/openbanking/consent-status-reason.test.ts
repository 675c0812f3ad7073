import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorise,
  createIntent,
  reject,
  revoke,
  type Actor,
  type ConsentContext,
  type IntentKind,
  type JsonObject,
} from '../../src/consent/index.ts';
import { consentStatusReason } from '../../src/openbanking/http/consent-status-reason.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { accountAccessData, fundsConfirmationData } from '../consent/fixtures.ts';
import { AIS_V4_0, COF_V4_0, validateComponent } from '../support/openapi.ts';
import { createTestStore } from '../support/store.ts';

/**
 * `Data.StatusReason` of v4.0 consents: given from the actor the store recorded on the transition into
 * Rejected or Revoked, or the expiry of a consent read EXPD, valid against OBStatusReason of the AIS and
 * CoF files, and absent where there is no reason (awaiting, authorised, before expiry), where the store
 * recorded none it can say, and on v3.1.11.
 */
describe('consent status reasons (v4.0)', async () => {
  const store = await createTestStore();
  const ctx: ConsentContext = { db: store.db, clock: new ManualClock('2026-01-01T09:00:00Z') };
  const rctx = { ...ctx, notifyRevoked: async () => undefined };
  const KINDS: { kind: IntentKind; data: () => JsonObject; spec: string }[] = [
    { kind: 'account-access', data: () => accountAccessData(), spec: AIS_V4_0 },
    { kind: 'funds-confirmation', data: () => fundsConfirmationData('30992112345678'), spec: COF_V4_0 },
  ];
  const staged = (kind: IntentKind, data: JsonObject) =>
    createIntent(ctx, { kind, clientId: 'client-1', data, risk: {}, apiVersion: 'v4.0' });
  const authorised = async (kind: IntentKind, data: JsonObject) => {
    const intent = await staged(kind, data);
    return authorise(ctx, intent.id, { customerId: 'cust-1', accountIds: ['acc-1'] });
  };

  for (const { kind, data, spec } of KINDS) {
    it(`${kind}: the reason of each recorded rejection and withdrawal, valid against OBStatusReason`, async () => {
      const cases: { actor: Actor; status: 'Rejected' | 'Revoked'; expected: string }[] = [
        {
          actor: 'psu',
          status: 'Rejected',
          expected: 'The PSU declined to authorise the consent at the ASPSP.',
        },
        { actor: 'psu', status: 'Revoked', expected: 'The PSU withdrew the consent at the ASPSP.' },
        { actor: 'tpp', status: 'Revoked', expected: 'The TPP deleted the consent.' },
        {
          actor: 'system',
          status: 'Revoked',
          expected: 'The ASPSP withdrew the consent: its authorisation could not be completed.',
        },
      ];
      for (const { actor, status, expected } of cases) {
        const intent =
          status === 'Rejected'
            ? await reject(ctx, (await staged(kind, data())).id, { actor })
            : await revoke(rctx, (await authorised(kind, data())).id, { actor });
        const reasons = await consentStatusReason(store.db, intent, 'v4.0', ctx.clock.now());
        assert.deepEqual(reasons, [{ StatusReasonDescription: expected }], `${actor} ${status}`);
        const component = validateComponent(spec, 'OBStatusReason', reasons![0]);
        assert.ok(component.valid, component.errors.join('\n'));
        assert.equal(
          await consentStatusReason(store.db, intent, 'v3.1.11', ctx.clock.now()),
          undefined,
          'none on v3.1.11',
        );
      }
    });

    it(`${kind}: no reason while awaiting or authorised, nor one the store did not record`, async () => {
      const awaiting = await staged(kind, data());
      assert.equal(await consentStatusReason(store.db, awaiting, 'v4.0', ctx.clock.now()), undefined);
      const live = await authorised(kind, data());
      assert.equal(await consentStatusReason(store.db, live, 'v4.0', ctx.clock.now()), undefined);
      // A rejection by the TPP is not one the bank's flows make: no reason is invented for it.
      const odd = await reject(ctx, (await staged(kind, data())).id, { actor: 'tpp' });
      assert.equal(odd.status, 'Rejected');
      assert.equal(await consentStatusReason(store.db, odd, 'v4.0', ctx.clock.now()), undefined);
    });

    it(`${kind}: past its expiry (read EXPD on v4.0) the reason is the expiry, awaiting or authorised`, async () => {
      const pastExpiry = new Date('2026-07-01T00:00:00Z'); // the fixtures expire on 30 June 2026
      const expired = [
        {
          StatusReasonDescription:
            'The consent passed its expiry date: it can no longer be authorised or used.',
        },
      ];
      for (const intent of [await staged(kind, data()), await authorised(kind, data())]) {
        const reasons = await consentStatusReason(store.db, intent, 'v4.0', pastExpiry);
        assert.deepEqual(reasons, expired, intent.status);
        const component = validateComponent(spec, 'OBStatusReason', reasons![0]);
        assert.ok(component.valid, component.errors.join('\n'));
        assert.equal(await consentStatusReason(store.db, intent, 'v3.1.11', pastExpiry), undefined);
      }
      // A consent ended before its expiry keeps the reason of what ended it.
      const withdrawn = await revoke(rctx, (await authorised(kind, data())).id, { actor: 'tpp' });
      assert.deepEqual(await consentStatusReason(store.db, withdrawn, 'v4.0', pastExpiry), [
        { StatusReasonDescription: 'The TPP deleted the consent.' },
      ]);
    });
  }
});
