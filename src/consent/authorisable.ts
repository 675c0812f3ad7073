import { endedByTime, type Intent } from './intents.ts';
import { KIND_INFO, RESOURCE_SCOPES, type ResourceScope } from './kinds.ts';

/**
 * Whether an authorization request may go on to the PSU for this intent: what the authorization server
 * checks on the `openbanking_intent_id` claim, and what the consent app checks again before every page.
 */
export type NotAuthorisableReason =
  'not_found' | 'wrong_client' | 'not_awaiting_authorisation' | 'expired' | 'scope_mismatch';

/**
 * `reauthentication`: the intent is already Authorised and the request re-authenticates it (same ConsentId,
 * same PSU, same accounts; it stays Authorised), rather than authorising it for the first time.
 */
export type AuthorisableCheck =
  | { ok: true; intent: Intent; reauthentication: boolean }
  | { ok: false; reason: NotAuthorisableReason; message: string };

export interface AuthorisableOptions {
  /**
   * Whether an Authorised intent of a kind that may be re-authenticated is accepted (see
   * `KIND_INFO[kind].reauthenticatable`): the redirect flow and its consent app offer it; the decoupled
   * (CIBA) flow does not, so it leaves this off.
   */
  reauthentication?: boolean;
}

/** Whether the PSU may re-authenticate this intent: Authorised, of a long-lived kind that allows it. */
export function mayReauthenticate(intent: Pick<Intent, 'status' | 'kind'>): boolean {
  return intent.status === 'Authorised' && KIND_INFO[intent.kind].reauthenticatable;
}

export class IntentNotAuthorisableError extends Error {
  override name = 'IntentNotAuthorisableError';
  readonly reason: NotAuthorisableReason;
  constructor(reason: NotAuthorisableReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Checks, in this order: the intent exists, was staged by `clientId`, is AwaitingAuthorisation (or, with
 * `options.reauthentication`, Authorised and of a kind that may be re-authenticated), has not been ended
 * by time (`endedByTime`: its expiry, or `Data.Authorisation.CompletionDateTime` while awaiting
 * authorisation), and `scopes` ask for exactly the resource scope of its kind (accounts → account access;
 * payments → payment kinds and VRP; fundsconfirmations → funds confirmation); another resource scope
 * alongside it is refused too, as one grant rests on one intent.
 */
export function checkIntentAuthorisable(
  intent: Intent | undefined,
  clientId: string,
  scopes: readonly string[],
  now: Date,
  options: AuthorisableOptions = {},
): AuthorisableCheck {
  if (!intent) return { ok: false, reason: 'not_found', message: 'the intent does not exist' };
  if (intent.clientId !== clientId) {
    return { ok: false, reason: 'wrong_client', message: 'the intent was staged by another client' };
  }
  const reauthentication = options.reauthentication === true && mayReauthenticate(intent);
  if (intent.status !== 'AwaitingAuthorisation' && !reauthentication) {
    return {
      ok: false,
      reason: 'not_awaiting_authorisation',
      message:
        options.reauthentication === true && KIND_INFO[intent.kind].reauthenticatable
          ? `the intent is ${intent.status}: only an AwaitingAuthorisation intent can be authorised, and only an Authorised one re-authenticated`
          : `the intent is ${intent.status}, not AwaitingAuthorisation`,
    };
  }
  const ended = endedByTime(intent, now);
  if (ended !== undefined) {
    return {
      ok: false,
      reason: 'expired',
      message:
        ended.cause === 'expiry'
          ? 'the intent has expired'
          : 'the intent was not authorised by its Data.Authorisation.CompletionDateTime',
    };
  }
  const needed = KIND_INFO[intent.kind].scope;
  const requested = RESOURCE_SCOPES.filter((scope: ResourceScope) => scopes.includes(scope));
  if (!requested.includes(needed)) {
    return {
      ok: false,
      reason: 'scope_mismatch',
      message: `a ${intent.kind} intent needs the ${needed} scope`,
    };
  }
  if (requested.length > 1) {
    return {
      ok: false,
      reason: 'scope_mismatch',
      message: `a ${intent.kind} intent is authorised under the ${needed} scope alone, not ${requested.join(' ')}`,
    };
  }
  return { ok: true, intent, reauthentication };
}

/** As `checkIntentAuthorisable`, but throws an `IntentNotAuthorisableError` carrying the reason. */
export function assertIntentAuthorisable(
  intent: Intent | undefined,
  clientId: string,
  scopes: readonly string[],
  now: Date,
): Intent {
  const check = checkIntentAuthorisable(intent, clientId, scopes, now);
  if (!check.ok) throw new IntentNotAuthorisableError(check.reason, check.message);
  return check.intent;
}
