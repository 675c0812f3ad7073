import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { scopeOfRole } from '../shared/psd2-roles.ts';
import { withRegisteredBank } from './consent-journey.ts';
import { clientCredentialsToken } from './authorization.ts';
import { issuerOf, type BankConnection } from './bank.ts';
import type { Bundle } from './bundle.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure, send } from './http.ts';
import { signRequestBody } from './message-signing.ts';
import { apiBaseOf, callApi, type ReadWriteVersion } from './open-banking.ts';

/**
 * The event types a TPP may subscribe to (OBEventType1Code), as `--types` takes them: v4.0 names them
 * `UK.OB.…`, v3.1 `UK.OBIE.…` (the bank takes either on either version).
 */
export const EVENT_TYPE_CODES = [
  'Resource-Update',
  'Consent-Access-Revoked',
  'Consent-Authorization-Revoked',
  'Account-Access-Consent-Linked-Account-Update',
].flatMap((code) => [`UK.OB.${code}`, `UK.OBIE.${code}`]);

/** A verified Security Event Token (OBEventNotification2). */
export interface VerifiedEvent {
  jti: string;
  iss: string;
  aud: string;
  iat: number;
  sub: string;
  txn: string;
  toe: number;
  /** The event type URN → its claims (`subject`, `reason`). */
  events: Record<string, { subject?: Record<string, unknown>; reason?: string }>;
}

export interface VerifyEventOptions {
  /** The bank's signing JWKS (from its directory: `bankSigningJwksUri`). */
  jwksUri: string;
  /** How old `iat` may be; the bank signs a SET when it hands it out. Default 10 minutes. */
  maxAge?: string;
}

/**
 * Verifies a SET the bank sent (polled or pushed) with jose: PS256 by a key in the bank's JWKS, `typ`
 * secevent+jwt, `iss` the bank's issuer, `aud` this TPP's client id, `iat` present and recent, and the OB
 * claims there. Throws when any of it fails; returns the claims.
 */
export async function verifyEventToken(
  bank: BankConnection,
  jwt: string,
  options: VerifyEventOptions,
): Promise<VerifiedEvent> {
  const jwks = await send(bank.agent, options.jwksUri);
  if (jwks.status !== 200) throw describeFailure("fetching the bank's JWKS", jwks);
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks.json as JSONWebKeySet), {
    algorithms: ['PS256'],
    typ: 'secevent+jwt',
    issuer: bank.issuer,
    audience: bank.clientId,
    maxTokenAge: options.maxAge ?? '10m',
    requiredClaims: ['iss', 'iat', 'jti', 'aud', 'sub', 'txn', 'toe', 'events'],
  });
  return asVerifiedEvent(payload);
}

function asVerifiedEvent(payload: JWTPayload): VerifiedEvent {
  const { events, txn, toe } = payload as JWTPayload & { events?: unknown; txn?: unknown; toe?: unknown };
  if (typeof events !== 'object' || events === null || Array.isArray(events))
    throw new Error('the event token has no events object');
  if (typeof txn !== 'string' || typeof toe !== 'number') throw new Error('the event token lacks txn or toe');
  return {
    jti: payload.jti as string,
    iss: payload.iss as string,
    aud: payload.aud as string,
    iat: payload.iat as number,
    sub: payload.sub as string,
    txn,
    toe,
    events: events as VerifiedEvent['events'],
  };
}

/** Where the bank's message-signing keys are: its entry in the directory's list of banks (`/aspsps`). */
export async function bankSigningJwksUri(
  bank: BankConnection,
  bundle: Bundle,
  discoveryUrl: string,
): Promise<string> {
  const response = await send(bank.agent, `${bundle.summary.directory.url}/directory/v1/aspsps`);
  if (response.status !== 200) throw describeFailure("reading the directory's list of banks", response);
  const wanted = issuerOf(discoveryUrl).href.replace(/\/$/, '');
  const found = (
    response.json as { aspsps?: { discoveryUrl: string; signingJwksUri?: string }[] }
  ).aspsps?.find((aspsp) => issuerOf(aspsp.discoveryUrl).href.replace(/\/$/, '') === wanted);
  if (!found?.signingJwksUri)
    throw new Error(`the directory lists no signing keys for the bank at ${wanted}`);
  return found.signingJwksUri;
}

/** The scopes of the bundle's roles: any one of them opens the event APIs. */
function eventScopes(bundle: Bundle): string {
  const scopes = bundle.summary.software.roles.flatMap((role) => scopeOfRole[role] ?? []);
  if (scopes.length === 0) throw new TppUsageError('the software has no AISP, PISP or CBPII role');
  return [...new Set(scopes)].join(' ');
}

