import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkIntentAuthorisable } from '../../authorisable.ts';
import { eligibleAccounts } from '../../customers.ts';
import {
  authorise,
  getIntent,
  IntentTransitionError,
  reauthenticate,
  reject,
  type Intent,
} from '../../intents.ts';
import type { InteractionDetails } from '../../interaction-bridge.ts';
import { KIND_INFO } from '../../kinds.ts';
import { acrFor } from './login.ts';
import { UID, type InteractionScope } from './scope.ts';

const HEADLESS_BODY = z.object({
  username: z.string().trim().min(1).max(128),
  decision: z.enum(['approve', 'reject']),
  accounts: z.array(z.string().min(1).max(128)).max(100).optional(),
});

/** Before the body is read: a disabled sandbox feature answers 404 to anything. */
export function headlessGate(scope: InteractionScope) {
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!scope.headlessApproval) {
      await reply.code(404).send({ error: 'not_found', error_description: 'headless approval is disabled' });
    }
  };
}

/**
 * `POST /:uid/sandbox-approve` (sandbox only): a TPP's CI approves or rejects as a named customer, in JSON,
 * without the pages; errors are OAuth-style JSON bodies.
 */
export function sandboxApprove(scope: InteractionScope) {
  const { ctx, clock, customers, bridge } = scope;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const uid = (request.params as { uid?: string }).uid;
    const body = HEADLESS_BODY.safeParse(request.body);
    if (!uid || !UID.test(uid) || !body.success) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description:
          'expected JSON { "username": string, "decision": "approve"|"reject", "accounts"?: string[] }',
      });
    }
    let details: InteractionDetails;
    try {
      details = await bridge.details(request.raw, reply.raw);
      if (details.uid !== uid) throw new Error('interaction uid mismatch');
    } catch {
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'no live interaction (send its cookies)' });
    }
    const intent = await getIntent(ctx.db, details.intentId);
    const check = checkIntentAuthorisable(intent, details.clientId, details.scopes, clock.now(), {
      reauthentication: true,
    });
    if (!check.ok) return reply.code(409).send({ error: check.reason, error_description: check.message });
    // The customer and their accounts in one statement (the accounts are needed unless rejecting).
    const found = await customers.findCustomerWithAccounts({ username: body.data.username });
    if (!found) return reply.code(400).send({ error: 'unknown_user', error_description: 'no such customer' });
    const { customer } = found;
    if (details.prompt === 'consent' && details.customerId !== customer.id) {
      return reply
        .code(409)
        .send({ error: 'wrong_user', error_description: 'the interaction is logged in as another customer' });
    }
    const login = { customerId: customer.id, acr: acrFor(details), amr: ['pwd', 'otp', 'mfa'] };
    if (check.reauthentication) {
      // As the consent page: the customer who authorised it confirms it again, with its accounts unchanged;
      // declining leaves it Authorised.
      if (check.intent.customerId !== customer.id) {
        return reply
          .code(409)
          .send({ error: 'wrong_user', error_description: 'the consent was authorised by another customer' });
      }
      const accounts = body.data.accounts;
      if (accounts && !sameAccounts(accounts, check.intent.accountIds)) {
        return reply.code(400).send({
          error: 'invalid_accounts',
          error_description: `a re-authentication keeps the consent's accounts: ${check.intent.accountIds.join(', ')}`,
        });
      }
    }
    if (body.data.decision === 'reject' && check.reauthentication) {
      return scope.finishOrFail(request, reply, () =>
        bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer did not confirm the request'),
      );
    }
    if (body.data.decision === 'reject') {
      try {
        await reject(ctx, check.intent.id, {
          actor: 'psu',
          detail: `rejected by ${customer.id} (sandbox headless)`,
        });
      } catch (error) {
        if (error instanceof IntentTransitionError) {
          return reply.code(409).send({ error: error.reason, error_description: error.message });
        }
        throw error;
      }
      return scope.finishOrFail(request, reply, () =>
        bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer rejected the request'),
      );
    }
    if (check.reauthentication) {
      let reauthenticated: Intent;
      try {
        reauthenticated = await reauthenticate(ctx, check.intent.id, {
          customerId: customer.id,
          detail: `re-authenticated by customer ${customer.id} (sandbox headless)`,
        });
      } catch (error) {
        if (error instanceof IntentTransitionError) {
          return reply.code(409).send({ error: error.reason, error_description: error.message });
        }
        throw error;
      }
      const consent = { intentId: check.intent.id, scopes: details.scopes, authorised: reauthenticated };
      return scope.finishOrFail(request, reply, () =>
        details.prompt === 'login'
          ? bridge.finishLoginAndConsent(request.raw, reply.raw, login, consent)
          : bridge.finishConsent(request.raw, reply.raw, consent),
      );
    }
    const { eligible, debtorNotHeld } = eligibleAccounts(check.intent, found.accounts);
    const eligibleIds = eligible.map((account) => account.id);
    const select = KIND_INFO[check.intent.kind].accounts;
    const requested = body.data.accounts ?? (select === 'one' ? eligibleIds.slice(0, 1) : eligibleIds);
    if (debtorNotHeld || requested.length === 0 || requested.some((id) => !eligibleIds.includes(id))) {
      return reply.code(400).send({
        error: 'invalid_accounts',
        error_description: `choose from the customer's eligible accounts: ${eligibleIds.join(', ') || '(none)'}`,
      });
    }
    if (select === 'one' && requested.length !== 1) {
      return reply
        .code(400)
        .send({ error: 'invalid_accounts', error_description: 'choose exactly one account' });
    }
    let authorised: Intent;
    try {
      authorised = await authorise(ctx, check.intent.id, {
        customerId: customer.id,
        accountIds: requested,
        detail: `customer ${customer.id} (sandbox headless); accounts ${requested.join(', ')}`,
      });
    } catch (error) {
      if (error instanceof IntentTransitionError) {
        return reply.code(409).send({ error: error.reason, error_description: error.message });
      }
      throw error;
    }
    const consent = { intentId: check.intent.id, scopes: details.scopes, authorised };
    return scope.finishOrFail(request, reply, () =>
      details.prompt === 'login'
        ? bridge.finishLoginAndConsent(request.raw, reply.raw, login, consent)
        : bridge.finishConsent(request.raw, reply.raw, consent),
    );
  };
}

function sameAccounts(given: readonly string[], kept: readonly string[]): boolean {
  const set = new Set(given);
  return set.size === kept.length && kept.every((id) => set.has(id));
}
