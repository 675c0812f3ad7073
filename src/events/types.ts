/**
 * The Open Banking event types the bank raises (Event Notification API profile), their `OBEventType1Code`
 * names (what a subscription's `EventTypes` may list), and the reason codes OB defines for them.
 */
export const EVENT_TYPES = {
  resourceUpdate: 'urn:uk:org:openbanking:events:resource-update',
  consentAuthorizationRevoked: 'urn:uk:org:openbanking:events:consent-authorization-revoked',
  /**
   * v4.0's event for access withdrawn at the bank (OBEventType1Code `UK.OB.Consent-Access-Revoked`): what
   * v3.1's consent-authorization-revoked becomes — v4.0 keeps that one "for backward compatibility" only.
   */
  consentAccessRevoked: 'urn:uk:org:openbanking:events:consent-access-revoked',
  linkedAccountUpdate: 'urn:uk:org:openbanking:events:account-access-consent-linked-account-update',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/**
 * OBEventType1Code → the event type URN it stands for. v3.1 names the codes `UK.OBIE.…`, v4.0 `UK.OB.…`;
 * either is taken on either version (a TPP moving versions keeps its list).
 */
const CODES: Readonly<Record<string, EventType>> = Object.fromEntries(
  (
    [
      ['Resource-Update', EVENT_TYPES.resourceUpdate],
      ['Consent-Authorization-Revoked', EVENT_TYPES.consentAuthorizationRevoked],
      ['Consent-Access-Revoked', EVENT_TYPES.consentAccessRevoked],
      ['Account-Access-Consent-Linked-Account-Update', EVENT_TYPES.linkedAccountUpdate],
    ] as const
  ).flatMap(([code, urn]) => [
    [`UK.OBIE.${code}`, urn],
    [`UK.OB.${code}`, urn],
  ]),
);

const URNS = new Set<string>(Object.values(EVENT_TYPES));

/**
 * The event type a subscription names, as an OBEventType1Code (`UK.OBIE.Resource-Update`,
 * `UK.OB.Consent-Access-Revoked`) or as the URN the SET carries; undefined when it is neither (or a type this
 * bank does not raise).
 */
export function eventTypeNamed(name: string): EventType | undefined {
  if (URNS.has(name)) return name as EventType;
  return CODES[name];
}
