import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import type { Intent } from '../../src/consent/index.ts';
import { ObError } from '../../src/openbanking/errors.ts';
import type { AccessTokenView, GuardDependencies, GuardState } from '../../src/openbanking/guard/index.ts';
import { submissionChecks } from '../../src/openbanking/pis/common.ts';
import { ManualClock } from '../../src/shared/clock.ts';

const clock = new ManualClock('2026-03-01T10:00:00Z');

const vrpConsent = (overrides: Partial<Intent> = {}): Intent => ({
  id: 'dvrp-1',
  kind: 'domestic-vrp',
  clientId: 'client-a',
  status: 'Authorised',
  statusUpdatedAt: clock.now(),
  data: {},
  risk: {},
  permissions: [],
  expiresAt: undefined,
  customerId: 'cust-1',
  accountIds: ['acc-1'],
  createdAt: clock.now(),
  authorisedAt: clock.now(),
  lastUsedAt: undefined,
  ...overrides,
});

const token: AccessTokenView = {
  clientId: 'client-a',
  scopes: new Set(['payments']),
  grantType: 'authorization_code',
  certificateThumbprint: undefined,
  intentId: 'dvrp-1',
  customerId: 'cust-1',
  expiresAt: new Date('2026-03-01T11:00:00Z'),
  roles: ['PISP'],
};

/** Runs a VRP payment call's consent check (its last) against one stored consent; the refusal's message, or undefined. */
async function refusalFor(consent: Intent): Promise<string | undefined> {
  const dependencies = {
    clock,
    intents: { find: () => consent },
  } as unknown as GuardDependencies;
  const state: GuardState = { request: {} as FastifyRequest, clock, token };
  try {
    const consentCheck = submissionChecks(['domestic-vrp'], false, 'vrp').at(-1);
    assert.ok(consentCheck);
    await consentCheck.run(state, dependencies);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ObError);
    assert.equal(error.status, 403);
    assert.equal(error.errors[0].ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    return error.errors[0].Message;
  }
}

describe('a payment call’s consent check (PIS, VRP)', () => {
  it('accepts an Authorised VRP consent of the token’s client and customer', async () => {
    assert.equal(await refusalFor(vrpConsent()), undefined);
  });

  it('refuses a VRP consent whose access the PSU withdrew at the bank, while a token on it still lives', async () => {
    // The consent stays Authorised (re-authenticatable); its tokens die after the withdrawal's commit.
    const message = await refusalFor(vrpConsent({ accessWithdrawnAt: new Date('2026-03-01T09:59:00Z') }));
    assert.match(message ?? '', /withdrew access/);
  });
});
