import type { KeyObject } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { getPayment, PAYMENT_RESOURCE_TYPE } from '../../bank/index.ts';
import { getIntent } from '../../consent/index.ts';
import type { StoredEvent } from '../../events/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Db } from '../http/idempotency.ts';
import {
  API_VERSIONS,
  consentUsableOn,
  VERSION_BASES,
  type ApiVersion,
  type VersionBases,
} from '../versions.ts';

/** How the bank signs Security Event Tokens: its message-signing key (PS256), as for its API responses. */
export interface EventSigningKey {
  key: CryptoKey | KeyObject;
  kid: string;
}

export interface EventTokenContext {
  db: Db;
  clock: Clock;
  signing: EventSigningKey;
  /** `iss` of every SET: the bank's authorization server issuer (what a TPP knows the bank by). */
  issuer: string;
  /** The mutual-TLS origin the resource links point at. */
  mtlsOrigin: string;
}

/** The OB namespace of the subject's claims. */
const OB = 'http://openbanking.org.uk';

/** RFC 8417 §2.3: the media type of a SET, as its `typ`. */
const SET_TYPE = 'secevent+jwt';

/** Where each resource type lives: its API family; the path is `/<rty>s/<rid>` for every one of them. */
const FAMILY_OF: Readonly<Record<string, keyof VersionBases>> = {
  'account-access-consent': 'aisp',
  'funds-confirmation-consent': 'cbpii',
  'domestic-vrp-consent': 'pisp',
  ...Object.fromEntries(Object.values(PAYMENT_RESOURCE_TYPE).map((type) => [type, 'pisp' as const])),
};

function servedOn(version: ApiVersion, resourceType: string): string | undefined {
  const family = FAMILY_OF[resourceType];
  if (!family) return undefined;
  return VERSION_BASES[version][family];
}

/**
 * The version a resource was made on: a consent's own, a payment's consent's. A payment whose consent
 * is gone counts as v3.1.11's (the oldest), so its links still name where it can be read.
 */
async function versionOf(db: Db, event: StoredEvent): Promise<string | undefined> {
  if (event.resourceVersion) return event.resourceVersion;
  const payment = await getPayment(db, event.resourceId);
  if (!payment) return undefined;
  return (await getIntent(db, payment.consentId))?.apiVersion;
}

/**
 * The resource's links, one per version that serves it (the subject's `rlk`: "must contain links to all
 * supported versions of the resource"), newest first: `sub` is the first.
 */
async function resourceLinks(context: EventTokenContext, event: StoredEvent) {
  const madeOn = await versionOf(context.db, event);
  return [...API_VERSIONS]
    .reverse()
    .filter((version) => consentUsableOn(madeOn, version))
    .flatMap((version) => {
      const base = servedOn(version, event.resourceType);
      if (!base) return [];
      const link = `${context.mtlsOrigin}${base}/${event.resourceType}s/${encodeURIComponent(event.resourceId)}`;
      return [{ version: version.replace(/^v/, ''), link }];
    });
}

/**
 * The SET (OBEventNotification2) of a stored event, signed now with the bank's current key: `iat` is the
 * signing time, `toe` the time of the change, `jti` the event's id (stable across re-deliveries).
 *
 * Signed when handed out rather than when raised: the bank core that raises events (consent, ledger,
 * scheduler) holds no key; a key rotated after the event was raised still signs it with a key the TPP can
 * find in the bank's JWKS; and its links name the versions served when it is read.
 */
export async function signedEventToken(context: EventTokenContext, event: StoredEvent): Promise<string> {
  const links = await resourceLinks(context, event);
  const first = links[0];
  if (!first) throw new Error(`no version serves a ${event.resourceType} (event ${event.id})`);
  const subject = {
    subject_type: `${OB}/rid_${OB}/rty`,
    [`${OB}/rid`]: event.resourceId,
    [`${OB}/rty`]: event.resourceType,
    [`${OB}/rlk`]: links,
  };
  return new SignJWT({
    jti: event.id,
    sub: first.link,
    txn: event.txn,
    toe: Math.floor(event.occurredAt.getTime() / 1000),
    events: { [event.type]: { ...event.detail, subject } },
  })
    .setProtectedHeader({ alg: 'PS256', kid: context.signing.kid, typ: SET_TYPE })
    .setIssuer(context.issuer)
    .setAudience(event.clientId)
    .setIssuedAt(Math.floor(context.clock.now().getTime() / 1000))
    .sign(context.signing.key);
}
