import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { IntentKind } from '../../consent/index.ts';
import type { ApiFamily, ResourceScope } from '../../shared/psd2-roles.ts';
import { certificateBinding } from './checks/certificate-binding.ts';
import { bearerToken } from './checks/bearer-token.ts';
import { accountInConsent, consentAuthorised, consentPermits } from './checks/consent.ts';
import { fapiHeaders } from './checks/fapi-headers.ts';
import { participantActive } from './checks/participant-active.ts';
import { role } from './checks/role.ts';
import { anyScope, scope } from './checks/scope.ts';
import { tokenGrantType } from './checks/token-grant-type.ts';
import { transportCertificate } from './checks/transport-certificate.ts';
import { doneWhenSettled, isPending } from '../../shared/maybe-promise.ts';
import type { Check, GuardDependencies, GuardState } from './types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the API guard established for this request: certificate, token, consent. */
    guard?: GuardState;
  }
}

/** The API family a resource scope stands for (VRP shares PIS's `payments` scope and PISP role). */
const apiOfResource: Readonly<Record<ResourceScope, ApiFamily>> = {
  accounts: 'ais',
  payments: 'pis',
  fundsconfirmations: 'cof',
};

/**
 * The checks every protected endpoint runs, in this order (DESIGN.md, "Use"): who is on the line, which
 * token, held by a participant the directory lets act, what kind of token, bound to this line, a TPP authorised for this API (PSD2 role), for this API, resting on a live consent that covers
 * what is asked.
 */
export const guardProfiles = {
  /** POST/GET/DELETE of consents (intents): the TPP acting for itself. */
  consentEndpoint: (resource: ResourceScope): Check[] => [
    transportCertificate,
    bearerToken,
    participantActive,
    tokenGrantType('client_credentials'),
    certificateBinding,
    role(apiOfResource[resource]),
    scope(resource),
    fapiHeaders,
  ],
  /**
   * Event subscriptions and polling: the TPP acting for itself with a client_credentials token of any of
   * its resource scopes (the events files' security: accounts, payments, fundsconfirmations). No PSD2 role
   * check of its own: a TPP holds a resource scope only for a role it was registered with, and it is
   * only ever given events about its own resources.
   */
  eventEndpoint: (): Check[] => [
    transportCertificate,
    bearerToken,
    participantActive,
    tokenGrantType('client_credentials'),
    certificateBinding,
    anyScope(['accounts', 'payments', 'fundsconfirmations']),
    fapiHeaders,
  ],
  /** Account information: the PSU's authorised consent, narrowed to permissions and selected accounts. */
  accountData: (anyOfPermissions: readonly string[]): Check[] => [
    transportCertificate,
    bearerToken,
    participantActive,
    tokenGrantType('authorization_code'),
    certificateBinding,
    role('ais'),
    scope('accounts'),
    fapiHeaders,
    consentAuthorised(['account-access']),
    consentPermits(anyOfPermissions),
    accountInConsent,
  ],
  /** Payment submissions and funds confirmations: the PSU's authorised consent of the given kinds. */
  authorisedConsent: (resource: ResourceScope, kinds: readonly IntentKind[]): Check[] => [
    transportCertificate,
    bearerToken,
    participantActive,
    tokenGrantType('authorization_code'),
    certificateBinding,
    role(apiOfResource[resource]),
    scope(resource),
    fapiHeaders,
    consentAuthorised(kinds),
  ],
} as const;

/** A route's guard: a fastify preHandler, and `check` to run it again (a request checked under a newer version). */
export interface Guard extends preHandlerHookHandler {
  check(request: FastifyRequest): Promise<void>;
}

/**
 * Runs the checks in order as a fastify preHandler; the first refusal ends the request. A check that answers
 * at once (its cache hit) is followed by the next in the same tick: only a check that must wait (a cache
 * miss) costs a promise and a tick. Every check runs on every request, in the table's order.
 */
export function guard(checks: readonly Check[], dependencies: GuardDependencies): Guard {
  /** Runs checks from `first` on; a promise only once a check had to wait. */
  const runFrom = (state: GuardState, first: number): Promise<void> | undefined => {
    for (let index = first; index < checks.length; index++) {
      const waiting = checks[index]?.run(state, dependencies);
      if (isPending(waiting)) return Promise.resolve(waiting).then(() => runFrom(state, index + 1));
    }
    state.request.guard = state;
    return undefined;
  };
  const start = (request: FastifyRequest) => runFrom({ request, clock: dependencies.clock }, 0);
  const runGuard = function runGuard(request, _reply, done) {
    doneWhenSettled(() => start(request), done);
  } as Guard;
  runGuard.check = async (request) => start(request);
  return runGuard;
}

/** The state the guard left on a request that reached its handler. */
export function guarded(
  request: FastifyRequest,
): Required<Pick<GuardState, 'certificate' | 'token'>> & GuardState {
  const state = request.guard;
  if (!state?.certificate || !state.token)
    throw new Error('route handler reached without passing the API guard');
  return state as Required<Pick<GuardState, 'certificate' | 'token'>> & GuardState;
}

/** The state the guard left on a request to a consent's route: the consent it checked too. */
export function guardedWithConsent(
  request: FastifyRequest,
): Required<Pick<GuardState, 'certificate' | 'token' | 'intent'>> & GuardState {
  const state = guarded(request);
  if (!state.intent)
    throw new Error('consent route handler reached without a consent checked by the API guard');
  return state as Required<Pick<GuardState, 'certificate' | 'token' | 'intent'>> & GuardState;
}
