import type { FastifyRequest } from 'fastify';
import type { Intent } from '../../consent/index.ts';
import type { ClientCertificate } from '../../shared/client-certificate.ts';
import type { Clock } from '../../shared/clock.ts';
import type { MaybePromise } from '../../shared/maybe-promise.ts';
import type { ParticipantVerdict } from '../../shared/participant-status.ts';
import type { ObRole } from '../../shared/psd2-roles.ts';

/** What the guard needs to know of an access token; the authorization server supplies it. */
export interface AccessTokenView {
  clientId: string;
  scopes: ReadonlySet<string>;
  /** How it was obtained: consent endpoints take client_credentials tokens, data endpoints PSU-authorised ones. */
  grantType: 'client_credentials' | 'authorization_code';
  /** RFC 8705 `cnf.x5t#S256` of the certificate it is bound to. */
  certificateThumbprint: string | undefined;
  /** The intent (consent) the PSU authorised, for authorization_code tokens. */
  intentId: string | undefined;
  /** The bank customer who authorised it. */
  customerId: string | undefined;
  expiresAt: Date;
  /** The PSD2 roles its client is registered with. */
  roles: readonly ObRole[];
}

/** Finds a live access token by its value; undefined when unknown, expired or revoked. A cache hit is answered at once. */
export interface TokenSource {
  find(token: string): MaybePromise<AccessTokenView | undefined>;
}

/**
 * Tokens that stopped working before their expiry: one access token (RFC 7009 revocation), or every token
 * of a client (its registration deleted). `token` is the token's value.
 */
export type TokenRevocation = { token: string } | { clientId: string };

/** Reads an intent for the guard; a cache may stand in front of the store. */
export interface IntentSource {
  find(intentId: string): MaybePromise<Intent | undefined>;
}

/** The state one request accumulates as it passes the checks; later checks read what earlier ones found. */
export interface GuardState {
  readonly request: FastifyRequest;
  readonly clock: Clock;
  certificate?: ClientCertificate;
  token?: AccessTokenView;
  intent?: Intent;
}

/** Whether the participant (organisation, software statement) behind a client is Active at its directory. */
export interface ParticipantSource {
  checkClient(clientId: string): MaybePromise<ParticipantVerdict>;
}

export interface GuardDependencies {
  tokens: TokenSource;
  intents: IntentSource;
  participants: ParticipantSource;
  clock: Clock;
}

/**
 * One named check: it throws an ObError (or rejects with one) to refuse, or returns to let the next one run.
 * A check that has what it needs at hand (a cache hit) returns no promise: the pipeline then runs the next
 * check in the same tick.
 */
export interface Check {
  readonly name: string;
  run(state: GuardState, dependencies: GuardDependencies): MaybePromise<void>;
}