/** OBEventSubscriptionResponse1's Data. */
export interface EventSubscription {
  EventSubscriptionId: string;
  CallbackUrl?: string;
  Version: string;
  EventTypes?: string[];
}

export interface EventsConnectionOptions {
  bundle: Bundle;
  bank?: string;
  trust: string[];
  /** Default 4.0. */
  apiVersion?: ReadWriteVersion;
}

/** Connects to the bank the bundle is registered at, runs `work` with a client_credentials token, closes. */
async function withEventsAccess<T>(
  options: EventsConnectionOptions,
  work: (access: { bank: BankConnection; token: string; base: string; discoveryUrl: string }) => Promise<T>,
): Promise<T> {
  return withRegisteredBank(options, async (bank, registration) => {
    const token = (await clientCredentialsToken(bank, eventScopes(options.bundle))).access_token;
    const base = apiBaseOf(bank, undefined, options.apiVersion ?? '4.0');
    return work({ bank, token, base, discoveryUrl: registration.discoveryUrl });
  });
}

/**
 * Creates the TPP's event subscription (`POST /event-subscriptions`, signed): with a callback URL the bank
 * pushes events there, without one the TPP polls. `types` are OBEventType1Codes; none: every type.
 */
export async function subscribeToEvents(
  options: EventsConnectionOptions & { callbackUrl?: string; types?: string[] },
): Promise<EventSubscription> {
  return withEventsAccess(options, async ({ bank, token, base }) => {
    const body = JSON.stringify({
      Data: {
        ...(options.callbackUrl ? { CallbackUrl: options.callbackUrl } : {}),
        Version: options.apiVersion ?? '4.0',
        ...(options.types && options.types.length > 0 ? { EventTypes: options.types } : {}),
      },
    });
    const response = await callApi(bank, token, `${base}/event-subscriptions`, {
      method: 'POST',
      body,
      headers: { 'x-jws-signature': await signRequestBody(bank, options.bundle, body) },
    });
    if (response.status !== 201) throw describeFailure('creating the event subscription', response);
    return (response.json as { Data: EventSubscription }).Data;
  });
}

export interface PolledEvents {
  /** Each SET handed out, verified. */
  events: VerifiedEvent[];
  /** The jtis acknowledged by this call (with `ack`: every event handed out). */
  acknowledged: string[];
  moreAvailable: boolean;
}

/**
 * Polls the bank's events (`POST /events`), verifies each SET's signature, and with `ack` acknowledges
 * those it verified in a second call (`maxEvents: 0`); an event that fails verification is reported back
 * with `setErrs` (`jwtSig`/`jwtIss`/`jwtAud`, RFC 8935) rather than acknowledged.
 */
export async function pollEvents(
  options: EventsConnectionOptions & { ack?: boolean; maxEvents?: number },
): Promise<PolledEvents> {
  return withEventsAccess(options, async ({ bank, token, base, discoveryUrl }) => {
    const response = await callApi(bank, token, `${base}/events`, {
      method: 'POST',
      body: {
        returnImmediately: true,
        ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
      },
    });
    if (response.status !== 200) throw describeFailure('polling the events', response);
    const polled = response.json as { sets: Record<string, string>; moreAvailable: boolean };
    const jwksUri = await bankSigningJwksUri(bank, options.bundle, discoveryUrl);
    const events: VerifiedEvent[] = [];
    const setErrs: Record<string, { err: string; description: string }> = {};
    for (const [jti, jwt] of Object.entries(polled.sets)) {
      try {
        const event = await verifyEventToken(bank, jwt, { jwksUri });
        if (event.jti !== jti) throw new Error(`the SET under ${jti} says jti ${event.jti}`);
        events.push(event);
      } catch (error) {
        setErrs[jti] = {
          err: 'jwtSig',
          description: (error as Error).message.slice(0, 256) || 'invalid SET',
        };
      }
    }
    const acknowledged = options.ack ? events.map((event) => event.jti) : [];
    if (acknowledged.length > 0 || Object.keys(setErrs).length > 0) {
      const answer = await callApi(bank, token, `${base}/events`, {
        method: 'POST',
        body: {
          maxEvents: 0,
          ...(acknowledged.length > 0 ? { ack: acknowledged } : {}),
          ...(Object.keys(setErrs).length > 0 ? { setErrs } : {}),
        },
      });
      if (answer.status !== 200) throw describeFailure('acknowledging the events', answer);
    }
    return { events, acknowledged, moreAvailable: polled.moreAvailable };
  });
}
